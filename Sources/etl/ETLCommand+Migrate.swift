import ArgumentParser
import CommandSupport
import Settings
import Postgres
import Schema

extension ETLCommand {
    /// `etl migrate`: creates or upgrades the schema and roles (idempotent).
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or upgrade the schema and the roles etl_ingest and vault_admin (idempotent)."
        )

        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await ErrorReporting.run(tool: "etl migrate") {
                let settings = try common.loadSettings()
                let logger = try common.bootstrapLogging(label: "etl", settings: settings)
                let applied = try await PostgresConnection.withConnection(
                    url: settings.databaseURL, applicationName: "fetchde-migrate",
                    deadline: .seconds(settings.migrationDeadlineSeconds), logger: logger
                ) { try await Migrator.migrate($0, logger: logger) }
                print(applied.isEmpty
                      ? "schema is up to date (version \(Migrator.latestVersion))"
                      : "applied migrations \(applied.map(String.init).joined(separator: ", ")); schema version \(Migrator.latestVersion)")
            }
        }
    }
}
