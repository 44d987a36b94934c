/// Deterministic tokens for PII values (SPEC §3).
///
/// `token = hex(HMAC-SHA256(K_field, canonical(value)))` with
/// `K_field = HKDF-SHA256(IKM = rootKey, salt = "", info = "fetchde/token/v1/" + field, L = 32)`.
/// The same value in the same field under the same key version always gives the same token, so
/// analysts can `GROUP BY` tokens; without the root key a token reveals nothing about the value.
///
/// Fast path: the per-field HMAC key blocks are absorbed once, so a token costs two SHA-256
/// compressions, a canonicalization into a stack buffer and a hex encode (no Foundation).
/// Safe to share between threads and tasks.
public struct Tokenizer: Sendable {
    /// Key version of the root key, recorded next to every token it produces.
    public let version: Int
    private let ipKey: TokenFieldKey
    private let deviceIDKey: TokenFieldKey

    /// A tokenizer for `rootKey` (32 random bytes, the token key of `version`).
    public init(rootKey: SecureBytes, version: Int) {
        self.version = version
        do {
            ipKey = try TokenFieldKey(key: Self.fieldKey(rootKey: rootKey, field: .ip))
            deviceIDKey = try TokenFieldKey(key: Self.fieldKey(rootKey: rootKey, field: .deviceID))
        } catch {
            // Only on allocation failure inside OpenSSL; no tokenizer is possible then.
            fatalError("cannot create token HMAC contexts: \(String(reflecting: error))")
        }
    }

    /// `K_field` for `field`.
    static func fieldKey(rootKey: SecureBytes, field: PIIField) -> SecureBytes {
        HKDFSHA256.deriveKey(ikm: rootKey, salt: [], info: Array("fetchde/token/v1/\(field.rawValue)".utf8), length: 32)
    }

    /// The 64-character lowercase hex token of `value` in `field`. IP values are canonicalized
    /// first (``IPAddressCanonicalizer``); device ids are taken as given.
    public func token(_ value: String, field: PIIField) -> String {
        var value = value
        return value.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 96) { scratch in
                let mac = scratch.baseAddress!
                let text = mac + 32
                switch field {
                case .ip:
                    if let length = IPAddressCanonicalizer.canonicalize(utf8, into: text) {
                        ipKey.authenticate(text, count: length, into: mac)
                    } else {
                        ipKey.authenticate(utf8.baseAddress ?? UnsafePointer(mac), count: utf8.count, into: mac)
                    }
                case .deviceID:
                    deviceIDKey.authenticate(utf8.baseAddress ?? UnsafePointer(mac), count: utf8.count, into: mac)
                }
                return Hex.encode32(mac)
            }
        }
    }
}
