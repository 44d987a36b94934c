import Foundation
import VaultFormat
import PIICrypto
import Postgres

/// `vault audit`: reads (and optionally verifies) the audit log as `vault_admin`.
public struct AuditReader: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    /// Calls `body` with the rows in `seq` order, one page (up to 2,000 rows) at a time, so a
    /// long log never has to fit in memory.
    /// With `filter`, only the rows it matches.
    public func forEachPage(filter: AuditFilter? = nil, _ body: @escaping @Sendable ([AuditRecord]) -> Void) async throws {
        try await VaultDatabase.withSession(environment) { session in
            try VaultDatabase.requireSchema(session)
            try VaultDatabase.assumeVaultAdmin(session, action: "audit", reason: "", detail: "")
            try AuditLog.fold(session)
            var after = Int64.min
            while true {
                let rows = try AuditLog.page(session, after: after, limit: 2000, filter: filter)
                if !rows.isEmpty { body(rows) }
                guard rows.count == 2000, let last = rows.last else { return }
                after = last.seq
            }
        }
    }

    /// Verifies the whole chain and signs its head with the checkpoint key (created in the
    /// keys directory on first use). A broken chain is not checkpointed (65).
    public func checkpoint() async throws -> AuditCheckpoint {
        let key = try environment.keys.loadOrCreateCheckpointKey()
        let verifier = try await verify()
        if let failure = verifier.failure { throw VaultError(.integrityFailure, failure.description) }
        guard let head = verifier.lastRecord else { throw VaultError(.emptyAuditLog, "the audit log is empty: nothing to checkpoint") }
        return try AuditCheckpoint(head: head, key: key)
    }

    /// Verifies `checkpoint`'s signature against the key in the keys directory, then the
    /// whole chain, and that the chain's row at the checkpoint's seq carries its hash (so the
    /// chain extends the recorded head). A bad signature throws (65); a chain that does not
    /// extend the head is reported in ``CheckpointVerification/problem``.
    public func verify(from checkpoint: AuditCheckpoint) async throws -> CheckpointVerification {
        guard environment.keys.checkpointKeyExists() else {
            throw VaultError(.keyUnavailable, "no checkpoint key in \(environment.keysDirectory) (audit-checkpoint.key): the checkpoint cannot be checked")
        }
        let key = try environment.keys.readCheckpointKey()
        guard checkpoint.isSigned(by: key.publicKey) else {
            throw VaultError(.integrityFailure, "the checkpoint's signature is not valid under keys/audit-checkpoint.key (altered or signed by another key)")
        }
        let wanted = checkpoint.seq
        let result = try await VaultDatabase.withSession(environment) { session -> (AuditChain.Verifier, [UInt8]?) in
            try VaultDatabase.requireSchema(session)
            try VaultDatabase.assumeVaultAdmin(session, action: "audit", reason: "", detail: "verify from checkpoint")
            try AuditLog.fold(session)
            return try session.transaction {
                try session.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                var verifier = AuditChain.Verifier()
                var hashAtSeq: [UInt8]?
                try AuditLog.forEach(session) { record in
                    if record.seq == wanted { hashAtSeq = record.rowHash }
                    return verifier.feed(record)
                }
                return (verifier, hashAtSeq)
            }
        }
        let (chain, hashAtSeq) = result
        let problem: String?
        if let hashAtSeq {
            problem = AuditCheckpoint.hex(hashAtSeq) == checkpoint.rowHash
                ? nil
                : "the chain's row \(wanted) differs from the checkpoint's head: the chain was rewritten"
        } else {
            problem = "the chain has no row \(wanted), the checkpoint's head: the chain was rewritten or cut"
        }
        return CheckpointVerification(chain: chain, problem: problem)
    }

    /// Recomputes the hash chain over the whole log (one consistent snapshot).
    public func verify() async throws -> AuditChain.Verifier {
        return try await VaultDatabase.withSession(environment) { session in
            try VaultDatabase.requireSchema(session)
            try VaultDatabase.assumeVaultAdmin(session, action: "audit", reason: "", detail: "verify")
            try AuditLog.fold(session)
            return try session.transaction {
                try session.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                return try AuditLog.verify(session)
            }
        }
    }
}
