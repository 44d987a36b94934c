import Foundation
import Postgres
import TestSupport
import Testing

@Suite(.enabled(if: TestServices.postgresEnabled))
struct PostgresConnectionTests {
    @Test func killedBackendIsACleanConnectionError() async throws {
        let victim = try await Harness.connect()
        let killer = try await Harness.connect()
        let pid = try await victim.withSession { try $0.execute("SELECT pg_backend_pid() AS pid").rows[0]["pid"].requireInt() }
        let terminated = try await killer.withSession { session in
            try session.execute("SELECT pg_terminate_backend($1::int, 5000) AS done", [.int(pid)]).first?["done"].bool
        }
        #expect(terminated == true)

        let error = await #expect(throws: PostgresError.self) {
            try await victim.withSession { try $0.execute("SELECT 1") }
        }
        #expect(error?.isConnectionError == true)
        #expect(error?.code == .connectionLost)
        #expect(victim.isBroken)
        // Later calls fail fast, still as connection errors.
        let again = await #expect(throws: PostgresError.self) {
            try await victim.withSession { try $0.execute("SELECT 1") }
        }
        #expect(again?.isConnectionError == true)
        await victim.close()
        await killer.close()

        let fresh = try await Harness.connect()
        let one = try await fresh.withSession { try $0.execute("SELECT 1 AS one").first?["one"].int }
        #expect(one == 1)
        #expect(!fresh.isBroken)
        await fresh.close()
    }

    @Test func closedPortFailsQuickly() async throws {
        let started = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect(
                url: "postgresql://postgres:hunter2-secret@127.0.0.1:1/fetchde?connect_timeout=120", logger: Harness.logger)
        }
        // Refused, not timed out: well under connect_timeout even when the whole suite keeps
        // the machine's two cores busy (seen: up to 27 s before the task was scheduled again).
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(error?.code == .connectionFailed)
        #expect(error?.isConnectionError == true)
        #expect(!"\(error.map { String(describing: $0) } ?? "")".contains("hunter2"))
        #expect(!String(reflecting: error as Any).contains("hunter2"))
    }

    @Test func emptyURLUsesTheLibpqEnvironment() async throws {
        guard ProcessInfo.processInfo.environment["PGHOST"] != nil else { return }
        let connection = try await PostgresConnection.connect(url: "", applicationName: "fetchde-env-test", logger: Harness.logger)
        let name = try await connection.withSession {
            try $0.execute("SELECT current_setting('application_name') AS name").first?["name"].string
        }
        #expect(name == "fetchde-env-test")
        await connection.close()
    }

    @Test func closedConnectionRefusesWork() async throws {
        let connection = try await Harness.connect()
        await connection.close()
        await connection.close()  // idempotent
        #expect(connection.isBroken)
        let error = await #expect(throws: PostgresError.self) {
            try await connection.withSession { try $0.execute("SELECT 1") }
        }
        #expect(error?.code == .connectionClosed)
    }

    @Test func concurrentSessionsAreSerialized() async throws {
        try await Harness.withScratchSchema { connection, _ in
            try await connection.withSession { try $0.executeScript("CREATE TABLE hits (task int, pid int)") }
            let tasks = 64
            let pids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        try await connection.withSession { session in
                            // If two bodies interleaved, the marker read back would be another task's.
                            try session.execute("SELECT set_config('fetchde.marker', $1, false)", [.text("task-\(task)")])
                            try session.transaction {
                                try session.execute("INSERT INTO hits VALUES ($1, pg_backend_pid())", [.int(Int64(task))])
                            }
                            let marker = try session.execute("SELECT current_setting('fetchde.marker') AS m").first?["m"].string
                            #expect(marker == "task-\(task)")
                            return try session.execute("SELECT pg_backend_pid() AS pid").first!["pid"].requireInt()
                        }
                    }
                }
                var pids: Set<Int64> = []
                for try await pid in group { pids.insert(pid) }
                return pids
            }
            #expect(pids.count == 1)
            let count = try await connection.withSession {
                try $0.execute("SELECT count(DISTINCT task) AS n FROM hits").first?["n"].int
            }
            #expect(count == Int64(tasks))
        }
    }
}
