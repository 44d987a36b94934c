public import Logging
import PIICrypto
import Postgres
import Synchronization

/// Keeps the active keys current: re-reads `vault_active` every few seconds on the writer's
/// connection and switches when a rotation changed it. While the active token key cannot be
/// loaded it holds no keys, so the pipeline stops consuming (not ready) rather than write
/// tokens of a retired version.
public final class ActiveKeysWatcher: Sendable {
    private let loader: ActiveKeysLoader
    private let writer: BatchWriter
    private let health: HealthState
    private let logger: Logger
    private let current = Mutex<(versions: ActiveKeysLoader.Versions, keys: ActiveKeys)?>(nil)

    public init(loader: ActiveKeysLoader, writer: BatchWriter, health: HealthState, logger: Logger) {
        self.loader = loader
        self.writer = writer
        self.health = health
        self.logger = logger
    }

    /// The loaded keys, or nil while they cannot be loaded.
    public var keys: ActiveKeys? { current.withLock { $0?.keys } }

    /// Reads the active versions and loads their keys if they changed. Throws what went wrong
    /// (the keys are then cleared: nothing is written with stale keys).
    public func refresh() async throws {
        let loader = self.loader
        do {
            let connection = try await writer.connection()
            let versions = try await connection.withSession(deadline: writer.pollDeadline) { session in try loader.readVersions(session) }
            if current.withLock({ $0?.versions }) == versions { return }
            let keys = try loader.load(versions)
            current.withLock { $0 = (versions, keys) }
            health.setKeys(true)
            PipelineMetrics.recordActiveKeys(tokenKeyVersion: versions.tokenKeyVersion, vaultKeyVersion: versions.vaultKeyVersion)
            logger.notice("active keys loaded", metadata: [
                LogKey.tokenKeyVersion: "\(versions.tokenKeyVersion)", LogKey.vaultKeyVersion: "\(versions.vaultKeyVersion)",
            ])
        } catch {
            // A database that is unreachable or refuses the poll (lock timeout, read-only
            // node, …) does not make loaded keys wrong: keep them through it.
            if !(error is PostgresError) {
                current.withLock { $0 = nil }
                health.setKeys(false)
            }
            throw error
        }
    }
}
