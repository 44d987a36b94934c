import Foundation
import VaultFormat
import Postgres

/// What `vault quarantine show` opened.
public struct QuarantineShowResult: Sendable {
    public var bodies: [ShownQuarantine]
    /// One line each: unknown ids, bodies that failed authentication (never a body).
    public var problems: [String]
}

/// `vault quarantine show` (SPEC §5): decrypts quarantined bodies for the person who must fix
/// the producer, audited exactly like a reveal: the audit row (ids, never a body) is written
/// in the transaction that reads them, and the caller prints only after it committed.
public struct QuarantineViewer: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    public func show(ids: [Int64], reason rawReason: String?) async throws -> QuarantineShowResult {
        let detail = ids.map(String.init).joined(separator: ",")
        let reason = try await VaultDatabase.requireReason(rawReason, environment, action: "quarantine-show", detail: "\(detail)")
        let environment = self.environment
        return try await VaultDatabase.audited(environment, action: "quarantine-show", reason: reason, detail: detail) { session in
            let keyring = try VaultKeyring.load(session, environment: environment)
            return try session.transaction {
                try AuditLog.append(session, action: "quarantine-show", outcome: "granted", reason: reason, detail: detail)
                let opened = try OpenedQuarantine.read(session, ids: ids, keyring: keyring)
                var result = QuarantineShowResult(bodies: [], problems: [])
                for id in QuarantineSQL.unknown(ids, found: Set(opened.map(\.id))) {
                    result.problems.append("no quarantined message \(id)")
                }
                for message in opened {
                    guard let body = message.body else {
                        result.problems.append("integrity error: the body of quarantined message \(message.id) failed authentication; not shown")
                        continue
                    }
                    result.bodies.append(ShownQuarantine(
                        id: message.id, messageID: message.messageID,
                        body: String(decoding: body, as: UTF8.self), bodyBase64: Data(body).base64EncodedString()
                    ))
                }
                return result
            }
        }
    }
}
