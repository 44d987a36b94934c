import Pipeline
import Testing

@Suite("quarantine reason labels")
struct QuarantineReasonTests {
    @Test("every stored reason text maps back to its InvalidMessage label; the other reasons have their own")
    func labels() {
        let reasons: [InvalidMessage.Reason] = [
            .notJSON, .notAnObject, .invalidUTF8, .tooLarge,
        ] + ["user_id", "device_type", "ip", "locale", "device_id", "app_version", "unknown"].flatMap { field -> [InvalidMessage.Reason] in
            [.missingField(field), .wrongType(field), .emptyField(field), .tooLong(field), .invalidCharacter(field)]
        }
        for reason in reasons {
            let invalid = InvalidMessage(reason: reason)
            #expect(QuarantineReason.label(of: invalid.description) == invalid.label, "\(invalid.description)")
        }
        #expect(QuarantineReason.label(of: "body does not match its MD5OfBody (corrupted in transit)") == "md5_mismatch")
        #expect(QuarantineReason.label(of: "rejected by the database (SQLSTATE 22P02, server)") == "database_rejected")
        #expect(QuarantineReason.label(of: "something an older build wrote") == "other")
    }
}
