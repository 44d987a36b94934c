/// A key file could not be used. ``description`` is one line naming the file and, where the
/// operator can fix it, how (e.g. the `chmod` to run). It never contains key material.
public struct KeyFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong with the file.
    public enum Kind: Sendable, Equatable {
        /// The file does not exist.
        case missing
        /// The file exists but cannot be opened or read (permissions, I/O error, not a file).
        case unreadable
        /// A secret key file has group or other permission bits set.
        case loosePermissions
        /// Refused to overwrite an existing key file.
        case alreadyExists
        /// The contents are not a key of the expected kind.
        case malformed
        /// The passphrase-protected private key could not be decrypted.
        case wrongPassphrase
    }

    /// What is wrong.
    public let kind: Kind
    /// The file's path as configured (not resolved).
    public let path: String
    /// The file's permission bits, for ``Kind/loosePermissions``.
    public let mode: UInt32?
    /// A short safe detail (an `errno` text, what was expected).
    public let detail: String?

    public init(_ kind: Kind, path: String, mode: UInt32? = nil, detail: String? = nil) {
        self.kind = kind
        self.path = path
        self.mode = mode
        self.detail = detail
    }

    public var description: String {
        let suffix = detail.map { " (\($0))" } ?? ""
        switch kind {
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
        }
    }
}
