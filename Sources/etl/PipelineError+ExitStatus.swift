public import CommandSupport
public import Pipeline

/// The exit status of each pipeline failure (SPEC §5): a database that keeps refusing is a
/// service unavailable (69); keys that cannot be used are not authorized (77).
extension PipelineError: CommandFailure {
    public var exitStatus: ExitStatus {
        switch code {
        case .databaseRefused, .notInitialized: .unavailable
        case .keysUnavailable, .keyMismatch: .notAuthorized
        default: .failure
        }
    }
}
