import Postgres
import TestSupport
import Testing

@Suite(.enabled(if: TestServices.postgresEnabled))
struct PostgresStatementTests {
    private struct Boom: Error {}

    @Test func preparedStatementsAreReused() async throws {
        try await Harness.withScratchSchema { connection, _ in
            let total = try await connection.withSession { session in
                try session.executeScript("CREATE TABLE numbers (n bigint)")
                try session.prepare("insert_number", "INSERT INTO numbers (n) VALUES ($1)")
                try session.prepare("insert_number", "INSERT INTO numbers (n) VALUES ($1)")  // no-op
                #expect(session.isPrepared("insert_number"))
                for n in 1...10 {
                    let result = try session.executePrepared("insert_number", [.int(Int64(n))])
                    #expect(result.affectedRows == 1)
                }
                return try session.execute("SELECT sum(n) AS total FROM numbers").first?["total"].int
            }
            #expect(total == 55)
            // Prepared names live as long as the connection, across withSession calls.
            try await connection.withSession { session in
                try session.prepare("insert_number", "INSERT INTO numbers (n) VALUES ($1)")
                try session.executePrepared("insert_number", [100])
            }
        }
    }

    @Test func transactionCommits() async throws {
        try await Harness.withScratchSchema { connection, schema in
            try await connection.withSession { session in
                try session.executeScript("CREATE TABLE t (v int)")
                let value = try session.transaction {
                    try session.execute("INSERT INTO t VALUES (1), (2)")
                    return "done"
                }
                #expect(value == "done")
            }
            let observer = try await Harness.connect()
            let count = try await observer.withSession { try $0.execute("SELECT count(*) AS n FROM \(schema).t").first?["n"].int }
            await observer.close()
            #expect(count == 2)
        }
    }

    @Test func transactionRollsBackOnThrow() async throws {
        try await Harness.withScratchSchema { connection, _ in
            // Plain do/catch here: with Swift 6.3.1, `#expect(throws:)` inside this closure
            // made a later do/catch in the same closure miss its error (a miscompile).
            let (firstError, count) = try await connection.withSession { session in
                try session.executeScript("CREATE TABLE t (v int)")
                var firstError: (any Error)?
                do {
                    try session.transaction {
                        try session.execute("INSERT INTO t VALUES (1)")
                        throw Boom()
                    }
                } catch {
                    firstError = error
                }
                // Nested: the inner savepoint rolls back, the outer transaction commits.
                try session.transaction {
                    try session.execute("INSERT INTO t VALUES (10)")
                    do {
                        try session.transaction { () throws -> Void in
                            try session.execute("INSERT INTO t VALUES (20)")
                            throw Boom()
                        }
                    } catch {}
                }
                let sum = try session.execute("SELECT coalesce(sum(v), 0) AS s FROM t").first?["s"].int
                return (firstError is Boom, sum)
            }
            #expect(firstError)
            #expect(count == 10)
        }
    }

    @Test func commitOfAFailedTransactionThrows() async throws {
        try await Harness.withScratchSchema { connection, _ in
            let error = await #expect(throws: PostgresError.self) {
                try await connection.withSession { session in
                    try session.executeScript("CREATE TABLE t (v int)")
                    try session.transaction {
                        try session.execute("INSERT INTO t VALUES (1)")
                        _ = try? session.execute("SELECT 1/0")  // swallowed: the transaction is now aborted
                    }
                }
            }
            #expect(error?.sqlState == SQLState.inFailedSQLTransaction)
            let count = try await connection.withSession { try $0.execute("SELECT count(*) AS n FROM t").first?["n"].int }
            #expect(count == 0)
        }
    }

    @Test func openTransactionIsRolledBackWhenTheSessionEnds() async throws {
        try await Harness.withScratchSchema { connection, _ in
            try await connection.withSession { session in
                try session.executeScript("CREATE TABLE t (v int)")
                try session.execute("BEGIN")
                try session.execute("INSERT INTO t VALUES (1)")
            }
            let count = try await connection.withSession { try $0.execute("SELECT count(*) AS n FROM t").first?["n"].int }
            #expect(count == 0)
        }
    }

    @Test func uniqueViolationReportsStateAndConstraintButNotTheValue() async throws {
        try await Harness.withScratchSchema { connection, _ in
            let secret = "duplicate-secret-4711@example.com"
            let error = await #expect(throws: PostgresError.self) {
                try await connection.withSession { session in
                    try session.executeScript("CREATE TABLE people (email text CONSTRAINT people_email_key UNIQUE)")
                    try session.execute("INSERT INTO people (email) VALUES ($1)", [.text(secret)])
                    try session.execute("INSERT INTO people (email) VALUES ($1)", [.text(secret)])
                }
            }
            let failure = try #require(error)
            #expect(failure.code == .queryFailed)
            #expect(failure.sqlState == SQLState.uniqueViolation)
            #expect(failure.isUniqueViolation)
            #expect(failure.constraint == "people_email_key")
            #expect(failure.table == "people")
            #expect(!failure.isConnectionError && !failure.isPermissionDenied)
            #expect("\(failure)" == "query failed: SQLSTATE 23505 (unique_violation) on constraint people_email_key in table \(failure.schema ?? "").people")
            #expect(!failure.description.contains(secret))
            #expect(!"\(failure)".contains("4711"))
            // Even the debug form carries the primary message only, never DETAIL (which holds the key).
            #expect(!String(reflecting: failure).contains(secret))
            #expect(!connection.isBroken)
        }
    }

    @Test func invalidInputDoesNotLeakTheValue() async throws {
        let logs = LogCapture()
        let logger = logs.logger()
        let connection = try await Harness.connect(logger: logger)
        defer { Task { await connection.close() } }
        let bad = "not-a-number-98765"
        let error = await #expect(throws: PostgresError.self) {
            try await connection.withSession { session in
                try session.execute("SELECT $1::int AS n", [.text(bad)])
            }
        }
        let failure = try #require(error)
        #expect(failure.sqlState == SQLState.invalidTextRepresentation)
        #expect(failure.code == .queryFailed)
        #expect(!failure.description.contains(bad))
        #expect(!"\(failure)".contains("98765"))
        #expect(!logs.lines.isEmpty)
        #expect(logs.lines.allSatisfy { !$0.contains("98765") })
        // The connection stays usable after a query error.
        let one = try await connection.withSession { try $0.execute("SELECT 1 AS one").first?["one"].int }
        #expect(one == 1)
    }

    @Test func noticesAreLoggedWithoutTheirText() async throws {
        let logs = LogCapture()
        let logger = logs.logger()
        let connection = try await Harness.connect(logger: logger)
        try await connection.withSession { session in
            try session.executeScript("DO $$ BEGIN RAISE NOTICE 'notice-secret-%', 31337; END $$")
        }
        await connection.close()
        #expect(logs.lines.contains { $0.contains("postgres notice") && $0.contains("00000") })
        #expect(logs.lines.allSatisfy { !$0.contains("31337") && !$0.contains("notice-secret") })
    }

    @Test func permissionDeniedIsRecognised() async throws {
        try await Harness.withScratchSchema { connection, schema in
            let role = TestServices.uniqueName("pgtest_role")
            let error = await #expect(throws: PostgresError.self) {
                try await connection.withSession { session in
                    try session.executeScript("CREATE ROLE \(role) NOLOGIN; CREATE TABLE \(schema).locked (v int)")
                    defer { _ = try? session.executeScript("RESET ROLE; DROP OWNED BY \(role); DROP ROLE \(role)") }
                    try session.transaction {
                        try session.executeScript("SET LOCAL ROLE \(role)")
                        try session.execute("SELECT * FROM \(schema).locked")
                    }
                }
            }
            #expect(error?.isPermissionDenied == true)
            #expect(error?.sqlState == SQLState.insufficientPrivilege)
        }
    }
}
