/// The low-cardinality label (for metrics) of a reason stored in `etl_quarantine.reason`:
/// ``InvalidMessage/label`` for the parser's reasons, `md5_mismatch` for a body corrupted in
/// transit, `database_rejected` for a message the database refused alone, `other` for any
/// text this build does not write (an older or newer build's).
public enum QuarantineReason {
    public static func label(of stored: String) -> String {
        if stored.hasPrefix("body does not match its MD5OfBody") { return "md5_mismatch" }
        if stored.hasPrefix("rejected by the database") { return "database_rejected" }
        if stored == InvalidMessage(reason: .notJSON).description { return InvalidMessage(reason: .notJSON).label }
        if stored == InvalidMessage(reason: .notAnObject).description { return InvalidMessage(reason: .notAnObject).label }
        if stored == InvalidMessage(reason: .invalidUTF8).description { return InvalidMessage(reason: .invalidUTF8).label }
        if stored == InvalidMessage(reason: .tooLarge).description { return InvalidMessage(reason: .tooLarge).label }
        if stored.hasPrefix("missing required field ") { return InvalidMessage(reason: .missingField("")).label }
        if stored.hasPrefix("field ") {
            if stored.hasSuffix(" is not a string") { return InvalidMessage(reason: .wrongType("")).label }
            if stored.hasSuffix(" is empty") { return InvalidMessage(reason: .emptyField("")).label }
            if stored.hasSuffix(" too long") || stored.hasSuffix(" characters") { return InvalidMessage(reason: .tooLong("")).label }
            if stored.hasSuffix(" contains a NUL character") { return InvalidMessage(reason: .invalidCharacter("")).label }
        }
        return "other"
    }
}
