import Foundation
import Postgres
import TestSupport
import Testing

@Suite(.enabled(if: TestServices.postgresEnabled))
struct PostgresTypeTests {
    static let awkwardText = "Grüße 👋 ünïcödé\ttab\nnewline\r\nCRLF \\ back\\slash \\N 'single' \"double\" $1 %s"

    @Test func valuesRoundTripThroughParameters() async throws {
        try await Harness.withScratchSchema { connection, _ in
            try await connection.withSession { session in
                try session.executeScript("""
                    CREATE TABLE typed (id int PRIMARY KEY, t text, i bigint, b boolean, y bytea,
                                        d double precision, day date)
                    """)
                let allBytes = (0...255).map { UInt8($0) }
                try session.execute(
                    "INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    [1, .text(Self.awkwardText), .int(.max), true, .bytea(allBytes), .double(-1.5e-300), "2024-01-02"])
                try session.execute(
                    "INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    [2, nil, .null, .optional(nil as Bool?), .optional(nil as [UInt8]?), .optional(nil as Double?), nil])
                try session.execute(
                    "INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    [3, "", .int(.min), false, .bytea([]), .double(.infinity), .text("1999-12-31")])

                let rows = try session.execute("SELECT id, t, i, b, y, d, day, day::text AS day_text FROM typed ORDER BY id").rows
                #expect(rows.count == 3)
                #expect(try rows[0]["t"].requireString() == Self.awkwardText)
                #expect(rows[0]["i"].int == .max)
                #expect(rows[0]["b"].bool == true)
                #expect(try rows[0]["y"].requireBytes() == allBytes)
                #expect(rows[0]["d"].double == -1.5e-300)
                #expect(rows[0]["day"].string == "2024-01-02")
                #expect(rows[0]["day_text"].string == "2024-01-02")

                for column in ["t", "i", "b", "y", "d", "day"] {
                    #expect(rows[1][column].isNull, "column \(column) should be NULL")
                }
                #expect(rows[1]["t"].string == nil && rows[1]["i"].int == nil && rows[1]["y"].bytes == nil)

                #expect(rows[2]["t"].string == "")
                #expect(rows[2]["t"].isNull == false)
                #expect(rows[2]["i"].int == .min)
                #expect(rows[2]["b"].bool == false)
                #expect(rows[2]["y"].bytes == [])
                #expect(rows[2]["d"].double == .infinity)
                #expect(rows[2][6].string == "1999-12-31")
            }
        }
    }

    @Test("array parameters: any text round-trips element by element, plain tokens and NULL included; bigint arrays too")
    func arrayParametersRoundTrip() async throws {
        let texts = ["0f3a", Self.awkwardText, "", "NULL", "null", "a,b", "{x}", "\"quoted\"", "back\\slash", " spaced "]
        try await Harness.withScratchSchema { connection, _ in
            try await connection.withSession { session in
                let rows = try session.execute(
                    "SELECT value, ordinality FROM unnest($1::text[]) WITH ORDINALITY AS t(value, ordinality) ORDER BY ordinality",
                    [.textArray(texts)]
                ).rows
                #expect(try rows.map { try $0["value"].requireString() } == texts)
                let sum = try session.execute("SELECT sum(v)::bigint AS s, count(*) AS n FROM unnest($1::bigint[]) AS v",
                                              [.int64Array([Int64.max, Int64.min, 1])]).rows[0]
                #expect(sum["s"].int == 0 && sum["n"].int == 3)
            }
        }
    }

    @Test func literalsDecode() async throws {
        let connection = try await Harness.connect()
        defer { Task { await connection.close() } }
        let row = try await connection.withSession { session in
            try session.execute("""
                SELECT '2024-01-02'::date AS day, $1::date AS bound_day, 42 AS n, true AS yes,
                       'NaN'::float8 AS nan, '\\xdeadbeef'::bytea AS blob, NULL::text AS nothing
                """, ["2024-01-02"]).rows[0]
        }
        #expect(row["day"].string == "2024-01-02")
        #expect(row["bound_day"].string == "2024-01-02")
        #expect(try row["n"].requireInt() == 42)
        #expect(try row["yes"].requireBool())
        #expect(row["nan"].double?.isNaN == true)
        #expect(row["blob"].bytes == [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(row["nothing"].isNull)
        #expect(row["no_such_column"].isNull)
    }

    @Test func timestampHelperIsAcceptedAsTimestamptz() async throws {
        let connection = try await Harness.connect()
        defer { Task { await connection.close() } }
        let date = Date(timeIntervalSince1970: 1_704_164_645.25)  // 2024-01-02T03:04:05.25Z
        let epoch = try await connection.withSession { session in
            try session.execute("SELECT extract(epoch FROM $1::timestamptz)::float8 AS e", [.timestamp(date)]).rows[0]["e"].double
        }
        #expect(epoch == 1_704_164_645.25)
    }

    @Test func parametersCannotInjectSQL() async throws {
        try await Harness.withScratchSchema { connection, _ in
            let hostile = "'); DROP TABLE x; --"
            let stored = try await connection.withSession { session in
                try session.executeScript("CREATE TABLE x (v text)")
                try session.execute("INSERT INTO x (v) VALUES ($1)", [.text(hostile)])
                try session.execute("SELECT v FROM x WHERE v = $1", [.text(hostile)])
                let hostileName = "x; DROP TABLE x"
                _ = try session.execute("SELECT count(*) AS n FROM x WHERE v = $1", [.text(hostileName)])
                return try session.execute("SELECT v FROM x").rows.map { try $0["v"].requireString() }
            }
            #expect(stored == [hostile])
        }
    }

    @Test func decodingErrorsNameTheColumnNotTheValue() async throws {
        let connection = try await Harness.connect()
        defer { Task { await connection.close() } }
        let row = try await connection.withSession { session in
            try session.execute("SELECT 'secret-value-77'::text AS label, NULL::int AS missing").rows[0]
        }
        let error = try #require(throws: PostgresError.self) { try row["label"].requireInt() }
        #expect(error.code == .decodingFailed)
        #expect(error.column == "label")
        #expect(!"\(error)".contains("secret-value-77"))
        #expect(!String(reflecting: error).contains("secret-value-77"))
        #expect(throws: PostgresError.self) { try row["missing"].requireString() }
        #expect(throws: PostgresError.self) { try row["absent"].requireBool() }
    }

    @Test func textWithNulByteIsRejectedBeforeSending() async throws {
        let connection = try await Harness.connect()
        defer { Task { await connection.close() } }
        let error = await #expect(throws: PostgresError.self) {
            try await connection.withSession { session in
                try session.execute("SELECT $1::text", [.text("a\u{0}b")])
            }
        }
        #expect(error?.code == .encodingFailed)
        let ok = try await connection.withSession { try $0.execute("SELECT 1 AS one").first?["one"].int }
        #expect(ok == 1)
    }
}
