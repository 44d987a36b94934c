import Foundation
import PIICrypto
import Pipeline
public import Postgres
import Testing
public import TestSupport

/// Running `etl` and `vault` against a ``PipelineFixture``, and holding locks in the way of
/// them: what the token-rotation tests (beside the vault's) share with the pipeline's tests
/// of erasure, quarantine and hostile neighbours.
public enum RotationSupport {
    /// The environment of `etl` and `vault` for `fixture` (the owner login; both SET ROLE).
    public static func environment(_ fixture: PipelineFixture) -> [String: String] {
        [
            "DATABASE_URL": fixture.database.url, "VAULT_DATABASE_URL": fixture.database.url,
            "SQS_QUEUE_URL": fixture.queueURL, "KEYS_DIR": fixture.keys.directory.path,
            "METRICS_ADDRESS": "off", "LOG_LEVEL": "warning",
        ]
    }

    /// Runs `vault arguments` to completion.
    public static func vault(_ arguments: [String], _ fixture: PipelineFixture) async throws -> ChildProcess.Result {
        try await start(arguments, fixture).wait()
    }

    /// Starts `vault arguments` with the fixture's environment (and PATH only).
    public static func start(_ arguments: [String], _ fixture: PipelineFixture) throws -> ChildProcess {
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        environment.merge(Self.environment(fixture)) { $1 }
        return try ChildProcess(product: "vault", arguments, environment: environment)
    }

    public static func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Records the duplicate groups an analyst finds now (message ids grouped by token).
    public static func recordGroups(_ fixture: PipelineFixture) async throws -> Int64 {
        try await fixture.database.query("""
            CREATE TABLE test_groups_before AS
            SELECT 'ip' AS field, array_agg(message_id) AS ids FROM user_logins GROUP BY masked_ip HAVING count(*) > 1
            UNION ALL
            SELECT 'device_id', array_agg(message_id) FROM user_logins GROUP BY masked_device_id HAVING count(*) > 1
            """)
        return try await fixture.database.scalar("SELECT count(*) FROM test_groups_before")
    }

    /// A fixture whose queue got `count` generated bodies twice (every value a known
    /// duplicate), drained by the pipeline, with its duplicate groups recorded.
    public static func seeded(_ name: String, count: Int, seed: UInt64) async throws -> (PipelineFixture, [String]) {
        let fixture = try await PipelineFixture.make(name)
        let bodies = DemoData(count: count, malformedEvery: 0, seed: seed).bodies()
        try await fixture.send(bodies + bodies)
        #expect(try await fixture.drain().outcome.inserted == 2 * count)
        #expect(try await recordGroups(fixture) > 0)
        return (fixture, bodies)
    }

    /// Runs `lock` in a transaction on `connection` and keeps it open (however loaded the
    /// machine) until ``release(_:_:)``, which rolls it back.
    public static func hold(_ lock: String, on connection: PostgresConnection, _ parameters: [PostgresValue] = []) -> Task<Void, any Error> {
        Task {
            try await connection.withSession { session in
                try session.execute("BEGIN")
                _ = try session.execute(lock, parameters)
                _ = try? session.execute("SELECT pg_sleep(120), 'retokenize-test-blocker'")  // until cancelled
                try session.execute("ROLLBACK")
            }
        }
    }

    public static func release(_ holding: Task<Void, any Error>, _ fixture: PipelineFixture) async throws {
        _ = try await fixture.database.scalar("""
            SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity
            WHERE query LIKE '%pg_sleep(120), ''retokenize-test-blocker''%' AND pid <> pg_backend_pid()
            """)
        try await holding.value
    }
}

extension ChildProcess {
    /// `etl ARGS` with this process's environment, `extra` laid over the tests' defaults
    /// (no metrics listener, 1 s receive waits, batches of 25, info logs).
    public static func etl(_ arguments: [String], environment extra: [String: String]) throws -> ChildProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["METRICS_ADDRESS"] = "off"
        environment["ETL_WAIT_TIME_SECONDS"] = "1"
        environment["ETL_BATCH_SIZE"] = "25"
        environment["LOG_LEVEL"] = "info"
        for (key, value) in extra { environment[key] = value }
        return try ChildProcess(product: "etl", arguments, environment: environment)
    }
}
