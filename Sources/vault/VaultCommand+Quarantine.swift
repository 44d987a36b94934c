import ArgumentParser
import CommandSupport
import Foundation
import Vault

extension VaultCommand {
    /// `vault quarantine`: the triage loop for messages `etl` could not load.
    struct Quarantine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, show, replay and purge quarantined messages.",
            discussion: """
                The loop: list what is there and why, show a body to whoever fixes the producer \
                (audited), fix the producer or the schema, replay (loaded messages leave the \
                quarantine), purge what outlived its retention. See docs/vault-operator.md.
                """,
            subcommands: [List.self, Show.self, Replay.self, Purge.self]
        )
    }
}

extension VaultCommand.Quarantine {
    /// `vault quarantine list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List quarantined messages (never a body), then the counts by reason.",
            discussion: """
                Prints id<TAB>quarantined at<TAB>message id<TAB>reason<TAB>body bytes<TAB>times \
                seen per message, then `reason<TAB>count` lines after a `# counts by reason` line \
                (fields escaped as in vault reveal); --json has the exact values.
                """
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "Only messages quarantined at or after this time (e.g. 2026-12-01 or 2026-12-01T10:00:00Z).")
        var since: String?

        @Option(name: .customLong("reason-matches"), help: "Only reasons containing this text (case-insensitive).")
        var reasonMatches: String?

        @Flag(help: "Print one JSON object {messages, counts_by_reason}.")
        var json = false

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let listing = try await QuarantineLister(environment: try common.vaultEnvironment())
                    .list(since: since, reasonMatches: reasonMatches)
                if json { return try Console.json(listing) }
                var text = ""
                for message in listing.messages {
                    text += Console.record([
                        String(message.id), message.quarantinedAt, message.messageID, message.reason,
                        String(message.bodyBytes), String(message.timesSeen),
                    ])
                }
                text += "# counts by reason\n"
                for (reason, count) in listing.countsByReason.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
                    text += Console.record([reason, String(count)])
                }
                Console.out(text)
            }
        }
    }

    /// `vault quarantine show`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the bodies of quarantined messages (audited before anything is shown).",
            discussion: "Prints id<TAB>message id<TAB>body per message, fields escaped as in vault reveal; --json has the exact bodies (and body_base64)."
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var passphrase: PassphraseFileOption

        @Argument(help: "Quarantine ids (from vault quarantine list).")
        var ids: [Int64]

        @Option(help: "Why the bodies are needed (required; recorded in the audit log).")
        var reason: String?

        @Flag(help: "Print a JSON array of {id, message_id, body, body_base64}.")
        var json = false

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let environment = try common.vaultEnvironment(passphraseFile: passphrase.passphraseFile)
                let result = try await QuarantineViewer(environment: environment).show(ids: ids, reason: reason)
                // Committed: the audit row is durable, so the bodies may be shown now.
                if json {
                    try Console.json(result.bodies)
                } else {
                    Console.out(result.bodies.map { Console.record([String($0.id), $0.messageID, $0.body]) }.joined())
                }
                for problem in result.problems { Console.problem(problem) }
                if !result.problems.isEmpty {
                    throw CommandError(.incomplete, "\(result.problems.count) of \(ids.count) messages not shown")
                }
            }
        }
    }

    /// `vault quarantine replay`.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run quarantined messages through the pipeline again (after a fix); audited.",
            discussion: """
                Those that load leave the quarantine in the same transaction (exactly once per \
                message id, also with etl running); the rest stay with their new reason. One \
                transaction: a failed or killed run changes nothing; a second run finds nothing \
                more to do. Exit 65 when some ids are unknown or some bodies fail authentication.
                """
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var passphrase: PassphraseFileOption

        @Argument(help: "Quarantine ids (from vault quarantine list).")
        var ids: [Int64] = []

        @Flag(help: "Replay every quarantined message.")
        var all = false

        @Option(help: "Why (required; recorded in the audit log).")
        var reason: String?

        @Option(help: "Messages read, checked and loaded per step (memory use grows with it).")
        var batch = 5000

        func validate() throws {
            if all == !ids.isEmpty { throw ValidationError("give quarantine ids or --all (not both)") }
            guard batch > 0 else { throw ValidationError("--batch must be positive") }
        }

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let environment = try common.vaultEnvironment(passphraseFile: passphrase.passphraseFile)
                let progress = TerminalProgress(enabled: isatty(STDERR_FILENO) == 1)
                let result = try await QuarantineReplayer(environment: environment, batchSize: batch).replay(
                    ids: all ? nil : ids, reason: reason
                ) { done, total in progress.update("replay", done, total, unit: "messages") }
                progress.finish()
                Console.out("""
                    replayed \(result.selected) quarantined messages: \(result.loaded) loaded, \
                    \(result.alreadyStored) already stored, \(result.erasedDropped) dropped (subject erased), \
                    \(result.stillInvalid) still invalid (kept with their new reason), \
                    \(result.failed) failed authentication

                    """)
                for problem in result.problems { Console.problem(problem) }
                if !result.problems.isEmpty {
                    throw CommandError(.incomplete, "\(result.problems.count) messages could not be replayed")
                }
            }
        }
    }

    /// `vault quarantine purge`.
    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete quarantined messages older than a retention period (their bodies are gone for good); audited."
        )

        @OptionGroup var common: CommonOptions

        @Option(name: .customLong("older-than"), help: "Age, e.g. 30d, 12h, 90m, 2w.")
        var olderThan: String

        @Option(help: "Why (required; recorded in the audit log).")
        var reason: String?

        func validate() throws {
            guard Self.seconds(olderThan) != nil else {
                throw ValidationError("--older-than takes a number and a unit: s, m, h, d or w (e.g. 30d)")
            }
        }

        /// Seconds of `text` (`30d`, `12h`, …), or nil.
        static func seconds(_ text: String) -> Int64? {
            let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
            guard let unit = text.last.flatMap({ units[$0] }), let count = Int64(text.dropLast()), count >= 0 else { return nil }
            let (seconds, overflow) = count.multipliedReportingOverflow(by: unit)
            return overflow ? nil : seconds
        }

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let purged = try await QuarantinePurger(environment: try common.vaultEnvironment())
                    .purge(olderThanSeconds: Self.seconds(olderThan) ?? 0, reason: reason)
                Console.out("purged \(purged) quarantined messages older than \(TerminalText.field(olderThan))\n")
            }
        }
    }
}
