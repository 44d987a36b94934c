import COpenSSL

/// An error from a PIICrypto primitive.
///
/// Modelled on PostgresNIO's `PSQLError`: an extensible opaque ``Code`` and a short, safe
/// ``context`` (never keys, plaintext or PII). The OpenSSL error queue that was pending when the
/// error was made is drained into ``debugDescription`` only, so logs that print the error with
/// `"\(error)"` stay generic.
public struct CryptoError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// What went wrong, as a comparable value (`error.code == .authenticationFailure`).
    public struct Code: Hashable, Sendable, CustomStringConvertible, CaseIterable {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// An AEAD tag did not verify: wrong key, wrong associated data, tampered or truncated input.
        public static let authenticationFailure = Code("authenticationFailure")
        /// A key has the wrong length or is not a valid key of the expected type.
        public static let invalidKey = Code("invalidKey")
        /// An input (nonce, encapsulated key, encoding, length) is malformed.
        public static let invalidInput = Code("invalidInput")
        /// An HPKE context has used all of its sequence numbers.
        public static let messageLimitReached = Code("messageLimitReached")
        /// OpenSSL reported an internal failure.
        public static let openSSLFailure = Code("openSSLFailure")

        public static let allCases: [Code] = [
            .authenticationFailure, .invalidKey, .invalidInput, .messageLimitReached, .openSSLFailure,
        ]

        public var description: String { name }
    }

    /// What went wrong.
    public let code: Code
    /// A short, secret-free description of the operation that failed.
    public let context: String
    /// The OpenSSL error queue at the time of the error (library/reason strings, no data).
    public let openSSLErrors: [String]

    /// Makes an error and drains the calling thread's OpenSSL error queue into it.
    public init(_ code: Code, _ context: String) {
        self.code = code
        self.context = context
        self.openSSLErrors = Self.drainOpenSSLErrors()
    }

    public var description: String { "crypto error \(code): \(context)" }

    public var debugDescription: String {
        openSSLErrors.isEmpty ? description : description + " [openssl: " + openSSLErrors.joined(separator: "; ") + "]"
    }

    /// Empties the thread-local OpenSSL error queue, so a stale entry never shows up on a later error.
    static func drainOpenSSLErrors() -> [String] {
        var errors: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if errors.count >= 8 { continue }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            errors.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return errors
    }
}

extension CryptoError: Equatable {
    /// Errors compare by code and context; the OpenSSL queue is diagnostic only.
    public static func == (lhs: CryptoError, rhs: CryptoError) -> Bool {
        lhs.code == rhs.code && lhs.context == rhs.context
    }
}
