import ArgumentParser
import CommandSupport
import Foundation

extension ETLCommand {
    /// `etl config`: the effective configuration and where each value came from.
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config",
            abstract: "Print every effective setting and its source (default, file, env, flag); secrets as <set>.",
            discussion: "One line per setting: KEY, VALUE and SOURCE separated by tabs, control characters escaped."
        )

        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await ErrorReporting.run(tool: "etl config") {
                let settings = try common.loadSettings()
                let text = ConfigReport.text(settings: settings, configPath: common.config, configExplicit: common.configIsExplicit)
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}
