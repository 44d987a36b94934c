public import Logging

extension PostgresConnection {
    /// Connects, runs `body` with the connection and closes it afterwards, also when `body`
    /// throws (as async-http-client's `withHTTPClient`).
    public static func withConnection<T: Sendable>(
        url: String?, applicationName: String = "fetchde", overrides: [(keyword: String, value: String)] = [],
        deadline: Duration? = nil, logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await connect(url: url, applicationName: applicationName, overrides: overrides, deadline: deadline, logger: logger)
            .closing(body)
    }

    /// Runs `body` with this connection and closes it afterwards, also when `body` throws: the
    /// one place a connection's close-on-every-path is written.
    public func closing<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            let value = try await body(self)
            await close()
            return value
        } catch {
            await close()
            throw error
        }
    }
}
