public import ArgumentParser
import Foundation

extension AsyncParsableCommand {
    /// ArgumentParser's entry point, except that a usage error is one line on stderr
    /// (`tool: MESSAGE (see 'tool --help')`, exit 64) as SPEC §5 asks of every error, instead
    /// of the message followed by the usage text, and that anything a command lets escape is
    /// reported through ``ErrorReporting``. Help, version and the statuses the commands
    /// report themselves are unchanged. Both `etl` and `vault` call it from their `main`.
    public static func mainReportingErrors(tool: String) async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as CleanExit {
            exit(withError: error)
        } catch {
            switch exitCode(for: error) {
            case .success:
                exit(withError: error)  // help, version
            case .validationFailure:
                let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
                FileHandle.standardError.write(Data(ErrorReporting.line(tool: tool, "\(message) (see '\(tool) --help')").utf8))
                Foundation.exit(ExitStatus.usage.rawValue)
            default:
                let (status, message) = ErrorReporting.classify(error)
                FileHandle.standardError.write(Data(ErrorReporting.line(tool: tool, message).utf8))
                Foundation.exit(status.rawValue)
            }
        }
    }
}
