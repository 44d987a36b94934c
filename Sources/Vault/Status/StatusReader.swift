import PIICrypto
import Postgres
import Schema

/// What `vault status` reports (SPEC §5): versions, counts per version, pending work.
public struct VaultStatus: Sendable, Codable, Equatable {
    public struct TokenKey: Sendable, Codable, Equatable {
        public var version: Int
        public var vaultEntries: Int64
        public var userLoginRows: Int64
        public var keyFilePresent: Bool

        public init(version: Int, vaultEntries: Int64, userLoginRows: Int64, keyFilePresent: Bool) {
            self.version = version
            self.vaultEntries = vaultEntries
            self.userLoginRows = userLoginRows
            self.keyFilePresent = keyFilePresent
        }
    }

    public struct VaultKey: Sendable, Codable, Equatable {
        public var version: Int
        public var dataKeys: Int64
        public var privateKeyPresent: Bool

        public init(version: Int, dataKeys: Int64, privateKeyPresent: Bool) {
            self.version = version
            self.dataKeys = dataKeys
            self.privateKeyPresent = privateKeyPresent
        }
    }

    /// Newest applied migration; nil when this login cannot read the migrations table.
    public var schemaVersion: Int?
    public var activeTokenKeyVersion: Int?
    public var activeVaultKeyVersion: Int?
    public var tokenKeys: [TokenKey]
    public var vaultKeys: [VaultKey]
    public var vaultEntries: Int64
    public var forgottenTokens: Int64
    public var auditRows: Int64
    /// Data keys still sealed to an older vault key (`vault rewrap` pending).
    public var dataKeysToRewrap: Int64
    /// Vault entries and `user_logins` rows under an older token key (`vault retokenize` pending).
    public var entriesToRetokenize: Int64
    public var rowsToRetokenize: Int64
}

/// Reads ``VaultStatus`` as `vault_admin`. Reads only counts and versions: no key is loaded.
public struct StatusReader: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    public func read() async throws -> VaultStatus {
        let keys = environment.keys
        return try await VaultDatabase.withSession(environment) { session in
            try VaultDatabase.requireSchema(session)
            // The schema version is read as the login, before SET ROLE: migrations grant no
            // role anything on fetchde_schema_migrations, so it may be unreadable (nil).
            let readable = try session.execute(
                "SELECT CASE WHEN to_regclass('public.fetchde_schema_migrations') IS NULL THEN false ELSE has_table_privilege('public.fetchde_schema_migrations', 'SELECT') END AS ok"
            ).rows.first?["ok"].bool == true
            let schemaVersion = readable ? try Migrator.currentVersion(session) : nil
            try VaultDatabase.assumeVaultAdmin(session, action: "status", reason: "", detail: "")
            return try session.transaction {
                try session.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                return try Self.snapshot(session, keys: keys, schemaVersion: schemaVersion)
            }
        }
    }

    private static func snapshot(_ session: PostgresSession, keys: KeyDirectory, schemaVersion: Int?) throws -> VaultStatus {
        func count(_ sql: String) throws -> Int64 {
            Int64(try session.execute(sql).rows.first?["n"].int ?? 0)
        }
        func perVersion(_ sql: String) throws -> [Int: Int64] {
            var out: [Int: Int64] = [:]
            for row in try session.execute(sql).rows {
                guard let version = row["v"].int else { continue }
                out[Int(version)] = Int64(row["n"].int ?? 0)
            }
            return out
        }
        let active = try session.execute("SELECT token_key_version, vault_key_version FROM public.vault_active").rows.first
        let activeToken = active?["token_key_version"].int.map(Int.init)
        let activeVault = active?["vault_key_version"].int.map(Int.init)

        let entries = try perVersion("SELECT token_key_version AS v, count(*) AS n FROM public.pii_vault GROUP BY 1")
        let rows = try perVersion("SELECT token_key_version AS v, count(*) AS n FROM public.user_logins WHERE token_key_version IS NOT NULL GROUP BY 1")
        let registeredTokens = try perVersion("SELECT version AS v, 0 AS n FROM public.token_keys")
        var tokenVersions = Set(entries.keys).union(rows.keys).union(registeredTokens.keys)
        if let activeToken { tokenVersions.insert(activeToken) }

        let deks = try perVersion("SELECT vault_key_version AS v, count(*) AS n FROM public.vault_data_keys GROUP BY 1")
        let registeredVault = try perVersion("SELECT version AS v, 0 AS n FROM public.vault_keys")
        var vaultVersions = Set(deks.keys).union(registeredVault.keys)
        if let activeVault { vaultVersions.insert(activeVault) }

        let tokenKeys = tokenVersions.sorted().map { version in
            VaultStatus.TokenKey(
                version: version, vaultEntries: entries[version] ?? 0, userLoginRows: rows[version] ?? 0,
                keyFilePresent: keys.tokenKeyExists(version: version)
            )
        }
        let vaultKeys = vaultVersions.sorted().map { version in
            VaultStatus.VaultKey(
                version: version, dataKeys: deks[version] ?? 0,
                privateKeyPresent: keys.vaultPrivateKeyExists(version: version)
            )
        }
        return VaultStatus(
            schemaVersion: schemaVersion,
            activeTokenKeyVersion: activeToken,
            activeVaultKeyVersion: activeVault,
            tokenKeys: tokenKeys,
            vaultKeys: vaultKeys,
            vaultEntries: entries.values.reduce(0, +),
            forgottenTokens: try count("SELECT count(DISTINCT token) AS n FROM public.vault_forgotten"),
            auditRows: try count("SELECT count(*) AS n FROM public.vault_audit"),
            dataKeysToRewrap: activeVault.map { v in deks.filter { $0.key != v }.values.reduce(0, +) } ?? 0,
            entriesToRetokenize: activeToken.map { v in entries.filter { $0.key != v }.values.reduce(0, +) } ?? 0,
            rowsToRetokenize: activeToken.map { v in rows.filter { $0.key != v }.values.reduce(0, +) } ?? 0
        )
    }
}
