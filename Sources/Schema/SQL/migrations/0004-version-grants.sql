-- roles may read the schema version
GRANT SELECT ON fetchde_schema_migrations TO etl_ingest, vault_admin;
