import Postgres
import TestSupport
import Testing

@Suite(.enabled(if: TestServices.postgresEnabled))
struct PostgresCopyTests {
    private struct Boom: Error {}

    static func name(_ n: Int) -> String {
        switch n % 5 {
        case 0: return "plain \(n)"
        case 1: return "tab\t\(n)"
        case 2: return "line\n\(n)\r"
        case 3: return "back\\slash \\N \(n)"
        default: return "ünï 👋 \(n)"
        }
    }

    @Test func copiesOneHundredThousandRows() async throws {
        try await Harness.withScratchSchema { connection, _ in
            let total = 100_000
            let (copied, checks) = try await connection.withSession { session in
                try session.executeScript("CREATE TABLE bulk (id bigint PRIMARY KEY, name text, note text, flag boolean, blob bytea)")
                let copied = try session.copyIn("COPY bulk (id, name, note, flag, blob) FROM STDIN") { writer in
                    for n in 0..<total {
                        try writer.appendRow([
                            .int(Int64(n)), .text(Self.name(n)), n % 7 == 0 ? .null : .text("note \(n)"),
                            .bool(n % 2 == 0), n % 11 == 0 ? .null : .bytea([UInt8(n % 256), 0, 0xFF, 0x5C]),
                        ])
                    }
                    #expect(writer.rowCount == total)
                }
                let stats = try session.execute("""
                    SELECT count(*) AS n, count(*) FILTER (WHERE note IS NULL) AS null_notes,
                           count(*) FILTER (WHERE blob IS NULL) AS null_blobs,
                           count(*) FILTER (WHERE flag) AS flagged
                    FROM bulk
                    """).rows[0]
                let samples = try session.execute("SELECT id, name, note, blob FROM bulk WHERE id < 5 OR id = 99999 ORDER BY id")
                return (copied, (stats, samples))
            }
            #expect(copied == total)
            let (stats, samples) = checks
            #expect(stats["n"].int == Int64(total))
            #expect(stats["null_notes"].int == Int64((total + 6) / 7))
            #expect(stats["null_blobs"].int == Int64((total + 10) / 11))
            #expect(stats["flagged"].int == Int64(total / 2))
            for row in samples {
                let id = Int(try row["id"].requireInt())
                #expect(row["name"].string == Self.name(id))
                #expect(row["note"].string == (id % 7 == 0 ? nil : "note \(id)"))
                #expect(row["blob"].bytes == (id % 11 == 0 ? nil : [UInt8(id % 256), 0, 0xFF, 0x5C]))
            }
            #expect(samples.count == 6)
        }
    }

    @Test func throwingBodyAbortsTheCopy() async throws {
        try await Harness.withScratchSchema { connection, _ in
            let count = try await connection.withSession { session in
                try session.executeScript("CREATE TABLE bulk (id bigint)")
                #expect(throws: Boom.self) {
                    try session.copyIn("COPY bulk FROM STDIN") { writer in
                        for n in 0..<50_000 { try writer.appendRow([.int(Int64(n))]) }
                        throw Boom()
                    }
                }
                return try session.execute("SELECT count(*) AS n FROM bulk").first?["n"].int
            }
            #expect(count == 0)
            #expect(!connection.isBroken)
        }
    }

    @Test func copyConstraintViolationIsACopyFailure() async throws {
        try await Harness.withScratchSchema { connection, _ in
            let error = await #expect(throws: PostgresError.self) {
                try await connection.withSession { session in
                    try session.executeScript("CREATE TABLE bulk (email text CONSTRAINT bulk_email_key UNIQUE)")
                    try session.copyIn("COPY bulk FROM STDIN") { writer in
                        try writer.appendRow(["copy-secret@example.com"])
                        try writer.appendRow(["copy-secret@example.com"])
                    }
                }
            }
            #expect(error?.code == .copyFailed)
            #expect(error?.sqlState == SQLState.uniqueViolation)
            #expect(error?.constraint == "bulk_email_key")
            #expect(!"\(error.map { String(describing: $0) } ?? "")".contains("copy-secret"))
            let usable = try await connection.withSession { try $0.execute("SELECT 1 AS one").first?["one"].int }
            #expect(usable == 1)
        }
    }

    @Test func copyThroughExecuteIsAProtocolViolation() async throws {
        try await Harness.withScratchSchema { connection, _ in
            let error = await #expect(throws: PostgresError.self) {
                try await connection.withSession { session in
                    try session.executeScript("CREATE TABLE bulk (id bigint)")
                    try session.execute("COPY bulk FROM STDIN")
                }
            }
            #expect(error?.code == .protocolViolation)
            let usable = try await connection.withSession { try $0.execute("SELECT 1 AS one").first?["one"].int }
            #expect(usable == 1)
        }
    }
}
