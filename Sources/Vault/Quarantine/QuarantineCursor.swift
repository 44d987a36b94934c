import PIICrypto
import Postgres

/// Reads the quarantined messages a replay selects a chunk at a time, through a cursor of the
/// replay's transaction (its snapshot is the one of the first read: rows the replay deletes
/// or updates meanwhile are still read once), so the first chunk is written while later ones
/// are still to be read and opened. Each chunk comes with the data keys its bodies need
/// (each unsealed once per replay); opening the bodies is left to the caller's background work.
struct QuarantineCursor {
    /// A chunk as read: the rows and the data keys to open them with.
    struct Chunk: Sendable {
        let rows: [PostgresRow]
        let dataKeys: [Int64: SecureBytes]

        /// The quarantine ids of the chunk's rows.
        var ids: [Int64] { rows.compactMap { $0[0].int } }

        /// The chunk's bodies, opened (CPU work).
        func opened() -> [OpenedQuarantine] { OpenedQuarantine.open(rows, dataKeys: dataKeys) }
    }

    private static let name = "fetchde_quarantine_replay"
    private let session: PostgresSession
    private let keyring: VaultKeyring
    private let chunkSize: Int
    private var dataKeys: [Int64: SecureBytes] = [:]
    private var finished = false
    /// The number of rows selected when the cursor opened (for progress; the chunks may hold
    /// a few more or fewer when etl quarantines or a concurrent replay loads meanwhile).
    let expected: Int

    /// Opens the cursor over the rows `ids` select (all when nil), inside the caller's transaction.
    init(_ session: PostgresSession, ids: [Int64]?, keyring: VaultKeyring, chunkSize: Int) throws {
        self.session = session
        self.keyring = keyring
        self.chunkSize = max(1, chunkSize)
        let query = QuarantineSQL.select(ids: ids)
        try session.execute("DECLARE \(Self.name) NO SCROLL CURSOR FOR \(query.sql)", query.parameters)
        let count = QuarantineSQL.count(ids: ids)
        expected = Int(try session.execute(count.sql, count.parameters).rows.first?[0].int ?? 0)
    }

    /// The next chunk, or nil once every row was read (the cursor is then closed).
    mutating func next() throws -> Chunk? {
        guard !finished else { return nil }
        let rows = try session.execute("FETCH FORWARD \(chunkSize) FROM \(Self.name)").rows
        if rows.count < chunkSize {
            finished = true
            try session.execute("CLOSE \(Self.name)")
        }
        guard !rows.isEmpty else { return nil }
        let needed = Set(rows.compactMap { $0[2].int }).subtracting(dataKeys.keys)
        dataKeys.merge(try keyring.unsealDataKeys(session, ids: needed).opened) { old, _ in old }
        return Chunk(rows: rows, dataKeys: dataKeys)
    }
}
