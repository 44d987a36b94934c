import ArgumentParser
import CommandSupport
import Vault

extension VaultCommand {
    /// `vault subject`: data-subject requests by user id.
    struct Subject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Data-subject requests by user id: export (access) and forget (erasure), audited.",
            subcommands: [Export.self, Forget.self]
        )

        /// `vault subject export`.
        struct Export: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print every login of the subjects with the originals of ip and device_id (audited like a reveal).",
                discussion: """
                    Lines: user_id, login_id, create_date, ingested_at, device_type, locale, \
                    app_version, ip, device_id, masked_ip, masked_device_id, message_id, \
                    tab-separated, control characters escaped; an original that is not available \
                    shows as (forgotten) or (unknown). --json has the exact values and a status per \
                    original. An entry failing its integrity check is reported on stderr, exit 65.
                    """
            )

            @OptionGroup var common: CommonOptions

            @Argument(help: "The user ids.")
            var userIDs: [String] = []

            @Option(help: "Why (required; recorded in the audit log).")
            var reason: String?

            @Flag(help: "JSON output (an array of logins).")
            var json = false

            func run() async throws {
                try await ErrorReporting.run(tool: "vault") {
                    let environment = try common.vaultEnvironment()
                    let result = try await SubjectExporter(environment: environment).export(userIDs: userIDs, reason: reason)
                    if json {
                        try Console.json(result.logins)
                    } else {
                        var text = ""
                        for login in result.logins {
                            text += Console.record([
                                login.userID, String(login.loginID), login.createDate ?? "", login.ingestedAt ?? "",
                                login.deviceType ?? "", login.locale ?? "", login.appVersion ?? "",
                                login.ip ?? "(\(login.ipStatus))", login.deviceID ?? "(\(login.deviceIDStatus))",
                                login.maskedIP ?? "", login.maskedDeviceID ?? "", login.messageID ?? "",
                            ])
                        }
                        Console.out(text)
                    }
                    if result.subjectsWithoutLogins > 0 {
                        Console.problem("\(result.subjectsWithoutLogins) of the requested subjects have no logins")
                    }
                    for problem in result.integrityProblems { Console.problem(problem.message) }
                    if !result.integrityProblems.isEmpty {
                        throw CommandError(.integrityFailure, "\(result.integrityProblems.count) originals failed their integrity check; not exported")
                    }
                }
            }
        }

        /// `vault subject forget`.
        struct Forget: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Erase the subjects: delete their logins, crypto-shred the originals no other login uses, record the erasure (audited; idempotent).",
                discussion: """
                    Originals that other subjects' logins still reference are kept and counted. \
                    The subjects' data sent before the erasure that arrives later (a redelivered \
                    SQS message, an etl ingest line) is dropped by etl and counted; a login sent \
                    after it is stored.
                    """
            )

            @OptionGroup var common: CommonOptions

            @Argument(help: "The user ids.")
            var userIDs: [String] = []

            @Option(help: "Why (required; recorded in the audit log).")
            var reason: String?

            func run() async throws {
                try await ErrorReporting.run(tool: "vault") {
                    let environment = try common.vaultEnvironment()
                    let result = try await SubjectForgetter(environment: environment).forget(userIDs: userIDs, reason: reason)
                    Console.out(
                        "erased \(result.subjects) subjects (\(result.newlyErased) for the first time): \(result.loginsDeleted) logins deleted, "
                            + "\(result.originalsShredded) originals shredded, \(result.originalsKept) kept (other subjects use them)\n"
                    )
                }
            }
        }
    }
}
