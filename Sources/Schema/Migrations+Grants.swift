extension Migration {
    /// Lets both roles read the schema version (`vault status`, readiness checks).
    static let versionGrants = Migration(
        version: 4,
        summary: "roles may read the schema version",
        sql: "GRANT SELECT ON fetchde_schema_migrations TO etl_ingest, vault_admin;"
    )
}
