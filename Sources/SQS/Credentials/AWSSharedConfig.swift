public import Foundation

/// The AWS CLI's shared configuration as the CLI reads it: `~/.aws/config`
/// (`AWS_CONFIG_FILE`) and `~/.aws/credentials` (`AWS_SHARED_CREDENTIALS_FILE`), profile
/// `AWS_PROFILE` (else `AWS_DEFAULT_PROFILE`, else `default`).
///
/// In the config file a profile is `[profile NAME]` (`[default]` or `[profile default]` for the
/// default one); in the credentials file it is `[NAME]`, and its keys win over the config
/// file's for the same profile.
public struct AWSSharedConfig: Sendable {
    /// The selected profile.
    public let profileName: String
    /// Whether `AWS_PROFILE` / `AWS_DEFAULT_PROFILE` named it (a missing one is then an error).
    public let profileIsExplicit: Bool
    /// The config file path (it may not exist).
    public let configPath: String?
    /// The credentials file path (it may not exist).
    public let credentialsPath: String?
    let configSections: [String: [String: String]]
    let credentialsSections: [String: [String: String]]
    let credentialsFileUnreadable: Bool

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let env = environment.filter { !$0.value.isEmpty }
        let explicit = env["AWS_PROFILE"] ?? env["AWS_DEFAULT_PROFILE"]
        profileName = explicit ?? "default"
        profileIsExplicit = explicit != nil
        func path(_ variable: String, _ file: String) -> String? {
            if let path = env[variable] { return NSString(string: path).expandingTildeInPath }
            return env["HOME"].map { $0 + "/.aws/" + file }
        }
        configPath = path("AWS_CONFIG_FILE", "config")
        credentialsPath = path("AWS_SHARED_CREDENTIALS_FILE", "credentials")
        func read(_ path: String?) -> [String: [String: String]]? {
            guard let path, let data = FileManager.default.contents(atPath: path) else { return nil }
            return AWSProfileFile.parse(String(decoding: data, as: UTF8.self))
        }
        configSections = read(configPath) ?? [:]
        let credentials = read(credentialsPath)
        credentialsSections = credentials ?? [:]
        credentialsFileUnreadable = credentials == nil && env["AWS_SHARED_CREDENTIALS_FILE"] != nil
    }

    /// The keys of profile `name` (lowercased), or nil when neither file has it.
    public func profile(_ name: String) -> [String: String]? {
        let fromConfig = configSections["profile \(name)"] ?? (name == "default" ? configSections["default"] : nil)
        let fromCredentials = credentialsSections[name]
        guard fromConfig != nil || fromCredentials != nil else { return nil }
        var merged = fromConfig ?? [:]
        for (key, value) in fromCredentials ?? [:] { merged[key] = value }
        return merged.filter { !$0.value.isEmpty }
    }

    /// `region` of the selected profile.
    public var region: String? { profile(profileName)?["region"] }

    /// `ca_bundle` of the selected profile.
    public var caBundle: String? { profile(profileName)?["ca_bundle"].map { NSString(string: $0).expandingTildeInPath } }
}

/// AWS partitions: the DNS suffix of service endpoints by region.
public enum AWSPartition {
    /// `amazonaws.com.cn` for the China regions (`cn-*`), else `amazonaws.com`.
    public static func dnsSuffix(region: String) -> String {
        region.lowercased().hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
    }

    /// `https://SERVICE.REGION.SUFFIX/`.
    public static func endpoint(service: String, region: String) -> String {
        "https://\(service).\(region).\(dnsSuffix(region: region))/"
    }
}
