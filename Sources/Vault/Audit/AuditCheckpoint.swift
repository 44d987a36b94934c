public import PIICrypto

/// A signed record of the audit chain's head (`vault audit checkpoint`), kept outside the
/// database: a chain a superuser rewrote whole, consistently, no longer contains this head,
/// which `vault audit --verify --from` detects.
///
/// The signature is Ed25519 (through OpenSSL) under `keys/audit-checkpoint.key` over
/// ``signedMessage``; the public key is in the file for reference, but verification uses the
/// key in the keys directory, never the one the file names.
public struct AuditCheckpoint: Codable, Sendable, Equatable {
    public static let formatName = "fetchde-audit-checkpoint/v1"

    public var format: String
    /// The head row's sequence number.
    public var seq: Int64
    /// The head row's `row_hash`, lowercase hex.
    public var rowHash: String
    /// The head row's time (microseconds since the epoch).
    public var atMicros: Int64
    /// The signing key's public key, lowercase hex (informational).
    public var publicKey: String
    /// Ed25519 signature of ``signedMessage``, lowercase hex.
    public var signature: String

    /// The bytes signed: the format name, seq, hash and time, one per line.
    public var signedMessage: [UInt8] {
        Array("\(Self.formatName)\n\(seq)\n\(rowHash)\n\(atMicros)\n".utf8)
    }

    /// A checkpoint of the head `record`, signed with `key`.
    public init(head record: AuditRecord, key: Ed25519PrivateKey) throws {
        format = Self.formatName
        seq = record.seq
        rowHash = Self.hex(record.rowHash)
        atMicros = record.atMicros
        publicKey = Self.hex(key.publicKey.rawRepresentation)
        signature = ""
        signature = Self.hex(try key.signature(for: signedMessage))
    }

    /// Whether the signature is `key`'s over this checkpoint's content.
    public func isSigned(by key: Ed25519PublicKey) -> Bool {
        guard format == Self.formatName, let raw = Self.bytes(hex: signature) else { return false }
        return key.isValidSignature(raw, for: signedMessage)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}

/// What `vault audit --verify --from` found.
public struct CheckpointVerification: Sendable {
    /// The whole chain's verification.
    public let chain: AuditChain.Verifier
    /// Why the chain does not extend the checkpoint (nil: it does).
    public let problem: String?
}
