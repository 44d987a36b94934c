public import Foundation

/// Where the integration tests find the real services that `scripts/services.sh` starts.
///
/// Outside CI a missing service disables the integration suites (a developer without
/// PostgreSQL can still run unit tests); under `CI=true` the suites always run, so a
/// missing service fails loudly instead of being skipped.
public enum TestServices {
    static let environment = ProcessInfo.processInfo.environment

    /// True when running under CI (`CI=true`).
    public static var isCI: Bool { environment["CI"] == "true" }

    /// The superuser/owner URL of the throwaway PostgreSQL cluster (`DATABASE_URL`).
    public static var databaseURL: String? { environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// The SQS endpoint (`AWS_ENDPOINT_URL_SQS` or `AWS_ENDPOINT_URL`).
    public static var sqsEndpoint: String? {
        (environment["AWS_ENDPOINT_URL_SQS"] ?? environment["AWS_ENDPOINT_URL"]).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether PostgreSQL integration suites run: always under CI, else when configured.
    public static var postgresEnabled: Bool { isCI || databaseURL != nil }

    /// Whether SQS integration suites run: always under CI, else when configured.
    public static var sqsEnabled: Bool { isCI || sqsEndpoint != nil }

    /// The database URL, or a thrown error that names the missing variable (CI fails loudly).
    public static func requireDatabaseURL() throws -> String {
        guard let url = databaseURL else { throw MissingService(variable: "DATABASE_URL") }
        return url
    }

    /// The SQS endpoint, or a thrown error that names the missing variable.
    public static func requireSQSEndpoint() throws -> String {
        guard let url = sqsEndpoint else { throw MissingService(variable: "AWS_ENDPOINT_URL") }
        return url
    }

    /// A name unique to this process and call, for databases, schemas and queues.
    public static func uniqueName(_ prefix: String) -> String {
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        return "\(prefix)_\(suffix)"
    }

    /// The repository's `../shared` folder (test data), located from this source file.
    public static var sharedDirectory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // TestSupport
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // repo
            .deletingLastPathComponent()  // parent
            .appendingPathComponent("shared")
    }
}

/// A required service is not configured (start it with `scripts/services.sh`).
public struct MissingService: Error, CustomStringConvertible {
    public let variable: String
    public init(variable: String) { self.variable = variable }
    public var description: String {
        "\(variable) is not set: start the services with scripts/with-services.sh (CI requires them)"
    }
}

extension TestServices {
    /// The path of a built executable of this package (`etl`, `vault`), next to the test
    /// bundle in the build directory (`swift build` builds them before `swift test` runs;
    /// `FETCHDE_BIN_DIR` overrides).
    public static func executable(_ name: String) throws -> String {
        let directory = environment["FETCHDE_BIN_DIR"]
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let path = directory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingService(variable: "executable \(name) in \(directory) (run swift build first)")
        }
        return path
    }
}
