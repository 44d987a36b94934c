public import Postgres

/// The group roles of SPEC §4 that a connection switches to right after connecting.
public enum DatabaseRole: String, Sendable {
    case etlIngest = "etl_ingest"
    case vaultAdmin = "vault_admin"

    /// The search path of every product session: the system catalog, then the session's own
    /// temporary tables. No name resolves in a schema another login can write (PUBLIC may
    /// create in `public` on PostgreSQL ≤ 14 and on clusters upgraded from one, and a planted
    /// exact-type function or operator would run with this session's role), so the product's
    /// SQL names every table and function with its schema (`public.pii_vault`,
    /// `fetchde.audit_append`).
    public static let trustedSearchPath = "SET search_path = pg_catalog, pg_temp"

    /// `SET ROLE` to this role, on the trusted search path: from here on the session has this
    /// role's privileges only. Fails with SQLSTATE 42501 when the login user is not a member.
    public func assume(in session: PostgresSession) throws {
        // The role name is one of two compile-time constants, never user input.
        try session.executeScript("\(Self.trustedSearchPath); SET ROLE \(rawValue)")
    }
}
