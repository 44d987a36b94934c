/// A key file could not be used. ``description`` is one line naming the file and, where the
/// operator can fix it, how (e.g. the `chmod` to run). It never contains key material.
public struct KeyFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong with the file, as an extensible opaque code (`error.code == .missing`).
    public struct Code: Hashable, Sendable, CustomStringConvertible, CaseIterable {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The file does not exist.
        public static let missing = Code("missing")
        /// The file exists but cannot be opened or read (permissions, I/O error, not a file).
        public static let unreadable = Code("unreadable")
        /// A secret key file has group or other permission bits set.
        public static let loosePermissions = Code("loosePermissions")
        /// Refused to overwrite an existing key file.
        public static let alreadyExists = Code("alreadyExists")
        /// The contents are not a key of the expected kind.
        public static let malformed = Code("malformed")
        /// The passphrase-protected private key could not be decrypted (wrong or no passphrase).
        /// The only model of a wrong passphrase: the primitives report a key they cannot open
        /// as ``CryptoError/Code/invalidKey``, the key directory names the file.
        public static let wrongPassphrase = Code("wrongPassphrase")

        public static let allCases: [Code] = [.missing, .unreadable, .loosePermissions, .alreadyExists, .malformed, .wrongPassphrase]
        public var description: String { name }
    }

    /// What is wrong.
    public let code: Code
    /// The file's path as configured (not resolved).
    public let path: String
    /// The file's permission bits, for ``Code/loosePermissions``.
    public let mode: UInt32?
    /// A short safe detail (an `errno` text, what was expected).
    public let detail: String?

    public init(_ code: Code, path: String, mode: UInt32? = nil, detail: String? = nil) {
        self.code = code
        self.path = path
        self.mode = mode
        self.detail = detail
    }

    public var description: String {
        let suffix = detail.map { " (\($0))" } ?? ""
        switch code {
        case .missing:
            return "key file \(path) does not exist"
        case .unreadable:
            return "key file \(path) cannot be read\(suffix)"
        case .loosePermissions:
            let bits = (mode ?? 0) & 0o777
            let octal = String(bits, radix: 8)
            let shown = String(repeating: "0", count: max(0, 4 - octal.count)) + octal
            let what = bits & 0o044 != 0 ? "readable" : "accessible"
            return "key file \(path) is \(what) by group or others (mode \(shown)); run: chmod 600 \(path)"
        case .alreadyExists:
            return "key file \(path) already exists; refusing to overwrite it"
        case .malformed:
            return "key file \(path) is malformed\(suffix)"
        case .wrongPassphrase:
            return "key file \(path) could not be decrypted: wrong or missing passphrase"
        default:
            return "key file \(path) cannot be used\(suffix)"
        }
    }
}
