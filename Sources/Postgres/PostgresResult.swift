/// The rows and row count of one command, decoded from text format.
///
/// A collection of its ``rows``: `for row in result`, `result.first`, `result.count`.
public struct PostgresResult: Sendable, RandomAccessCollection {
    /// The returned rows (empty for commands without a result set).
    public let rows: [PostgresRow]
    /// Rows inserted, updated, deleted, copied or selected, from the command tag.
    public let affectedRows: Int
    /// The result's column names, in order.
    public let columns: [String]

    init(rows: [PostgresRow], affectedRows: Int, columns: [String]) {
        self.rows = rows
        self.affectedRows = affectedRows
        self.columns = columns
    }

    public var startIndex: Int { rows.startIndex }
    public var endIndex: Int { rows.endIndex }
    public subscript(position: Int) -> PostgresRow { rows[position] }
}

/// One result row; cells by position or by column name.
public struct PostgresRow: Sendable {
    let columns: ColumnIndex
    let values: [String?]

    /// The cell at `column` (0-based); traps when out of range, as arrays do.
    public subscript(_ column: Int) -> PostgresCell {
        PostgresCell(column: columns.names[column], value: values[column])
    }

    /// The cell of the first column named `name`; a missing column reads as NULL and its
    /// `require…` accessors throw ``PostgresError/Code/decodingFailed``.
    public subscript(_ name: String) -> PostgresCell {
        guard let index = columns.positions[name] else { return PostgresCell(column: name, value: nil, isMissing: true) }
        return PostgresCell(column: name, value: values[index])
    }

    /// The number of cells.
    public var count: Int { values.count }
}

/// Column names and their positions, shared by every row of a result.
final class ColumnIndex: Sendable {
    let names: [String]
    let positions: [String: Int]

    init(names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }
}
