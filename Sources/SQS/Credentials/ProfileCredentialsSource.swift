import Foundation

/// The selected profile of the shared config and credentials files, as the AWS CLI resolves it:
///
/// - `role_arn` with `source_profile` (the source's credentials, resolved the same way, sign an
///   STS `AssumeRole`; chains allowed, cycles refused), with `credential_source`
///   (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`), or with `web_identity_token_file`
///   (`AssumeRoleWithWebIdentity`); `role_session_name`, `external_id`, `duration_seconds` apply;
/// - static `aws_access_key_id` / `aws_secret_access_key` (`aws_session_token`);
/// - `credential_process`.
///
/// `nil` when the profile has none of these (or the default profile does not exist); an
/// explicitly selected profile that does not exist is an error.
struct ProfileCredentialsSource: CredentialsSource {
    let config: AWSSharedConfig
    let environment: [String: String]
    let sts: STSClient

    func resolve() async throws -> AWSCredentials? {
        guard config.profile(config.profileName) != nil else {
            if config.profileIsExplicit {
                throw SQSError(code: .credentials, isRetryable: false, reason: config.credentialsFileUnreadable
                    ? "shared credentials file not readable" : "AWS profile not found in the shared config files")
            }
            return nil
        }
        return try await credentials(profile: config.profileName, visited: [], asSource: false)
    }

    private func credentials(profile name: String, visited: [String], asSource: Bool) async throws -> AWSCredentials? {
        guard !visited.contains(name) else {
            throw SQSError(code: .credentials, isRetryable: false, reason: "source_profile chain has a cycle")
        }
        guard let profile = config.profile(name) else {
            throw SQSError(code: .credentials, isRetryable: false, reason: "source_profile names a profile that does not exist")
        }
        let staticKeys = try Self.staticCredentials(profile)
        // A source profile's own keys win over its role (so a profile may name itself); the
        // selected profile's role wins over its keys.
        if asSource, let staticKeys { return staticKeys }
        if let roleARN = profile["role_arn"] {
            return try await assumeRole(roleARN, profile: profile, name: name, visited: visited)
        }
        if let staticKeys { return staticKeys }
        if let command = profile["credential_process"] { return try await CredentialProcess.run(command) }
        if asSource {
            throw SQSError(code: .credentials, isRetryable: false, reason: "source_profile has no credentials")
        }
        return nil
    }

    private func assumeRole(_ roleARN: String, profile: [String: String], name: String, visited: [String]) async throws -> AWSCredentials {
        let sessionName = profile["role_session_name"] ?? "fetchde-\(Int(Date().timeIntervalSince1970))"
        let source: AWSCredentials
        if let sourceProfile = profile["source_profile"] {
            if sourceProfile == name {
                guard let own = try Self.staticCredentials(profile) else {
                    throw SQSError(code: .credentials, isRetryable: false, reason: "source_profile names itself without keys")
                }
                source = own
            } else {
                source = try await credentials(profile: sourceProfile, visited: visited + [name], asSource: true)!
            }
        } else if let credentialSource = profile["credential_source"] {
            let provider: any CredentialsSource
            switch credentialSource {
            case "Environment": provider = EnvironmentCredentialsSource(environment: environment)
            case "Ec2InstanceMetadata": provider = InstanceMetadataCredentialsSource(environment: environment)
            case "EcsContainer": provider = ContainerCredentialsSource(environment: environment)
            default:
                throw SQSError(code: .credentials, isRetryable: false, reason: "unsupported credential_source")
            }
            guard let found = try await provider.resolve() else {
                throw SQSError(code: .credentials, isRetryable: false, reason: "credential_source has no credentials")
            }
            source = found
        } else if let tokenFile = profile["web_identity_token_file"] {
            let token = try WebIdentityCredentialsSource.readToken(NSString(string: tokenFile).expandingTildeInPath)
            return try await sts.assumeRoleWithWebIdentity(roleARN: roleARN, sessionName: sessionName, token: token)
        } else {
            throw SQSError(code: .credentials, isRetryable: false,
                           reason: "role_arn needs source_profile, credential_source or web_identity_token_file")
        }
        let duration = profile["duration_seconds"].flatMap { Int($0) }
        return try await sts.assumeRole(roleARN: roleARN, sessionName: sessionName, externalID: profile["external_id"],
                                        durationSeconds: duration, sourceCredentials: source)
    }

    static func staticCredentials(_ profile: [String: String]) throws(SQSError) -> AWSCredentials? {
        switch (profile["aws_access_key_id"], profile["aws_secret_access_key"]) {
        case (nil, nil):
            return nil
        case (let accessKey?, let secret?):
            return AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: profile["aws_session_token"])
        default:
            throw SQSError(code: .credentials, isRetryable: false, reason: "profile has only one of aws_access_key_id and aws_secret_access_key")
        }
    }
}
