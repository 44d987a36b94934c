/// The fixed metadata keys the pipeline logs with (as postgres-nio's `Logging+PSQL`): one place
/// to see what a log line can carry, which is counts, codes, versions and ids, never a value.
enum LogKey {
    static let dekId = "dek_id"
    static let error = "error"
    static let errorClass = "error_class"
    static let messageId = "message_id"
    static let messages = "messages"
    static let retryInMs = "retry_in_ms"
    static let tokenKeyVersion = "token_key_version"
    static let vaultKeyVersion = "vault_key_version"
}
