import PIICrypto

/// One row of `vault_audit`.
public struct AuditRecord: Sendable, Equatable {
    public var seq: Int64
    /// Microseconds since the Unix epoch, set by the database trigger.
    public var atMicros: Int64
    public var actor: String
    public var action: String
    public var outcome: String
    public var reason: String
    public var detail: String
    public var prevHash: [UInt8]
    public var rowHash: [UInt8]

    public init(
        seq: Int64, atMicros: Int64, actor: String, action: String, outcome: String,
        reason: String, detail: String, prevHash: [UInt8], rowHash: [UInt8]
    ) {
        self.seq = seq
        self.atMicros = atMicros
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.reason = reason
        self.detail = detail
        self.prevHash = prevHash
        self.rowHash = rowHash
    }
}

/// The hash chain of `vault_audit`, recomputed in Swift exactly as the database trigger
/// `fetchde_audit_chain` computes it (Schema's `Migrations+Audit.swift`):
///
///     row_hash = SHA-256(prev_hash ‖ UTF-8(f(seq) | f(at_us) | f(actor) | f(action) |
///                                          f(outcome) | f(reason) | f(detail)))
///     f(x) = "<octet length of x>:<x>",  prev_hash of seq 1 = 32 zero bytes
public enum AuditChain {
    /// `prev_hash` of the first row.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// The hashed content of a row (everything but the two hashes).
    public static func content(of record: AuditRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(record.detail.utf8.count + record.reason.utf8.count + 128)
        let fields = [
            String(record.seq), String(record.atMicros), record.actor, record.action,
            record.outcome, record.reason, record.detail,
        ]
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "|")) }
            out.append(contentsOf: String(field.utf8.count).utf8)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: field.utf8)
        }
        return out
    }

    /// The `row_hash` a row must carry, given its predecessor's hash.
    public static func rowHash(of record: AuditRecord, previous: [UInt8]) -> [UInt8] {
        SHA256.hash(previous + content(of: record))
    }

    /// Where and why the chain is broken.
    public struct Break: Error, Sendable, Equatable, CustomStringConvertible {
        /// The first sequence number at which the log differs from an intact chain.
        public let seq: Int64
        public let problem: String
        public var description: String { "audit chain broken at seq \(seq): \(problem)" }
    }

    /// Checks rows fed in `seq` order; stops at the first break.
    public struct Verifier: Sendable {
        public private(set) var checked: Int64 = 0
        /// The hash of the last row checked (the chain's head once all rows are fed).
        public private(set) var head: [UInt8] = AuditChain.genesis
        public private(set) var failure: Break?
        /// The last row checked intact.
        public private(set) var lastRecord: AuditRecord?

        public init() {}

        /// Checks the next row; returns false once the chain is broken.
        @discardableResult
        public mutating func feed(_ record: AuditRecord) -> Bool {
            guard failure == nil else { return false }
            let expected = checked + 1
            if record.seq != expected {
                let problem = record.seq > expected
                    ? "row missing (next row present is seq \(record.seq))"
                    : "unexpected seq \(record.seq) (rows reordered or forged)"
                failure = Break(seq: expected, problem: problem)
                return false
            }
            if record.prevHash != head {
                failure = Break(seq: record.seq, problem: "prev_hash does not match the row_hash of seq \(record.seq - 1) (row inserted, removed or reordered)")
                return false
            }
            if AuditChain.rowHash(of: record, previous: head) != record.rowHash {
                failure = Break(seq: record.seq, problem: "row_hash does not match the row's content (row altered)")
                return false
            }
            head = record.rowHash
            checked = record.seq
            lastRecord = record
            return true
        }
    }
}
