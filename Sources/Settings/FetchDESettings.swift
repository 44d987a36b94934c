public import Configuration
import Foundation

/// Everything the two programs read from `config/config.ini` and the environment.
///
/// Precedence: command-line options (applied by the executables) > environment variables >
/// the INI file > built-in defaults; `sources` says which one decided each key. The region is
/// `AWS_REGION`, then `AWS_DEFAULT_REGION`, then (applied by the executables) the AWS shared
/// config profile's `region`, then the file's `[aws] region`. Environment names follow the key: `[database] url` is
/// `DATABASE_URL`, `[aws] endpoint_url` is `AWS_ENDPOINT_URL`, and so on (SPEC §6).
public struct FetchDESettings: Sendable {
    /// libpq URL of the `etl` connection (`DATABASE_URL`); nil means libpq's `PG*` variables.
    public var databaseURL: String?
    /// libpq URL of the `vault` connection (`VAULT_DATABASE_URL`), falling back to `databaseURL`.
    public var vaultDatabaseURL: String?
    /// The queue URL (`SQS_QUEUE_URL`); nil means resolve `queueName` with GetQueueUrl.
    public var queueURL: String?
    /// The queue name used when no URL is given.
    public var queueName: String
    /// `json`, `query` or `auto`.
    public var sqsProtocol: String
    /// Deadline of one SQS request in seconds (`SQS_REQUEST_TIMEOUT_SECONDS`); a long poll
    /// gets its wait time on top. A request without an answer by then is abandoned and retried.
    public var sqsRequestTimeoutSeconds: Int
    /// `AWS_REGION`.
    public var region: String
    /// `AWS_ENDPOINT_URL_SQS`, else `AWS_ENDPOINT_URL`; nil means the real AWS endpoint.
    public var endpointURL: String?
    /// Static credentials from the file or environment (the credential chain reads the rest).
    public var accessKeyID: String?
    public var secretAccessKey: String?
    public var sessionToken: String?
    /// CA certificates (PEM) for the AWS endpoints (`AWS_CA_BUNDLE`); nil means the system's.
    public var caBundle: String?
    /// The keys directory (`KEYS_DIR`).
    public var keysDirectory: String
    /// Pipeline tuning (SPEC §7): see `config/config.ini` for what each means.
    public var receiveBatch: Int
    public var receiveLoops: Int
    public var maxReceiveLoops: Int
    public var waitTimeSeconds: Int
    public var visibilityTimeout: Int
    public var batchSize: Int
    public var ingestBatchSize: Int
    public var batchMaxWaitMilliseconds: Int
    public var maxInFlight: Int
    public var maxInFlightBytes: Int
    public var dekMaxEncryptions: Int
    public var activePollSeconds: Int
    /// Client-side deadlines of database round trips (SPEC §7), in seconds: a batch's
    /// transaction (and the writer's other calls), a key poll, a migration step.
    public var batchDeadlineSeconds: Int
    public var pollDeadlineSeconds: Int
    public var migrationDeadlineSeconds: Int
    /// How long `etl ingest` retries a batch the database refuses (not as data) before it exits 69.
    public var retryBudgetSeconds: Int
    /// `/healthz` fails after this long without batch-loop progress while work is pending.
    public var stallSeconds: Int
    /// `HOST:PORT` of the metrics endpoint, or nil when `off`.
    public var metricsAddress: String?
    /// Log level and format names (validated by the executables).
    public var logLevel: String
    public var logFormat: String
    /// Where each key of `effectiveSettings` got its value (absent: the built-in default).
    public var sources: [String: SettingSource] = [:]

    /// Reads every setting from `config`, applying the documented defaults.
    public init(config: ConfigReader) throws {
        func text(_ key: String, secret: Bool = false) -> String? {
            let value = config.string(forKey: ConfigKey(key.split(separator: ".").map(String.init)), isSecret: secret)
            return value.flatMap { $0.isEmpty ? nil : $0 }
        }
        func number(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
            guard let raw = text(key) else { return fallback }
            guard let value = Int(raw), range.contains(value) else {
                throw SettingsError(.invalidValue, "\(key) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
        databaseURL = text("database.url", secret: true)
        vaultDatabaseURL = text("vault.database_url", secret: true) ?? databaseURL
        queueURL = text("sqs.queue_url")
        queueName = text("sqs.queue_name") ?? "login-queue"
        sqsProtocol = text("sqs.protocol") ?? "auto"
        guard ["json", "query", "auto"].contains(sqsProtocol) else {
            throw SettingsError(.invalidValue, "sqs.protocol must be json, query or auto")
        }
        sqsRequestTimeoutSeconds = try number("sqs.request_timeout_seconds", default: 30, range: 1...3600)
        region = text("aws.region") ?? text("aws.default_region") ?? "us-east-1"
        endpointURL = text("aws.endpoint_url_sqs") ?? text("aws.endpoint_url")
        accessKeyID = text("aws.access_key_id", secret: true)
        secretAccessKey = text("aws.secret_access_key", secret: true)
        sessionToken = text("aws.session_token", secret: true)
        caBundle = text("aws.ca_bundle")
        keysDirectory = text("keys.dir") ?? "keys"
        receiveBatch = try number("etl.receive_batch", default: 10, range: 1...10)
        receiveLoops = try number("etl.receive_loops", default: 4, range: 1...64)
        maxReceiveLoops = try number("etl.max_receive_loops", default: 32, range: 1...256)
        waitTimeSeconds = try number("etl.wait_time_seconds", default: 5, range: 0...20)
        visibilityTimeout = try number("etl.visibility_timeout", default: 60, range: 2...43_200)
        batchSize = try number("etl.batch_size", default: 500, range: 1...100_000)
        ingestBatchSize = try number("etl.ingest_batch_size", default: 5000, range: 1...100_000)
        batchMaxWaitMilliseconds = try number("etl.batch_max_wait_ms", default: 200, range: 1...60_000)
        maxInFlight = try number("etl.max_in_flight", default: 2000, range: 10...1_000_000)
        maxInFlightBytes = try number("etl.max_in_flight_bytes", default: 64 << 20, range: (1 << 20)...(1 << 40))
        dekMaxEncryptions = try number("etl.dek_max_encryptions", default: 1_000_000, range: 1...1 << 31)
        activePollSeconds = try number("etl.active_poll_seconds", default: 2, range: 1...3600)
        batchDeadlineSeconds = try number("database.batch_deadline_seconds", default: 30, range: 1...86_400)
        pollDeadlineSeconds = try number("database.poll_deadline_seconds", default: 10, range: 1...86_400)
        migrationDeadlineSeconds = try number("database.migration_deadline_seconds", default: 3600, range: 1...86_400)
        retryBudgetSeconds = try number("database.retry_budget_seconds", default: 60, range: 0...86_400)
        stallSeconds = try number("metrics.stall_seconds", default: 120, range: 1...86_400)
        let metrics = text("metrics.address") ?? "127.0.0.1:9102"
        metricsAddress = metrics.lowercased() == "off" ? nil : metrics
        logLevel = text("log.level") ?? "info"
        logFormat = text("log.format") ?? "text"
    }

    /// Loads the INI file at `path` (a missing file is an error only when `required`) beneath
    /// the process environment, and reads the settings from both.
    public static func load(
        path: String,
        required: Bool,
        environment: [String: String]? = nil
    ) throws -> FetchDESettings {
        var fileValues: [AbsoluteConfigKey: ConfigValue] = [:]
        if let data = FileManager.default.contents(atPath: path) {
            guard let text = String(data: data, encoding: .utf8) else {
                throw SettingsError(.malformedFile, "config file \(path) is not UTF-8 text")
            }
            for (key, value) in try IniParser.parse(text) {
                fileValues[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] =
                    ConfigValue(.string(value), isSecret: false)
            }
        } else if required {
            throw SettingsError(.missingFile, "config file \(path) not found (pass --config PATH)")
        }
        let secretNames: Set<String> = [
            "DATABASE_URL", "VAULT_DATABASE_URL", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_ACCESS_KEY_ID", "VAULT_PASSPHRASE",
        ]
        let reader = ConfigReader(providers: [
            EnvironmentVariablesProvider(
                environmentVariables: environment ?? ProcessInfo.processInfo.environment,
                secretsSpecifier: .specific(secretNames)
            ),
            InMemoryProvider(name: "config.ini", values: fileValues),
        ])
        var settings = try FetchDESettings(config: reader)
        let allEnv = environment ?? ProcessInfo.processInfo.environment
        let env = allEnv.filter { !$0.value.isEmpty }
        let file = fileValues.compactMapValues { value -> String? in
            guard case .string(let text) = value.content, !text.isEmpty else { return nil }
            return text
        }
        func fileValue(_ key: String) -> String? { file[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] }
        // The AWS CLI's order: both region variables come before any file.
        if let (name, value) = ["AWS_REGION", "AWS_DEFAULT_REGION"].lazy.compactMap({ name in env[name].map { (name, $0) } }).first {
            settings.region = value
            settings.sources["aws.region"] = .environment(name)
        } else if let (key, value) = ["aws.region", "aws.default_region"].lazy.compactMap({ key in fileValue(key).map { (key, $0) } }).first {
            settings.region = value
            settings.sources["aws.region"] = .file(path, key: key)
        }
        for key in Self.effectiveValues(settings).map(\.key) where settings.sources[key] == nil && key != "aws.region" {
            for candidate in Self.sourceChain(for: key) {
                let variable = candidate.replacingOccurrences(of: ".", with: "_").uppercased()
                // An empty variable still hides the file's value (the reader takes it as set).
                if allEnv[variable] != nil { settings.sources[key] = .environment(variable); break }
                if fileValue(candidate) != nil { settings.sources[key] = .file(path, key: candidate); break }
            }
        }
        return settings
    }
}
