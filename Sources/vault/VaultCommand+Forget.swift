import ArgumentParser
import CommandSupport
import Vault

extension VaultCommand {
    /// `vault forget`: crypto-shredding of one token's original.
    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a token's vault entry for good (audited); the token stays in user_logins."
        )

        @OptionGroup var common: CommonOptions

        @Argument(help: "The token (64 hex digits).")
        var token: String

        @Option(help: "Why (required; recorded in the audit log).")
        var reason: String?

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let environment = try common.vaultEnvironment()
                let result = try await Forgetter(environment: environment).forget(token: token, reason: reason)
                if result.alreadyForgotten {
                    Console.out("token \(Console.field(result.token)) was already forgotten\n")
                } else {
                    Console.out("forgot token \(Console.field(result.token)) (\(Console.field(result.fields.joined(separator: ", "))))\n")
                }
            }
        }
    }
}
