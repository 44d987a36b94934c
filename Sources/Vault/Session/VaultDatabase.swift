import Logging
import VaultFormat
import PIICrypto
import Postgres
import Schema
import Settings

/// Connecting the vault's session: schema present, then `SET ROLE vault_admin` (SPEC §4).
enum VaultDatabase {
    static let applicationName = "fetchde-vault"
    /// How long a vault command waits for a lock before it gives up with a one-line error
    /// (``ErrorReporting`` maps SQLSTATE 55P03), instead of hanging behind another session.
    static let lockTimeout = "10s"

    /// Connects, runs `body` on the connection's session and closes the connection, also
    /// when `body` throws.
    static func withSession<T: Sendable>(
        _ environment: VaultEnvironment, _ body: @Sendable (PostgresSession) throws -> T
    ) async throws -> T {
        try await connect(environment).closing { connection in
            try await connection.withSession { session in
                try session.executeScript("\(DatabaseRole.trustedSearchPath); SET lock_timeout = '\(lockTimeout)'")
                return try body(session)
            }
        }
    }

    /// Connects under ``DatabaseTransportPolicy``: a non-loopback host without a named
    /// `sslmode` gets `verify-full`, and a failure then says so.
    static func connect(_ environment: VaultEnvironment) async throws -> PostgresConnection {
        let policy = try DatabaseTransportPolicy.evaluate(url: environment.databaseURL)
        do {
            return try await PostgresConnection.connect(
                url: environment.databaseURL, applicationName: applicationName, overrides: policy.overrides,
                logger: environment.logger
            )
        } catch let error as PostgresError where policy.decision == .enforcedVerifyFull && error.isConnectionError {
            throw policy.enforcedFailure(error)
        }
    }

    /// Throws ``VaultError/schemaMissing`` unless the migrated schema is there. Needs no
    /// privilege on any table, so it runs before `SET ROLE`.
    static func requireSchema(_ session: PostgresSession) throws {
        let result = try session.execute(
            """
            SELECT to_regclass('public.vault_audit') IS NOT NULL
               AND to_regclass('public.pii_vault') IS NOT NULL
               AND to_regclass('public.vault_data_keys') IS NOT NULL
               AND to_regclass('public.vault_forgotten') IS NOT NULL
               AND to_regclass('public.vault_active') IS NOT NULL
               AND to_regprocedure('fetchde.audit_denied(text,text,text)') IS NOT NULL
               AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vault_admin') AS ready
            """
        )
        guard result.rows.first?["ready"].bool == true else { throw VaultError.schemaMissing }
    }

    /// `SET ROLE vault_admin`. A login that is not a member leaves a denial in the audit log
    /// and gets a not-authorized error naming the fix.
    static func assumeVaultAdmin(_ session: PostgresSession, action: String, reason: String, detail: String) throws {
        do {
            try DatabaseRole.vaultAdmin.assume(in: session)
        } catch let error as PostgresError where error.isPermissionDenied {
            AuditLog.recordDenial(session, action: action, reason: reason, detail: "cannot SET ROLE vault_admin; \(detail)")
            let login = (try? session.execute("SELECT session_user AS login").rows.first?["login"].string) ?? nil
            throw VaultError(
                .notAuthorized,
                "database login \(login ?? "(unknown)") may not act as vault_admin (GRANT vault_admin TO it)"
            )
        }
    }

    /// The start of every audited operation: schema present, `SET ROLE vault_admin`, then
    /// `body`. A refusal inside `body` (key file, passphrase, permission) is audited as a denial
    /// of `action` (with `reason` and `detail`) before it is rethrown.
    static func administer<T>(
        _ session: PostgresSession, action: String, reason: String = "", detail: String = "", _ body: () throws -> T
    ) throws -> T {
        try requireSchema(session)
        try assumeVaultAdmin(session, action: action, reason: reason, detail: detail)
        do {
            return try body()
        } catch where isDenial(error) {
            let cause = VaultDenials.cause(error)
            AuditLog.recordDenial(session, action: action, reason: reason, detail: detail.isEmpty ? cause : "\(cause); \(detail)")
            throw error
        }
    }

    /// ``administer(_:action:reason:detail:_:)`` on a session of its own: what reveal, forget,
    /// the quarantine and subject commands open with.
    static func audited<T: Sendable>(
        _ environment: VaultEnvironment, action: String, reason: String, detail: String,
        _ body: @Sendable (PostgresSession) throws -> T
    ) async throws -> T {
        try await withSession(environment) { session in
            try administer(session, action: action, reason: reason, detail: detail) { try body(session) }
        }
    }

    /// The `--reason` trimmed; absent or blank, a best-effort denial of `action` is recorded
    /// (`missing reason; detail`) and ``VaultError/reasonRequired`` thrown.
    static func requireReason(
        _ raw: String?, _ environment: VaultEnvironment, action: String, detail: String
    ) async throws -> String {
        let reason = raw?.trimmingWhitespace() ?? ""
        guard reason.isEmpty else { return reason }
        await VaultDenials.recordBestEffort(environment, action: action, detail: "missing reason; \(detail)")
        throw VaultError.reasonRequired
    }

    /// Whether `error` is a refusal that belongs in the audit log as a denial.
    static func isDenial(_ error: any Error) -> Bool {
        switch error {
        case let error as VaultError: return error.isRefusal
        case let error as KeyFileError: return error.code != .alreadyExists
        case let error as PostgresError: return error.isPermissionDenied
        default: return false
        }
    }
}
