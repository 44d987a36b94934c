/// The fixed metadata keys etl logs with (as postgres-nio's `Logging+PSQL`): one place
/// to see what a log line can carry, which is counts, codes, versions and ids, never a value.
enum LogKey {
    static let address = "address"
    static let errno = "errno"
    static let error = "error"
    static let signal = "signal"
}
