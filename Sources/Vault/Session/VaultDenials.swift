import Logging
import VaultFormat
import PIICrypto
import Postgres

/// Recording refusals in the audit log wherever the database is reachable (SPEC §4).
enum VaultDenials {
    /// Connects just to record a denial (e.g. a missing `--reason`, refused before any other
    /// work). Nothing here is allowed to mask the denial itself, so every failure is ignored.
    static func recordBestEffort(_ environment: VaultEnvironment, action: String, detail: String) async {
        do {
            try await VaultDatabase.withSession(environment) { session in
                try VaultDatabase.requireSchema(session)
                if let error = AuditLog.recordDenial(session, action: action, reason: "", detail: detail) {
                    environment.logger.debug("denial not recorded", metadata: [LogKey.error: "\(error)"])
                }
            }
        } catch {
            environment.logger.debug("denial not recorded", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// A short, secret-free cause for the audit row's detail.
    static func cause(_ error: any Error) -> String {
        switch error {
        case let error as VaultError: return error.message
        case let error as KeyFileError: return "\(error)"
        case let error as CryptoError: return "\(error)"
        case is PostgresError: return "database permission denied"
        default: return "denied"
        }
    }
}
