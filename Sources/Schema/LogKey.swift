/// The fixed metadata keys etl migrate logs with (as postgres-nio's `Logging+PSQL`): one place
/// to see what a log line can carry, which is counts, codes, versions and ids, never a value.
enum LogKey {
    static let schemaVersion = "schema_version"
}
