import Foundation
import Postgres
import TestSupport
import Testing

/// Client-side deadlines and cancellation of round trips (SPEC §7), and the failure classes
/// the pipeline decides on.
@Suite(.enabled(if: TestServices.postgresEnabled))
struct PostgresDeadlineTests {
    @Test func aRoundTripPastItsDeadlineIsCancelledAndTheConnectionDropped() async throws {
        let connection = try await Harness.connect()
        let error = await #expect(throws: PostgresError.self) {
            try await connection.withSession(deadline: .milliseconds(300)) { try $0.execute("SELECT pg_sleep(30)") }
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.failureClass == .connection)
        #expect(error?.errorClassLabel == "deadline")
        #expect(connection.isBroken, "a connection whose deadline passed is not reused")
        await connection.close()
    }

    @Test func theConnectionsDefaultDeadlineApplies() async throws {
        let url = try TestServices.requireDatabaseURL()
        let connection = try await PostgresConnection.connect(url: url, deadline: .milliseconds(300), logger: Harness.logger)
        #expect(try await connection.withSession { try $0.execute("SELECT 1 AS one").first?["one"].int } == 1)
        let error = await #expect(throws: PostgresError.self) {
            try await connection.withSession { try $0.execute("SELECT pg_sleep(30)") }
        }
        #expect(error?.code == .deadlineExceeded)
        await connection.close()
    }

    @Test func cancellingTheTaskCancelsTheCommand() async throws {
        let connection = try await Harness.connect()
        let sleeper = Task { try await connection.withSession { try $0.execute("SELECT pg_sleep(30)") } }
        try await Task.sleep(for: .milliseconds(300))
        sleeper.cancel()
        let result = await sleeper.result
        #expect(throws: PostgresError.self) { try result.get() }
        await connection.close()
    }

    /// A task cancelled while its command waits behind another (or before the connection's
    /// thread picked it up) must not run it to the end: the cancel arrived when nothing of its
    /// own was running, which the old code took as "nothing to cancel".
    @Test("cancelling a task whose command is still queued cancels that command when it starts")
    func cancellingAQueuedCommand() async throws {
        let connection = try await Harness.connect()
        let first = Task { try await connection.withSession { try $0.execute("SELECT pg_sleep(1)") } }
        try await Task.sleep(for: .milliseconds(200))
        let second = Task { try await connection.withSession { try $0.execute("SELECT pg_sleep(30)") } }
        try await Task.sleep(for: .milliseconds(200))
        second.cancel()
        _ = try await first.value
        let result = await second.result
        #expect(throws: PostgresError.self) { try result.get() }
        await connection.close()
    }

    @Test func onlyDataErrorsAreData() async throws {
        let connection = try await Harness.connect()
        func failure(_ sql: String) async -> PostgresError? {
            do {
                try await connection.withSession { try $0.execute(sql) }
                return nil
            } catch {
                return error as? PostgresError
            }
        }
        #expect(await failure("SELECT 'x'::int")?.failureClass == .data)  // 22P02
        #expect(await failure("SELECT 1/0")?.failureClass == .data)  // 22012
        #expect(await failure("SELECT * FROM no_such_table")?.failureClass == .transient)  // 42P01
        #expect(await failure("SELECT * FROM no_such_table")?.errorClassLabel == "42")
        let readOnly = try await connection.withSession { session -> PostgresError? in
            try session.execute("SET default_transaction_read_only = on")
            defer { _ = try? session.execute("SET default_transaction_read_only = off") }
            do {
                try session.execute("CREATE TEMP TABLE fetchde_read_only_probe (x int)")
                return nil
            } catch {
                return error as? PostgresError
            }
        }
        #expect(readOnly?.sqlState == "25006")
        #expect(readOnly?.failureClass == .connection, "a read-only node must be left for another")
        await connection.close()
    }
}
