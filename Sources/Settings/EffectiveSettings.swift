/// Where an effective setting came from (`etl config`, `vault config`).
public enum SettingSource: Sendable, Equatable, CustomStringConvertible {
    /// The built-in default.
    case builtIn
    /// The INI file at `path`, key `key` (`section.name`).
    case file(String, key: String)
    /// The environment variable of that name.
    case environment(String)
    /// A command-line option.
    case flag(String)
    /// An AWS shared config file's profile (`description` says which).
    case awsProfile(String)

    public var description: String {
        switch self {
        case .builtIn: "default"
        case .file(let path, let key):
            if let dot = key.firstIndex(of: ".") {
                "file \(path) [\(key[..<dot])] \(key[key.index(after: dot)...])"
            } else {
                "file \(path) \(key)"
            }
        case .environment(let name): "env \(name)"
        case .flag(let name): "flag \(name)"
        case .awsProfile(let text): text
        }
    }
}

/// One effective setting: its key, its value (nil: unset), whether it is secret, its source.
public struct EffectiveSetting: Sendable, Equatable {
    public var key: String
    public var value: String?
    public var isSecret: Bool
    public var source: SettingSource

    public init(key: String, value: String?, isSecret: Bool = false, source: SettingSource) {
        self.key = key
        self.value = value
        self.isSecret = isSecret
        self.source = source
    }

    /// `key = value  (source)`, a secret as `<set>` / `<unset>` (never its value).
    public var displayValue: String {
        guard let value else { return "<unset>" }
        return isSecret ? "<set>" : value
    }
}

extension FetchDESettings {
    /// The keys that may give `key` its value, in precedence order (environment before file
    /// for each; the region is resolved separately).
    static func sourceChain(for key: String) -> [String] {
        switch key {
        case "vault.database_url": ["vault.database_url", "database.url"]
        case "aws.endpoint_url": ["aws.endpoint_url_sqs", "aws.endpoint_url"]
        default: [key]
        }
    }

    /// Every effective setting, in the order of `config/config.ini`.
    public var effectiveSettings: [EffectiveSetting] {
        Self.effectiveValues(self).map { key, value, secret in
            EffectiveSetting(key: key, value: value, isSecret: secret, source: sources[key] ?? .builtIn)
        }
    }

    static func effectiveValues(_ s: FetchDESettings) -> [(key: String, value: String?, secret: Bool)] {
        [
            ("database.url", s.databaseURL, true),
            ("database.batch_deadline_seconds", "\(s.batchDeadlineSeconds)", false),
            ("database.poll_deadline_seconds", "\(s.pollDeadlineSeconds)", false),
            ("database.migration_deadline_seconds", "\(s.migrationDeadlineSeconds)", false),
            ("database.retry_budget_seconds", "\(s.retryBudgetSeconds)", false),
            ("vault.database_url", s.vaultDatabaseURL, true),
            ("sqs.queue_url", s.queueURL, false),
            ("sqs.queue_name", s.queueName, false),
            ("sqs.protocol", s.sqsProtocol, false),
            ("sqs.request_timeout_seconds", "\(s.sqsRequestTimeoutSeconds)", false),
            ("aws.region", s.region, false),
            ("aws.endpoint_url", s.endpointURL, false),
            ("aws.access_key_id", s.accessKeyID, true),
            ("aws.secret_access_key", s.secretAccessKey, true),
            ("aws.session_token", s.sessionToken, true),
            ("aws.ca_bundle", s.caBundle, false),
            ("keys.dir", s.keysDirectory, false),
            ("etl.receive_batch", "\(s.receiveBatch)", false),
            ("etl.receive_loops", "\(s.receiveLoops)", false),
            ("etl.wait_time_seconds", "\(s.waitTimeSeconds)", false),
            ("etl.visibility_timeout", "\(s.visibilityTimeout)", false),
            ("etl.batch_size", "\(s.batchSize)", false),
            ("etl.batch_max_wait_ms", "\(s.batchMaxWaitMilliseconds)", false),
            ("etl.ingest_batch_size", "\(s.ingestBatchSize)", false),
            ("etl.max_in_flight", "\(s.maxInFlight)", false),
            ("etl.max_in_flight_bytes", "\(s.maxInFlightBytes)", false),
            ("etl.dek_max_encryptions", "\(s.dekMaxEncryptions)", false),
            ("etl.active_poll_seconds", "\(s.activePollSeconds)", false),
            ("metrics.address", s.metricsAddress ?? "off", false),
            ("metrics.stall_seconds", "\(s.stallSeconds)", false),
            ("log.level", s.logLevel, false),
            ("log.format", s.logFormat, false),
        ]
    }
}
