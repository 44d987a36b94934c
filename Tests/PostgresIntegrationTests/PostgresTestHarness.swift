import Foundation
import Logging
import Postgres
import TestSupport

/// Connections and scratch schemas for the PostgreSQL integration tests.
enum Harness {
    static let logger = Logger(label: "fetchde.tests.postgres") { _ in SwiftLogNoOpLogHandler() }

    static func connect(logger: Logger = Harness.logger) async throws -> PostgresConnection {
        try await PostgresConnection.connect(url: try TestServices.requireDatabaseURL(), logger: logger)
    }

    /// Runs `body` with a connection whose `search_path` is a fresh schema, dropped afterwards,
    /// so tests running in parallel never see each other's tables.
    static func withScratchSchema<T: Sendable>(
        logger: Logger = Harness.logger,
        _ body: (PostgresConnection, String) async throws -> T
    ) async throws -> T {
        let connection = try await connect(logger: logger)
        let schema = TestServices.uniqueName("pgtest")
        try await connection.withSession { session in
            try session.executeScript("CREATE SCHEMA \(schema); SET search_path TO \(schema)")
        }
        do {
            let value = try await body(connection, schema)
            await dropSchema(schema, using: connection)
            return value
        } catch {
            await dropSchema(schema, using: connection)
            throw error
        }
    }

    private static func dropSchema(_ schema: String, using connection: PostgresConnection) async {
        let cleaner = connection.isBroken ? try? await connect() : connection
        _ = try? await cleaner?.withSession { try $0.executeScript("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
        if let cleaner, cleaner !== connection { await cleaner.close() }
        await connection.close()
    }
}
