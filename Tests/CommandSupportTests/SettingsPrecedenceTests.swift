import ArgumentParser
import CommandSupport
import Foundation
import Settings
import SQS
import Testing

/// Which layer decides a setting, and that the source reported for it (`etl config`,
/// `vault config`) is that layer: flags > environment > AWS shared config profile (region,
/// CA bundle) > config.ini > built-in defaults.
@Suite("settings precedence and reported sources")
struct SettingsPrecedenceTests {
    /// A scratch directory with a config.ini of `ini` and, if given, an AWS config file.
    struct Files {
        let directory: String
        var configPath: String { directory + "/config.ini" }
        var awsConfigPath: String { directory + "/aws-config" }

        init(ini: String, awsConfig: String? = nil) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try ini.write(toFile: directory + "/config.ini", atomically: true, encoding: .utf8)
            if let awsConfig { try awsConfig.write(toFile: directory + "/aws-config", atomically: true, encoding: .utf8) }
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }

        func load(_ environment: [String: String]) throws -> FetchDESettings {
            try FetchDESettings.load(path: configPath, required: true, environment: environment)
        }
    }

    static let ini = """
        [database]
        url = postgresql://file@127.0.0.1/file
        [sqs]
        queue_name = file-queue
        [aws]
        region = eu-west-3
        endpoint_url = http://file-endpoint:4566
        [etl]
        batch_size = 111
        receive_loops = 3
        [log]
        level = warning
        format = text
        """

    func setting(_ settings: FetchDESettings, _ key: String) throws -> EffectiveSetting {
        try #require(settings.effectiveSettings.first { $0.key == key }, "no setting \(key)")
    }

    @Test("with neither file value nor variable, the built-in default applies and says so")
    func builtInDefaults() throws {
        let settings = try FetchDESettings.load(path: "/nonexistent/config.ini", required: false, environment: [:])
        #expect(settings.batchSize == 500)
        #expect(settings.queueName == "login-queue")
        #expect(settings.region == "us-east-1")
        #expect(try setting(settings, "etl.batch_size").source == .builtIn)
        #expect(try setting(settings, "aws.region").source == .builtIn)
        #expect(try setting(settings, "database.url").value == nil)
        #expect(try setting(settings, "database.url").displayValue == "<unset>")
    }

    @Test("a missing file named explicitly is an error; the default path may be absent")
    func requiredFile() throws {
        #expect(throws: (any Error).self) {
            try FetchDESettings.load(path: "/nonexistent/config.ini", required: true, environment: [:])
        }
        #expect(try FetchDESettings.load(path: "/nonexistent/config.ini", required: false, environment: [:]).batchSize == 500)
    }

    @Test("the file beats the defaults; each value names the file and its section and key")
    func fileBeatsDefaults() throws {
        let files = try Files(ini: Self.ini)
        defer { files.remove() }
        let settings = try files.load([:])
        #expect(settings.batchSize == 111)
        #expect(settings.queueName == "file-queue")
        #expect(settings.region == "eu-west-3")
        #expect(try setting(settings, "etl.batch_size").source == .file(files.configPath, key: "etl.batch_size"))
        #expect(try setting(settings, "etl.batch_size").source.description == "file \(files.configPath) [etl] batch_size")
        #expect(try setting(settings, "aws.region").source == .file(files.configPath, key: "aws.region"))
        // A key the file does not set stays the default.
        #expect(settings.visibilityTimeout == 60)
        #expect(try setting(settings, "etl.visibility_timeout").source == .builtIn)
    }

    @Test("an environment variable beats the file; the source names the variable")
    func environmentBeatsFile() throws {
        let files = try Files(ini: Self.ini)
        defer { files.remove() }
        let settings = try files.load([
            "ETL_BATCH_SIZE": "222", "SQS_QUEUE_NAME": "env-queue", "DATABASE_URL": "postgresql://env@127.0.0.1/env",
        ])
        #expect(settings.batchSize == 222)
        #expect(settings.queueName == "env-queue")
        #expect(settings.databaseURL == "postgresql://env@127.0.0.1/env")
        #expect(try setting(settings, "etl.batch_size").source == .environment("ETL_BATCH_SIZE"))
        #expect(try setting(settings, "etl.batch_size").source.description == "env ETL_BATCH_SIZE")
        #expect(try setting(settings, "sqs.queue_name").source == .environment("SQS_QUEUE_NAME"))
        // Keys the environment does not name still come from the file.
        #expect(settings.receiveLoops == 3)
        #expect(try setting(settings, "etl.receive_loops").source == .file(files.configPath, key: "etl.receive_loops"))
    }

    @Test("a secret's source is reported, its value never: <set> or <unset>")
    func secretsAreNotShown() throws {
        let files = try Files(ini: Self.ini)
        defer { files.remove() }
        let settings = try files.load(["DATABASE_URL": "postgresql://user:hunter2@db/x", "AWS_SECRET_ACCESS_KEY": "s3cr3t"])
        let database = try setting(settings, "database.url")
        #expect(database.isSecret && database.displayValue == "<set>")
        #expect(database.source == .environment("DATABASE_URL"))
        let secret = try setting(settings, "aws.secret_access_key")
        #expect(secret.isSecret && secret.displayValue == "<set>")
        #expect(try setting(settings, "aws.session_token").displayValue == "<unset>")
        let report = settings.effectiveSettings.map { "\($0.key) \($0.displayValue) \($0.source)" }.joined(separator: "\n")
        #expect(!report.contains("hunter2") && !report.contains("s3cr3t"))
    }

    @Test("the vault's database URL falls back to DATABASE_URL and says so; its own variable wins")
    func vaultDatabaseFallback() throws {
        let files = try Files(ini: "")
        defer { files.remove() }
        let fallback = try files.load(["DATABASE_URL": "postgresql://a@h/db"])
        #expect(fallback.vaultDatabaseURL == "postgresql://a@h/db")
        #expect(try setting(fallback, "vault.database_url").source == .environment("DATABASE_URL"))
        let own = try files.load(["DATABASE_URL": "postgresql://a@h/db", "VAULT_DATABASE_URL": "postgresql://v@h/db"])
        #expect(own.vaultDatabaseURL == "postgresql://v@h/db")
        #expect(try setting(own, "vault.database_url").source == .environment("VAULT_DATABASE_URL"))
    }

    @Test("AWS_ENDPOINT_URL_SQS beats AWS_ENDPOINT_URL, which beats the file's endpoint_url")
    func endpointChain() throws {
        let files = try Files(ini: Self.ini)
        defer { files.remove() }
        #expect(try files.load([:]).endpointURL == "http://file-endpoint:4566")
        let general = try files.load(["AWS_ENDPOINT_URL": "http://general:1"])
        #expect(general.endpointURL == "http://general:1")
        #expect(try setting(general, "aws.endpoint_url").source == .environment("AWS_ENDPOINT_URL"))
        let specific = try files.load(["AWS_ENDPOINT_URL": "http://general:1", "AWS_ENDPOINT_URL_SQS": "http://sqs:2"])
        #expect(specific.endpointURL == "http://sqs:2")
        #expect(try setting(specific, "aws.endpoint_url").source == .environment("AWS_ENDPOINT_URL_SQS"))
    }

    @Test("region: AWS_REGION, then AWS_DEFAULT_REGION, then the AWS profile, then the file")
    func regionOrder() throws {
        let aws = """
            [default]
            region = ap-southeast-2
            [profile other]
            region = sa-east-1
            """
        let files = try Files(ini: Self.ini, awsConfig: aws)
        defer { files.remove() }
        func resolved(_ environment: [String: String]) throws -> FetchDESettings {
            var env = environment
            env["AWS_CONFIG_FILE"] = files.awsConfigPath
            env["AWS_SHARED_CREDENTIALS_FILE"] = files.directory + "/no-credentials"
            var settings = try files.load(env)
            settings.applyAWSSharedConfig(AWSSharedConfig(environment: env))
            return settings
        }
        let both = try resolved(["AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-central-1"])
        #expect(both.region == "us-west-2")
        #expect(try setting(both, "aws.region").source == .environment("AWS_REGION"))

        let defaultVariable = try resolved(["AWS_DEFAULT_REGION": "eu-central-1"])
        #expect(defaultVariable.region == "eu-central-1")
        #expect(try setting(defaultVariable, "aws.region").source == .environment("AWS_DEFAULT_REGION"))

        // No variable: the selected profile beats config.ini's [aws] region.
        let profile = try resolved([:])
        #expect(profile.region == "ap-southeast-2")
        let source = try setting(profile, "aws.region").source
        #expect(source == .awsProfile("profile default of \(files.awsConfigPath)"), "\(source)")

        let named = try resolved(["AWS_PROFILE": "other"])
        #expect(named.region == "sa-east-1")
        #expect(try setting(named, "aws.region").source == .awsProfile("profile other of \(files.awsConfigPath)"))

        // A profile without a region leaves the file's.
        let noRegion = try resolved(["AWS_PROFILE": "missing"])
        #expect(noRegion.region == "eu-west-3")
        #expect(try setting(noRegion, "aws.region").source == .file(files.configPath, key: "aws.region"))
    }

    @Test("the AWS profile's ca_bundle beats the file; AWS_CA_BUNDLE beats the profile")
    func caBundleOrder() throws {
        let files = try Files(ini: Self.ini + "\n[aws]\nca_bundle = /file/ca.pem\n", awsConfig: "[default]\nca_bundle = /profile/ca.pem\n")
        defer { files.remove() }
        let base = ["AWS_CONFIG_FILE": files.awsConfigPath, "AWS_SHARED_CREDENTIALS_FILE": files.directory + "/none"]
        var fromProfile = try files.load(base)
        #expect(fromProfile.caBundle == "/file/ca.pem")
        fromProfile.applyAWSSharedConfig(AWSSharedConfig(environment: base))
        #expect(fromProfile.caBundle == "/profile/ca.pem")
        #expect(try setting(fromProfile, "aws.ca_bundle").source == .awsProfile("profile default of \(files.awsConfigPath)"))

        let withVariable = base.merging(["AWS_CA_BUNDLE": "/env/ca.pem"]) { $1 }
        var fromEnvironment = try files.load(withVariable)
        fromEnvironment.applyAWSSharedConfig(AWSSharedConfig(environment: withVariable))
        #expect(fromEnvironment.caBundle == "/env/ca.pem")
        #expect(try setting(fromEnvironment, "aws.ca_bundle").source == .environment("AWS_CA_BUNDLE"))
    }

    @Test("--log-level and --log-format beat the file (and name the flag as their source)")
    func flagsBeatFile() throws {
        let files = try Files(ini: Self.ini)
        defer { files.remove() }
        let withFlags = try CommonOptions.parse(["--config", files.configPath, "--log-level", "debug", "--log-format", "json"])
        let flagged = try withFlags.loadSettings()
        #expect(flagged.logLevel == "debug")
        #expect(flagged.logFormat == "json")
        #expect(try setting(flagged, "log.level").source == .flag("--log-level"))
        #expect(try setting(flagged, "log.level").source.description == "flag --log-level")
        #expect(try setting(flagged, "log.format").source == .flag("--log-format"))
        // Without the flags the lower layers decide (the file here, unless this process's
        // environment names the variable).
        let plain = try CommonOptions.parse(["--config", files.configPath]).loadSettings()
        if ProcessInfo.processInfo.environment["LOG_LEVEL"] == nil {
            #expect(plain.logLevel == "warning")
            #expect(try setting(plain, "log.level").source == .file(files.configPath, key: "log.level"))
        } else {
            #expect(try setting(plain, "log.level").source == .environment("LOG_LEVEL"))
        }
    }

    @Test("an empty variable hides the file's value: the default applies, reported as the variable")
    func emptyVariable() throws {
        let files = try Files(ini: Self.ini)
        defer { files.remove() }
        let settings = try files.load(["SQS_QUEUE_NAME": ""])
        #expect(settings.queueName == "login-queue")
        #expect(try setting(settings, "sqs.queue_name").source == .environment("SQS_QUEUE_NAME"))
    }
}
