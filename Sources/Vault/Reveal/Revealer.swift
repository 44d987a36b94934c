import Logging
import PIICrypto
import Postgres
import VaultFormat

/// One revealed original.
public struct RevealedValue: Sendable, Equatable, Codable {
    public let token: String
    public let field: String
    public let original: String

    public init(token: String, field: String, original: String) {
        self.token = token
        self.field = field
        self.original = original
    }
}

/// A requested token that was not revealed, and why.
public struct RevealProblem: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Not 64 hex digits.
        case malformed
        /// No vault entry and never forgotten.
        case unknown
        /// Deleted by `vault forget`.
        case forgotten
        /// The ciphertext or its data key failed authentication (tampered or moved).
        case integrity
    }

    public let kind: Kind
    /// The canonical token (nil for malformed input, which is never echoed).
    public let token: String?
    /// One line for stderr, naming the token but never a value.
    public let message: String
}

/// What a reveal produced. Values are in the order the tokens were requested.
public struct RevealResult: Sendable {
    public var values: [RevealedValue]
    public var problems: [RevealProblem]
    /// How many data keys were unsealed (each at most once per reveal).
    public var dataKeysUnsealed = 0
}

/// `vault reveal` (SPEC §4, §5): in one transaction, the audit row first, then the entries,
/// each data key unsealed once, every ciphertext authenticated; the caller prints only after
/// this returns, i.e. after COMMIT.
public struct Revealer: Sendable {
    public var environment: VaultEnvironment
    /// Entries per fetch from the reveal's cursor (and per decrypting step).
    public var batchSize: Int

    public init(environment: VaultEnvironment, batchSize: Int = 10_000) {
        self.environment = environment
        self.batchSize = batchSize
    }

    public func reveal<S: StringProtocol>(tokens rawTokens: [S], reason rawReason: String?) async throws -> RevealResult {
        var problems: [RevealProblem] = []
        var tokens: [String] = []
        var seen = Set<String>(minimumCapacity: rawTokens.count)
        tokens.reserveCapacity(rawTokens.count)
        for raw in rawTokens {
            guard let token = VaultToken.normalize(raw) else {
                problems.append(RevealProblem(kind: .malformed, token: nil, message: VaultToken.describeMalformed(raw)))
                continue
            }
            if seen.insert(token).inserted { tokens.append(token) }
        }
        let detail = tokens.joined(separator: ",")
        let reason = try await VaultDatabase.requireReason(rawReason, environment, action: "reveal", detail: "\(detail)")
        guard !tokens.isEmpty else { return RevealResult(values: [], problems: problems) }

        let environment = self.environment
        let batchSize = self.batchSize
        let wanted = tokens
        let outcome = try await VaultDatabase.audited(environment, action: "reveal", reason: reason, detail: detail) { session -> RevealResult in
            let keyring = try VaultKeyring.load(session, environment: environment)
            return try session.transaction {
                try AuditLog.append(session, action: "reveal", outcome: "granted", reason: reason, detail: detail)
                var fetcher = RevealFetcher(keyring: keyring, tokenKeys: environment.keys, batchSize: batchSize)
                let pipeline = RevealPipeline(expected: wanted.count)
                try fetcher.open(session, tokens: wanted)
                // The connection fetches batch N+1 while another thread decrypts batch N.
                while let batch = try fetcher.next(session) { pipeline.decrypt(batch) }
                let missing = wanted.filter { !fetcher.found.contains($0) }
                let forgotten = try fetcher.forgotten(session, among: missing)
                var result = RevealResult(tokens: wanted, opened: pipeline.finish(), forgotten: forgotten)
                result.dataKeysUnsealed = fetcher.dataKeysUnsealed
                // Entries that failed authentication or do not hash to their token are
                // recorded as such, in the same transaction (tokens only).
                let broken = result.problems.filter { $0.kind == .integrity }.compactMap(\.token)
                if !broken.isEmpty {
                    try AuditLog.append(
                        session, action: "reveal", outcome: "integrity-error", reason: reason,
                        detail: broken.joined(separator: ",")
                    )
                }
                return result
            }
        }
        environment.logger.debug("reveal committed", metadata: [
            LogKey.tokens: "\(tokens.count)", LogKey.revealed: "\(outcome.values.count)",
            LogKey.notRevealed: "\(outcome.problems.count)",
        ])
        return RevealResult(values: outcome.values, problems: problems + outcome.problems, dataKeysUnsealed: outcome.dataKeysUnsealed)
    }
}
