import ArgumentParser
import CommandSupport
import Foundation
import Vault

extension VaultCommand {
    /// `vault reveal`: audited recovery of originals from tokens.
    struct Reveal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the originals of tokens (audited before anything is shown).",
            discussion: """
                Prints token<TAB>field<TAB>original per revealed value, one line each: inside \
                a field, \\ is printed as \\\\, tab, newline and carriage return as \\t, \\n, \\r, \
                other control characters as \\xNN or \\u{N} (see docs/vault-operator.md); \
                --json has the exact values. Unknown, forgotten or tampered tokens are reported \
                on stderr, the others still printed, exit 65.
                """
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var passphrase: PassphraseFileOption

        @Argument(help: "Tokens (64 hex digits).")
        var tokens: [String] = []

        @Option(help: "Why the originals are needed (required; recorded in the audit log).")
        var reason: String?

        @Flag(help: "Also read tokens from standard input, one per line.")
        var stdin = false

        @Flag(help: "Print a JSON array of {token, field, original}.")
        var json = false

        func validate() throws {
            if tokens.isEmpty && !stdin {
                throw ValidationError("give at least one token, or --stdin")
            }
        }

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let environment = try common.vaultEnvironment(passphraseFile: passphrase.passphraseFile)
                var requested = tokens
                if stdin {
                    let input = try FileHandle.standardInput.readToEnd() ?? Data()
                    requested += VaultToken.lines([UInt8](input))
                }
                let result = try await Revealer(environment: environment).reveal(tokens: requested, reason: reason)
                // Committed: the audit row is durable, so the values may be shown now.
                if json {
                    try Console.json(result.values)
                } else {
                    var text = ""
                    text.reserveCapacity(result.values.count * 96)
                    for value in result.values {
                        text += Console.field(value.token)
                        text += "\t"
                        text += Console.field(value.field)
                        text += "\t"
                        text += Console.field(value.original)
                        text += "\n"
                    }
                    Console.out(text)
                }
                for problem in result.problems { Console.problem(problem.message) }
                if !result.problems.isEmpty {
                    let total = result.values.count + result.problems.count
                    throw CommandError(.incomplete, "\(result.problems.count) of \(total) requested values not revealed")
                }
            }
        }
    }
}
