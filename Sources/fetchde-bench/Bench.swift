import ArgumentParser

/// `fetchde-bench`: micro-benchmarks for FetchDE's hot paths. Each benchmark is a subcommand in
/// its own file (`extension Bench { struct Name: AsyncParsableCommand }`), listed below.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetchde-bench",
        abstract: "Micro-benchmarks for FetchDE.",
        subcommands: [Crypto.self, SQSBench.self, QuarantineFill.self]
    )
}
