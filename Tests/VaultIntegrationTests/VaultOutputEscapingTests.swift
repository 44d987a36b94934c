import Foundation
import PIICrypto
import TestSupport
import Testing
import Vault

/// Issue 12, item 4: no value from the database or the user can forge an output row of
/// `vault` or reach the operator's terminal as a control sequence; `--json` keeps it exact.
@Suite("vault output escaping", .enabled(if: TestServices.postgresEnabled))
struct VaultOutputEscapingTests {
    /// A device_id that, printed raw, adds a second `token<TAB>ip<TAB>10.0.0.1` row and sets the
    /// terminal's title.
    static let forged = "\n" + String(repeating: "ab", count: 32) + "\tip\t10.0.0.1\u{1b}]0;…\u{07}"
    /// Other scalars the escaping covers: backslash, CR, NUL, DEL, a C1 control (CSI), a
    /// right-to-left override, a line separator; and ones it leaves alone.
    static let assorted = "a\\b\r\n\u{0}\u{7f}\u{9b}31m\u{202e}txt\u{2028}é…"

    @Test("reveal: one line of three fields per value, no raw control byte, fields unescape to the exact originals; --json exact")
    func revealCannotForgeRows() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, [(.deviceID, Self.forged), (.ip, "192.0.2.1"), (.deviceID, Self.assorted)])
        let tokens = values.map(\.token)

        let text = try await fixture.vault(["reveal", "--reason", "escaping"] + tokens)
        #expect(text.status == 0, "\(text)")
        let lines = Self.lines(text.stdout)
        #expect(lines.count == tokens.count, "\(text)")
        #expect(Self.rawControls(in: text.stdout, allowing: [0x09, 0x0a]).isEmpty, "\(text)")
        for (line, value) in zip(lines, values) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            #expect(fields.count == 3, "\(line)")
            guard fields.count == 3 else { continue }
            #expect(fields[0] == value.token)
            #expect(fields[1] == value.field.rawValue)
            #expect(try Self.unescape(fields[2]) == value.original)
        }

        let json = try await fixture.vault(["reveal", "--json", "--reason", "escaping"] + tokens)
        #expect(json.status == 0, "\(json)")
        #expect(Self.rawControls(in: json.stdout, allowing: [0x0a]).isEmpty, "\(json)")
        #expect(Self.lines(json.stdout).count == 1)
        let decoded = try JSONDecoder().decode([RevealedValue].self, from: Data(json.stdout.utf8))
        #expect(decoded.map(\.original) == values.map(\.original))
        #expect(decoded.map(\.token) == tokens)
    }

    @Test("audit: a reason with newline, tab and escape sequences stays one line per row, unescapes exactly; --json exact")
    func auditCannotForgeRows() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, [(.ip, "192.0.2.7")])
        let reason = "x\n1\tforged\u{1b}[2J\u{1b}]0;owned\u{07}\r\\n"
        let reveal = try await fixture.vault(["reveal", values[0].token, "--reason", reason])
        #expect(reveal.status == 0, "\(reveal)")
        let rows = try await fixture.auditRows()
        #expect(rows.last?.reason == reason)

        let text = try await fixture.vault(["audit"])
        #expect(text.status == 0, "\(text)")
        let lines = Self.lines(text.stdout)
        #expect(lines.count == rows.count, "\(text)")
        #expect(Self.rawControls(in: text.stdout, allowing: [0x09, 0x0a]).isEmpty, "\(text)")
        for line in lines {
            #expect(line.split(separator: "\t", omittingEmptySubsequences: false).count == 7, "\(line)")
        }
        let last = try #require(lines.last).split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        #expect(try Self.unescape(last[5]) == reason)

        let json = try await fixture.vault(["audit", "--json"])
        #expect(json.status == 0, "\(json)")
        #expect(Self.rawControls(in: json.stdout, allowing: [0x0a]).isEmpty, "\(json)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == rows.count)
        #expect(entries.last?["reason"] as? String == reason)
    }

    @Test("errors and problems on stderr are one line without raw control bytes")
    func stderrIsEscaped() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, [(.ip, "192.0.2.8")])
        // A keys directory whose name holds control characters shows up in the error line
        // (the private key file is missing there).
        let keys = fixture.root + "/k\u{1b}]0;x\u{07}\nforged"
        let result = try await fixture.vault(["reveal", values[0].token, "--reason", "r"], environment: ["KEYS_DIR": keys])
        #expect(result.status == 77, "\(result)")
        #expect(result.stderr.contains("\\x1b]0;x\\x07\\nforged"), "\(result)")
        #expect(Self.lines(result.stderr).count == 1, "\(result)")
        #expect(Self.rawControls(in: result.stderr, allowing: [0x0a]).isEmpty, "\(result)")
    }

    // MARK: Helpers

    /// Lines split on LF bytes only (Swift's `split(separator: "\n")` keeps "\r\n" together).
    static func lines(_ text: String) -> [String] {
        var lines = Array(text.utf8).split(separator: 0x0a, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// C0, DEL and C1 control scalars in `text`, except the `allowing` ones.
    static func rawControls(in text: String, allowing: Set<UInt32>) -> [UInt32] {
        text.unicodeScalars.map(\.value).filter { ($0 < 0x20 || (0x7f...0x9f).contains($0)) && !allowing.contains($0) }
    }

    /// The decoding of the documented escaping (docs/vault-operator.md), written independently
    /// of the printer: `\\`, `\t`, `\n`, `\r`, `\xNN`, `\u{N…}`.
    static func unescape(_ field: String) throws -> String {
        var out = String.UnicodeScalarView()
        var scalars = field.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "\\" else { out.append(scalar); continue }
            switch scalars.next() {
            case "\\": out.append("\\")
            case "t": out.append("\t")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "x":
                var hex = ""
                for _ in 0..<2 { if let digit = scalars.next() { hex.unicodeScalars.append(digit) } }
                guard let value = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(value) else { throw FixtureError("bad \\x escape in \(field)") }
                out.append(decoded)
            case "u":
                guard scalars.next() == "{" else { throw FixtureError("bad \\u escape in \(field)") }
                var hex = ""
                while let digit = scalars.next(), digit != "}" { hex.unicodeScalars.append(digit) }
                guard let value = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(value) else { throw FixtureError("bad \\u escape in \(field)") }
                out.append(decoded)
            default:
                throw FixtureError("unknown escape in \(field)")
            }
        }
        return String(out)
    }
}
