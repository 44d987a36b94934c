public import Postgres

/// The group roles of SPEC §4 that a connection switches to right after connecting.
public enum DatabaseRole: String, Sendable {
    case etlIngest = "etl_ingest"
    case vaultAdmin = "vault_admin"

    /// `SET ROLE` to this role: from here on the session has this role's privileges only.
    /// Fails with SQLSTATE 42501 when the login user is not a member.
    public func assume(in session: PostgresSession) throws {
        // The role name is one of two compile-time constants, never user input.
        try session.executeScript("SET ROLE \(rawValue)")
    }
}
