import Foundation
public import Settings
public import SQS

extension FetchDESettings {
    /// Puts the AWS shared config between the environment and our config file, as the AWS CLI
    /// orders them: the selected profile's `region` and `ca_bundle` apply unless an environment
    /// variable (`AWS_REGION`, `AWS_DEFAULT_REGION`; `AWS_CA_BUNDLE`) named one.
    public mutating func applyAWSSharedConfig(_ shared: AWSSharedConfig) {
        let where_ = "profile \(shared.profileName) of \(shared.configPath ?? "~/.aws/config")"
        if !Self.isEnvironment(sources["aws.region"]), let region = shared.region {
            self.region = region
            sources["aws.region"] = .awsProfile(where_)
        }
        if !Self.isEnvironment(sources["aws.ca_bundle"]), let caBundle = shared.caBundle {
            self.caBundle = caBundle
            sources["aws.ca_bundle"] = .awsProfile(where_)
        }
    }

    private static func isEnvironment(_ source: SettingSource?) -> Bool {
        if case .environment = source { return true }
        return false
    }
}

/// The report of `etl config` and `vault config`: every effective setting, one line each,
/// `KEY<TAB>VALUE<TAB>SOURCE` escaped by ``TerminalText``; secrets are `<set>` or `<unset>`.
public enum ConfigReport {
    public static func text(settings: FetchDESettings, configPath: String, configExplicit: Bool,
                            shared: AWSSharedConfig = AWSSharedConfig(), extra: [EffectiveSetting] = []) -> String {
        var entries = settings.effectiveSettings
        entries.append(EffectiveSetting(
            key: "aws.profile", value: shared.profileName,
            source: shared.profileIsExplicit ? .environment("AWS_PROFILE") : .builtIn))
        entries.append(EffectiveSetting(
            key: "aws.config_file", value: shared.configPath,
            source: environmentSource("AWS_CONFIG_FILE")))
        entries.append(EffectiveSetting(
            key: "aws.shared_credentials_file", value: shared.credentialsPath,
            source: environmentSource("AWS_SHARED_CREDENTIALS_FILE")))
        entries += extra
        let present = FileManager.default.fileExists(atPath: configPath)
        var out = TerminalText.record([
            "config", present ? configPath : configPath + " (absent)", configExplicit ? "flag --config" : "default",
        ])
        for entry in entries {
            out += TerminalText.record([entry.key, entry.displayValue, entry.source.description])
        }
        return out
    }

    private static func environmentSource(_ name: String) -> SettingSource {
        let value = ProcessInfo.processInfo.environment[name]
        return value?.isEmpty ?? true ? .builtIn : .environment(name)
    }
}
