import CLibPQ

/// The one owner of a `PGresult`, cleared when released.
final class LibPQResult {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { PQclear(handle) }

    var status: ExecStatusType { PQresultStatus(handle) }

    var isError: Bool {
        let status = self.status
        return status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR
    }

    /// A diagnostic field (`PG_DIAG_*`), e.g. `field("C")` for the SQLSTATE.
    func field(_ code: Unicode.Scalar) -> String? {
        Self.field(of: handle, code)
    }

    static func field(of handle: OpaquePointer, _ code: Unicode.Scalar) -> String? {
        guard let value = PQresultErrorField(handle, Int32(code.value)) else { return nil }
        return String(cString: value)
    }

    /// The command tag's row count (`INSERT 0 5` → 5; 0 when the tag has none).
    var affectedRows: Int {
        guard let tuples = PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: tuples)) ?? 0
    }

    /// The command tag, e.g. `COMMIT` or `ROLLBACK`.
    var commandStatus: String {
        guard let status = PQcmdStatus(handle) else { return "" }
        return String(cString: status)
    }

    /// Copies rows and columns out of the `PGresult` (text format).
    func decode() -> PostgresResult {
        let fieldCount = Int(PQnfields(handle))
        let rowCount = Int(PQntuples(handle))
        var names: [String] = []
        names.reserveCapacity(fieldCount)
        for column in 0..<fieldCount {
            names.append(PQfname(handle, Int32(column)).map { String(cString: $0) } ?? "?column?")
        }
        let index = ColumnIndex(names: names)
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(fieldCount)
            for column in 0..<Int32(fieldCount) {
                if PQgetisnull(handle, row, column) != 0 {
                    values.append(nil)
                    continue
                }
                let length = Int(PQgetlength(handle, row, column))
                let bytes = UnsafeRawPointer(PQgetvalue(handle, row, column)!).assumingMemoryBound(to: UInt8.self)
                values.append(String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self))
            }
            rows.append(PostgresRow(columns: index, values: values))
        }
        return PostgresResult(rows: rows, affectedRows: status == PGRES_TUPLES_OK ? rowCount : affectedRows, columns: names)
    }
}
