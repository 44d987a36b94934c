import ArgumentParser
import CommandSupport
import Foundation
import Synchronization
import PIICrypto
import Vault

extension VaultCommand {
    /// `vault audit`: list the audit log or verify its hash chain.
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the audit log, or --verify its hash chain (exit 65 naming the first broken seq).",
            discussion: """
                Lines: seq, time (UTC), actor, action, outcome, reason, detail, tab-separated, \
                one line per row (control characters, tabs, newlines and backslashes inside a \
                field escaped as in vault reveal); long details are shortened (--json has them \
                whole and exact). --verify --from FILE also checks that the chain still extends \
                the head a `vault audit checkpoint` recorded (exit 65 if it was rewritten).
                """,
            subcommands: [Checkpoint.self]
        )

        @OptionGroup var common: CommonOptions

        @Flag(help: "Recompute the hash chain instead of listing.")
        var verify = false

        @Flag(help: "JSON output (one array; see --format jsonl for one object per line).")
        var json = false

        @Option(help: ArgumentHelp("With --verify: a checkpoint file the chain must still extend.", valueName: "file"))
        var from: String?

        @Option(help: ArgumentHelp("Only rows at or after this time (ISO 8601: 2025-01-31, 2025-01-31T12:00:00Z, offsets allowed).", valueName: "time"))
        var since: String?

        @Option(help: ArgumentHelp("Only rows before this time (ISO 8601, as --since).", valueName: "time"))
        var until: String?

        @Option(help: ArgumentHelp("Only rows of this action (reveal, forget, subject-forget, …).", valueName: "action"))
        var action: String?

        @Option(help: ArgumentHelp("Only rows of this actor (database login).", valueName: "login"))
        var actor: String?

        @Option(help: "text (default) or jsonl: one JSON object per line with every field, for a SIEM.")
        var format: AuditFormat = .text

        func validate() throws {
            if json && format == .jsonl { throw ValidationError("--json and --format jsonl exclude each other") }
            if from != nil && !verify { throw ValidationError("--from goes with --verify") }
            if verify && (since != nil || until != nil || action != nil || actor != nil || format != .text) {
                throw ValidationError("--verify checks the whole chain: it takes no --since, --until, --action, --actor or --format")
            }
            _ = try filter()
        }

        /// The filter the options name (nil: every row).
        func filter() throws -> AuditFilter? {
            guard since != nil || until != nil || action != nil || actor != nil else { return nil }
            func time(_ text: String?, _ option: String) throws -> Int64? {
                guard let text else { return nil }
                guard let micros = AuditFilter.parseTime(text) else {
                    throw ValidationError("--\(option) \(TerminalText.field(text)) is not an ISO 8601 time (2025-01-31 or 2025-01-31T12:00:00Z)")
                }
                return micros
            }
            return AuditFilter(sinceMicros: try time(since, "since"), untilMicros: try time(until, "until"), action: action, actor: actor)
        }

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let reader = AuditReader(environment: try common.vaultEnvironment())
                if verify {
                    try await runVerify(reader)
                } else {
                    try await list(reader)
                }
            }
        }

        private func runVerify(_ reader: AuditReader) async throws {
            if let from {
                return try await runVerify(reader, from: from)
            }
            let verifier = try await reader.verify()
            let head = lowercaseHex(verifier.head)
            if json {
                try Console.json(VerifyReport(
                    ok: verifier.failure == nil, rows: verifier.checked, head: head,
                    brokenSeq: verifier.failure?.seq, problem: verifier.failure?.problem
                ))
            }
            if let failure = verifier.failure {
                throw CommandError(.integrityFailure, failure.description)
            }
            if !json {
                Console.out("audit chain intact: \(verifier.checked) rows, head seq \(verifier.checked) hash \(head)\n")
            }
        }

        private func runVerify(_ reader: AuditReader, from path: String) async throws {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandError(.invalidArgument, "cannot read checkpoint file \(path)")
            }
            guard let checkpoint = try? JSONDecoder().decode(AuditCheckpoint.self, from: data) else {
                throw CommandError(.integrityFailure, "\(path) is not an audit checkpoint (\(AuditCheckpoint.formatName))")
            }
            let result = try await reader.verify(from: checkpoint)
            let verifier = result.chain
            let problem = verifier.failure?.description ?? result.problem
            if json {
                try Console.json(VerifyReport(
                    ok: problem == nil, rows: verifier.checked, head: Self.hex(verifier.head),
                    brokenSeq: verifier.failure?.seq, problem: problem
                ))
            }
            if let problem { throw CommandError(.integrityFailure, problem) }
            if !json {
                Console.out("audit chain intact and extends the checkpoint at seq \(checkpoint.seq): \(verifier.checked) rows, head seq \(verifier.checked) hash \(Self.hex(verifier.head))\n")
            }
        }

        static func hex(_ bytes: [UInt8]) -> String { lowercaseHex(bytes) }

        /// `vault audit checkpoint --out FILE`.
        struct Checkpoint: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write the audit chain's head (seq, hash, time), signed with keys/audit-checkpoint.key, to a file.",
                discussion: """
                    The key is created (mode 0600) on first use. Keep the files where the database \
                    superuser cannot change them; `vault audit --verify --from FILE` checks one.
                    """
            )

            @OptionGroup var common: CommonOptions

            @Option(help: ArgumentHelp("Where to write the checkpoint (replaced atomically).", valueName: "file"))
            var out: String

            func run() async throws {
                try await ErrorReporting.run(tool: "vault") {
                    let reader = AuditReader(environment: try common.vaultEnvironment())
                    let checkpoint = try await reader.checkpoint()
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                    do {
                        try encoder.encode(checkpoint).write(to: URL(fileURLWithPath: out), options: .atomic)
                    } catch {
                        throw CommandError(.localFailure, "cannot write the checkpoint to \(out)")
                    }
                    Console.out("checkpoint: seq \(checkpoint.seq) hash \(checkpoint.rowHash) written to \(Console.field(out))\n")
                }
            }
        }

        private func list(_ reader: AuditReader) async throws {
            let json = self.json
            let jsonl = format == .jsonl
            let first = FirstFlag()
            if json { Console.out("[") }
            try await reader.forEachPage(filter: try filter()) { rows in
                var text = ""
                for row in rows {
                    if jsonl {
                        text += ((try? Console.jsonText(AuditEntry(row))) ?? "{}") + "\n"
                    } else if json {
                        let line = (try? Console.jsonText(AuditEntry(row))) ?? "{}"
                        text += (first.take() ? "\n" : ",\n") + line
                    } else {
                        text += Self.line(row)
                    }
                }
                Console.out(text)
            }
            if json { Console.out("\n]\n") }
        }

        static func line(_ row: AuditRecord) -> String {
            Console.record([
                String(row.seq), AuditEntry.time(row.atMicros), row.actor, row.action, row.outcome,
                row.reason, shortened(row.detail),
            ])
        }

        static func shortened(_ detail: String) -> String {
            guard detail.count > 160 else { return detail }
            let commas = detail.reduce(0) { $1 == "," ? $0 + 1 : $0 }
            return String(detail.prefix(140)) + "… (\(commas + 1) items, \(detail.utf8.count) bytes)"
        }
    }
}

/// `vault audit --format`.
enum AuditFormat: String, ExpressibleByArgument, CaseIterable {
    case text, jsonl
}

/// One audit row in `vault audit --json` and `--format jsonl`.
struct AuditEntry: Encodable {
    let seq: Int64
    let at: String
    let atMicros: Int64
    let actor: String
    let action: String
    let outcome: String
    let reason: String
    let detail: String
    let prevHash: String
    let rowHash: String

    init(_ row: AuditRecord) {
        seq = row.seq
        at = Self.time(row.atMicros)
        atMicros = row.atMicros
        actor = row.actor
        action = row.action
        outcome = row.outcome
        reason = row.reason
        detail = row.detail
        prevHash = lowercaseHex(row.prevHash)
        rowHash = lowercaseHex(row.rowHash)
    }

    /// ISO 8601, UTC, microseconds: `2025-01-31T12:34:56.123456Z`.
    static func time(_ micros: Int64) -> String {
        let (seconds, fraction) = micros.quotientAndRemainder(dividingBy: 1_000_000)
        var whole = time_t(fraction < 0 ? seconds - 1 : seconds)
        var parts = tm()
        gmtime_r(&whole, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
            fraction < 0 ? fraction + 1_000_000 : fraction
        )
    }
}

/// `vault audit --verify --json`.
struct VerifyReport: Encodable {
    let ok: Bool
    let rows: Int64
    let head: String
    let brokenSeq: Int64?
    let problem: String?
}

/// True exactly once; the JSON array's first element has no leading comma. Used only from the
/// connection's thread, one page after another; the lock makes that explicit.
final class FirstFlag: Sendable {
    private let state = Mutex(true)
    func take() -> Bool { state.withLock { value in defer { value = false }; return value } }
}
