/// One valid login message (SPEC §2), ready to be tokenized and stored.
public struct LoginMessage: Sendable, Equatable {
    /// Non-empty, ≤ 128 characters, no NUL.
    public var userID: String
    /// ≤ 32 characters, no NUL; nil when null or absent ("" is kept as "").
    public var deviceType: String?
    /// Non-empty, ≤ 256 characters (only its token is stored).
    public var ip: String
    /// ≤ 32 characters, no NUL; nil when null or absent ("" is kept as "").
    public var locale: String?
    /// Non-empty, ≤ 256 characters (only its token is stored).
    public var deviceID: String
    /// The raw `app_version`, ≤ 64 characters, no NUL; nil when null or absent.
    public var appVersionRaw: String?
    /// `AppVersion.encode(appVersionRaw)`.
    public var appVersion: Int32?

    /// A message with `appVersion` derived from `appVersionRaw`.
    public init(
        userID: String,
        deviceType: String?,
        ip: String,
        locale: String?,
        deviceID: String,
        appVersionRaw: String?
    ) {
        self.userID = userID
        self.deviceType = deviceType
        self.ip = ip
        self.locale = locale
        self.deviceID = deviceID
        self.appVersionRaw = appVersionRaw
        self.appVersion = AppVersion.encode(appVersionRaw)
    }

    /// Column limits in characters (Unicode scalars, as PostgreSQL's `varchar(n)` counts them).
    public enum Limits {
        public static let userID = 128
        public static let deviceType = 32
        public static let ip = 256
        public static let locale = 32
        public static let deviceID = 256
        public static let appVersionRaw = 64
    }
}

/// Why a message body is not a valid login message. The description names at most a field,
/// never a value from the body (it is stored in clear in `etl_quarantine.reason` and logged).
public struct InvalidMessage: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable, Hashable {
        /// Not one well-formed JSON value (RFC 8259), or nested deeper than 64 levels.
        case notJSON
        /// Well-formed JSON, but not an object.
        case notAnObject
        /// A required field (`user_id`, `ip`, `device_id`) is absent.
        case missingField(String)
        /// A field is present with the wrong JSON type (required: null or not a string;
        /// optional: neither a string nor null).
        case wrongType(String)
        /// A required field is the empty string.
        case emptyField(String)
        /// A string is longer than its column (in characters).
        case tooLong(String)
        /// The body is not well-formed UTF-8.
        case invalidUTF8
        /// A string stored as text contains U+0000, which PostgreSQL text cannot hold.
        case invalidCharacter(String)
        /// The body is larger than SQS's maximum (``IncomingMessage/maxBodyBytes``); it is
        /// not parsed at all.
        case tooLarge
    }

    public let reason: Reason

    public init(reason: Reason) {
        self.reason = reason
    }

    /// A short fixed text (≤ 60 characters).
    public var description: String {
        switch reason {
        case .notJSON: "body is not valid JSON"
        case .notAnObject: "body is not a JSON object"
        case .missingField(let field): "missing required field \(field)"
        case .wrongType(let field): "field \(field) is not a string"
        case .emptyField(let field): "field \(field) is empty"
        case .tooLong(let field):
            if let limit = InvalidMessage.limit(of: field) {
                "field \(field) longer than \(limit) characters"
            } else {
                "field \(field) too long"
            }
        case .invalidUTF8: "body is not valid UTF-8"
        case .invalidCharacter(let field): "field \(field) contains a NUL character"
        case .tooLarge: "body larger than \(IncomingMessage.maxBodyBytes) bytes"
        }
    }

    /// A low-cardinality label (for metrics): `not_json`, `missing_field`, ….
    public var label: String {
        switch reason {
        case .notJSON: "not_json"
        case .notAnObject: "not_an_object"
        case .missingField: "missing_field"
        case .wrongType: "wrong_type"
        case .emptyField: "empty_field"
        case .tooLong: "too_long"
        case .invalidUTF8: "invalid_utf8"
        case .invalidCharacter: "invalid_character"
        case .tooLarge: "too_large"
        }
    }

    static func limit(of field: String) -> Int? {
        switch field {
        case "user_id": LoginMessage.Limits.userID
        case "device_type": LoginMessage.Limits.deviceType
        case "ip": LoginMessage.Limits.ip
        case "locale": LoginMessage.Limits.locale
        case "device_id": LoginMessage.Limits.deviceID
        case "app_version": LoginMessage.Limits.appVersionRaw
        default: nil
        }
    }
}

/// Body → ``LoginMessage`` (SPEC §2).
///
/// Valid: one JSON object (strict RFC 8259, see `JSONObjectScanner`) whose `user_id`, `ip`
/// and `device_id` are non-empty strings and whose `device_type`, `locale`, `app_version` are
/// strings, null or absent; every string fits its column, counted in characters (Unicode
/// scalars, like PostgreSQL `varchar(n)`): user_id 128, device_type 32, ip 256, locale 32,
/// device_id 256, app_version 64. Strings stored as text (user_id, device_type, locale,
/// app_version) must not contain U+0000. Unknown keys are ignored; duplicate keys: the last
/// wins. An empty optional string stays "" (not NULL); strings are not trimmed.
///
/// Fields are checked in the order user_id, device_type, ip, locale, device_id, app_version;
/// the first problem is reported.
public enum LoginMessageParser {
    public static func parse(_ body: String) -> Result<LoginMessage, InvalidMessage> {
        if let result = body.utf8.withContiguousStorageIfAvailable({ parse(utf8: $0) }) { return result }
        return Array(body.utf8).withUnsafeBufferPointer { parse(utf8: $0) }
    }

    public static func parse(utf8 body: [UInt8]) -> Result<LoginMessage, InvalidMessage> {
        body.withUnsafeBufferPointer { parse(utf8: $0) }
    }

    public static func parse(utf8 body: UnsafeBufferPointer<UInt8>) -> Result<LoginMessage, InvalidMessage> {
        switch JSONObjectScanner.scan(body) {
        case .failure(.notJSON): return .failure(InvalidMessage(reason: .notJSON))
        case .failure(.notAnObject): return .failure(InvalidMessage(reason: .notAnObject))
        case .failure(.invalidUTF8): return .failure(InvalidMessage(reason: .invalidUTF8))
        case .success(let fields):
            do throws(InvalidMessage) {
                typealias L = LoginMessage.Limits
                // Only strings decoded from escapes can hold U+0000 (a raw NUL byte is not JSON).
                func nul(_ key: JSONObjectScanner.Key) -> Bool { fields.isEscaped(key) }
                let userID = try required(fields.userID, "user_id", limit: L.userID, checkNUL: nul(.userID))
                let deviceType = try optional(fields.deviceType, "device_type", limit: L.deviceType, checkNUL: nul(.deviceType))
                let ip = try required(fields.ip, "ip", limit: L.ip, checkNUL: false)
                let locale = try optional(fields.locale, "locale", limit: L.locale, checkNUL: nul(.locale))
                let deviceID = try required(fields.deviceID, "device_id", limit: L.deviceID, checkNUL: false)
                let appVersionRaw = try optional(
                    fields.appVersion, "app_version", limit: L.appVersionRaw, checkNUL: nul(.appVersion))
                return .success(
                    LoginMessage(
                        userID: userID, deviceType: deviceType, ip: ip, locale: locale,
                        deviceID: deviceID, appVersionRaw: appVersionRaw))
            } catch {
                return .failure(error)
            }
        }
    }

    @inline(__always)
    private static func required(
        _ value: JSONObjectScanner.Value, _ field: String, limit: Int, checkNUL: Bool
    ) throws(InvalidMessage) -> String {
        switch value {
        case .absent: throw InvalidMessage(reason: .missingField(field))
        case .null, .other: throw InvalidMessage(reason: .wrongType(field))
        case .string(let string):
            guard !string.isEmpty else { throw InvalidMessage(reason: .emptyField(field)) }
            try check(string, field, limit: limit, checkNUL: checkNUL)
            return string
        }
    }

    @inline(__always)
    private static func optional(
        _ value: JSONObjectScanner.Value, _ field: String, limit: Int, checkNUL: Bool
    ) throws(InvalidMessage) -> String? {
        switch value {
        case .absent, .null: return nil
        case .other: throw InvalidMessage(reason: .wrongType(field))
        case .string(let string):
            try check(string, field, limit: limit, checkNUL: checkNUL)
            return string
        }
    }

    @inline(__always)
    private static func check(_ string: String, _ field: String, limit: Int, checkNUL: Bool) throws(InvalidMessage) {
        let utf8 = string.utf8
        // Characters ≤ bytes: only long byte strings need counting.
        if utf8.count > limit, string.unicodeScalars.count > limit {
            throw InvalidMessage(reason: .tooLong(field))
        }
        if checkNUL, utf8.contains(0) {
            throw InvalidMessage(reason: .invalidCharacter(field))
        }
    }
}
