import Foundation
import Logging
import PIICrypto
import VaultCrypto
import Postgres
import VaultFormat

/// What `vault rewrap` did.
public struct RewrapResult: Sendable, Equatable {
    /// The vault key version every data key was re-sealed to.
    public let activeVersion: Int
    /// Data keys re-sealed by this run.
    public let rewrapped: Int
    /// Data keys re-sealed by this run, per old vault key version.
    public let rewrappedByVersion: [Int: Int]
    /// Data keys that failed authentication under their old key: left as they are.
    public let failed: [Int64]
    /// Older versions that no data key uses any more (their private key file may be deleted).
    public let retirable: [Int]
    /// Transactions committed.
    public let batches: Int
}

/// `vault rewrap` (SPEC §4, §5): re-seals every data key of an older vault key version to the
/// active public key. It touches `vault_data_keys` only, so its cost grows with the number of
/// DEKs, never of entries. Each batch is one transaction whose UPDATE names the old version,
/// so a run killed mid-way leaves every DEK either on its old or on the new version, and a
/// rerun finishes the rest. Audited once per run, before any data key changes.
public struct Rewrapper: Sendable {
    public var environment: VaultEnvironment
    /// Data keys per transaction.
    public var batchSize: Int

    public init(environment: VaultEnvironment, batchSize: Int = 500) {
        self.environment = environment
        self.batchSize = max(1, batchSize)
    }

    /// `progress(done, total)` is called after each committed batch.
    public func rewrap(progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> RewrapResult {
        let environment = self.environment
        let batchSize = self.batchSize
        let result = try await VaultDatabase.withSession(environment) { session -> RewrapResult in
            try VaultDatabase.administer(session, action: "rewrap") {
                try Self.run(session, environment: environment, batchSize: batchSize, progress: progress)
            }
        }
        environment.logger.debug("rewrap finished", metadata: [
            LogKey.activeVersion: "\(result.activeVersion)", LogKey.rewrapped: "\(result.rewrapped)",
            LogKey.failed: "\(result.failed.count)", LogKey.batches: "\(result.batches)",
        ])
        return result
    }

    private static func run(
        _ session: PostgresSession, environment: VaultEnvironment, batchSize: Int,
        progress: (@Sendable (Int, Int) -> Void)?
    ) throws -> RewrapResult {
        let active = try session.execute(
            "SELECT k.version, k.public_key FROM public.vault_active a JOIN public.vault_keys k ON k.version = a.vault_key_version"
        )
        guard let row = active.rows.first, let activeVersion = row["version"].int.map(Int.init),
              let publicBytes = row["public_key"].bytes
        else { throw VaultError(.notInitialized, "no vault key is registered: run vault init first") }
        let publicKey: X25519PublicKey
        do {
            publicKey = try X25519PublicKey(rawRepresentation: publicBytes)
        } catch {
            throw VaultError(.malformedKey, "the active vault public key (v\(activeVersion)) in vault_keys is malformed")
        }

        var pending: [Int: Int] = [:]
        for row in try session.execute(
            "SELECT vault_key_version AS v, count(*) AS n FROM public.vault_data_keys WHERE vault_key_version < $1 GROUP BY 1",
            [.int(Int64(activeVersion))]
        ).rows {
            if let version = row["v"].int { pending[Int(version)] = Int(row["n"].int ?? 0) }
        }
        let oldVersions = pending.keys.sorted()
        // Each needed old private key, loaded once (passphrase resolved at most once); an
        // absent one fails before anything is audited or changed.
        var keyring: VaultKeyring?
        if let first = oldVersions.first {
            let ring = try VaultKeyring.load(versions: oldVersions, required: first, environment: environment)
            for version in oldVersions { _ = try ring.privateKey(version: version) }
            keyring = ring
        }

        let total = pending.values.reduce(0, +)
        let plan = oldVersions.map { "v\($0): \(pending[$0] ?? 0)" }.joined(separator: ", ")
        try session.transaction {
            try AuditLog.append(
                session, action: "rewrap", outcome: "ok", reason: "",
                detail: "\(total) data keys to vault key v\(activeVersion)\(plan.isEmpty ? "" : " (\(plan))")"
            )
        }

        var rewrapped = 0
        var byVersion: [Int: Int] = [:]
        var failed: [Int64] = []
        var batches = 0
        var after = Int64.min
        while let keyring {
            let step = try session.transaction { () -> (count: Int, last: Int64?, byVersion: [Int: Int], failed: [Int64]) in
                let rows = try session.execute(
                    """
                    SELECT dek_id, vault_key_version, encapsulated_key, sealed_key FROM public.vault_data_keys
                    WHERE vault_key_version < $1 AND dek_id > $2 ORDER BY dek_id LIMIT $3 FOR UPDATE
                    """,
                    [.int(Int64(activeVersion)), .int(after), .int(Int64(batchSize))]
                ).rows
                guard !rows.isEmpty else { return (0, nil, [:], []) }
                var ids: [Int64] = [], olds: [Int64] = [], encs: [String] = [], sealeds: [String] = []
                var stepFailed: [Int64] = []
                var stepVersions: [Int: Int] = [:]
                for row in rows {
                    guard let dekID = row[0].int, let old = row[1].int.map(Int.init) else { continue }
                    // A DEK an `etl` wrote to an old version after the run began needs a key
                    // that may not be loaded: a not-authorized error, and a rerun picks it up.
                    let privateKey = try keyring.privateKey(version: old)
                    let opened = try? HPKE.open(
                        encapsulatedKey: row[2].bytes ?? [], ciphertext: row[3].bytes ?? [],
                        recipient: privateKey,
                        info: VaultFormat.dekInfo, aad: VaultFormat.dekAAD(dekID: dekID, vaultKeyVersion: old),
                        aead: .aes256GCM
                    )
                    guard let dek = opened, dek.count == 32 else {
                        stepFailed.append(dekID)
                        continue
                    }
                    let sealed = try VaultFormat.sealDataKey(dek, dekID: dekID, vaultKeyVersion: activeVersion, to: publicKey)
                    ids.append(dekID)
                    olds.append(Int64(old))
                    encs.append(lowercaseHex(sealed.encapsulatedKey))
                    sealeds.append(lowercaseHex(sealed.sealedKey))
                    stepVersions[old, default: 0] += 1
                }
                var updated = 0
                if !ids.isEmpty {
                    updated = try session.execute(
                        """
                        UPDATE public.vault_data_keys d
                        SET encapsulated_key = decode(u.enc, 'hex'), sealed_key = decode(u.sealed, 'hex'), vault_key_version = $1
                        FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[]) AS u(id, old, enc, sealed)
                        WHERE d.dek_id = u.id AND d.vault_key_version = u.old
                        """,
                        [
                            .int(Int64(activeVersion)), .int64Array(ids), .int64Array(olds),
                            .textArray(encs), .textArray(sealeds),
                        ]
                    ).affectedRows
                }
                // Rows are locked FOR UPDATE, so every one selected is updated.
                guard updated == ids.count else {
                    throw VaultError(.concurrentChange, "rewrap: \(ids.count - updated) data keys changed under the rewrap; run it again")
                }
                return (updated, rows.last?[0].int, stepVersions, stepFailed)
            }
            guard let last = step.last else { break }
            after = last
            batches += 1
            rewrapped += step.count
            failed += step.failed
            byVersion.merge(step.byVersion, uniquingKeysWith: +)
            progress?(rewrapped + failed.count, total)
        }

        var retirable: [Int] = []
        if !oldVersions.isEmpty {
            let left = try session.execute(
                "SELECT DISTINCT vault_key_version AS v FROM public.vault_data_keys WHERE vault_key_version < $1",
                [.int(Int64(activeVersion))]
            ).rows.compactMap { $0["v"].int.map(Int.init) }
            retirable = oldVersions.filter { !left.contains($0) }
        }
        return RewrapResult(
            activeVersion: activeVersion, rewrapped: rewrapped, rewrappedByVersion: byVersion,
            failed: failed, retirable: retirable, batches: batches
        )
    }
}
