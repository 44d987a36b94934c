import ArgumentParser
import CommandSupport

/// `etl`: SQS (or JSONL) → tokenized rows in PostgreSQL, originals sealed in the vault.
@main
struct ETLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etl",
        abstract: "Ingest user-login events: PII tokenized, originals sealed in the vault.",
        version: FetchDEVersion.current,
        subcommands: [Migrate.self, Run.self, Ingest.self, DemoMessages.self, Config.self]
    )

    /// One-line usage errors and the one error mapping (``CommandSupport/ErrorReporting``).
    static func main() async {
        await mainReportingErrors(tool: "etl")
    }
}
