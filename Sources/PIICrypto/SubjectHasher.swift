/// Keyed hashes of user ids for erasure tombstones (`vault subject forget`): the tombstone
/// names an erased subject without holding its id, and only a holder of the subject key can
/// test an id against it.
///
/// `hash = hex(HMAC-SHA256(K_subject, UTF-8(user_id)))` with
/// `K_subject = HKDF-SHA256(IKM = subject root key (keys/subject.key), salt = "", info =
/// "fetchde/subject/v1", L = 32)`. The subject root key is its own secret, not a token key:
/// a tombstone stays valid across token-key rotations and `vault retokenize`.
public struct SubjectHasher: Sendable {
    private let key: TokenFieldKey
    /// The public check value of the root key (stored in `fetchde.subject_key`).
    public let keyCheck: String

    public init(rootKey: SecureBytes) {
        let derived = HKDFSHA256.deriveKey(ikm: rootKey, salt: [], info: Array("fetchde/subject/v1".utf8), length: 32)
        do {
            key = try TokenFieldKey(key: derived)
        } catch {
            fatalError("cannot create subject HMAC contexts: \(String(reflecting: error))")
        }
        let check = HMACSHA256.authenticationCode(key: rootKey, message: Array("fetchde/subject-key-check/v1".utf8))
        keyCheck = Hex.encode(Array(check.prefix(16)))
    }

    /// The 64-character lowercase hex hash of `userID`.
    public func hash(_ userID: String) -> String {
        digest(userID).hex
    }

    /// The hash of `userID` as its 32 bytes.
    public func digest(_ userID: String) -> SubjectDigest {
        var value = userID
        return value.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { scratch in
                let mac = scratch.baseAddress!
                key.authenticate(utf8.baseAddress ?? UnsafePointer(mac), count: utf8.count, into: mac)
                return SubjectDigest(bytes: mac)
            }
        }
    }
}
