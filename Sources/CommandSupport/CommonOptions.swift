public import ArgumentParser
import Foundation
public import Logging
public import Settings
import SQS

/// Options every subcommand of both tools takes (SPEC §5).
public struct CommonOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Configuration file (INI).")
    public var config: String = "config/config.ini"

    @Option(name: .long, help: "trace|debug|info|notice|warning|error (env LOG_LEVEL).")
    public var logLevel: String?

    @Option(name: .long, help: "text|json")
    public var logFormat: String?

    public init() {}

    public func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
        }
        if let logFormat, !["text", "json"].contains(logFormat) {
            throw ValidationError("--log-format must be text or json")
        }
    }

    /// Whether `--config` was given (an explicit file must exist).
    public var configIsExplicit: Bool {
        CommandLine.arguments.contains { $0 == "--config" || $0.hasPrefix("--config=") }
    }

    /// Loads the settings; the default path may be absent (defaults + environment apply),
    /// an explicitly named file must exist.
    public func loadSettings() throws -> FetchDESettings {
        var settings = try FetchDESettings.load(path: config, required: configIsExplicit)
        settings.applyAWSSharedConfig(AWSSharedConfig())
        if let logLevel {
            settings.logLevel = logLevel
            settings.sources["log.level"] = .flag("--log-level")
        }
        if let logFormat {
            settings.logFormat = logFormat
            settings.sources["log.format"] = .flag("--log-format")
        }
        return settings
    }

    /// Bootstraps logging once per process from the settings and returns the root logger.
    public func bootstrapLogging(label: String, settings: FetchDESettings) throws -> Logger {
        guard let level = Logger.Level(rawValue: settings.logLevel) else {
            throw SettingsError(.invalidValue, "log.level must be one of trace, debug, info, notice, warning, error")
        }
        guard ["text", "json"].contains(settings.logFormat) else {
            throw SettingsError(.invalidValue, "log.format must be text or json")
        }
        LogBootstrap.bootstrap(format: settings.logFormat == "json" ? .json : .text, level: level)
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
