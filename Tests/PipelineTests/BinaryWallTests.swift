import Foundation
import TestSupport
import Testing

/// SPEC §4 ("the ingest side has no path to plaintext") per binary, not only per module: the
/// `etl` executable holds none of VaultCrypto (HPKE and AES-GCM opening, private-key files,
/// the passphrase prompt); `vault` does. Symbols are read with `nm`, as a reviewer would.
@Suite("binary wall: etl links no opening crypto")
struct BinaryWallTests {
    /// Swift mangles the module of every declaration and extension member into its symbol:
    /// `11VaultCrypto` is VaultCrypto's.
    static let marker = "11VaultCrypto"

    static func symbols(_ binary: String) async throws -> String {
        let result = try await ChildProcess.run(path: "/usr/bin/nm", [try TestServices.executable(binary)])
        #expect(result.status == 0, "nm \(binary): \(result.stderr)")
        return result.stdout
    }

    @Test("etl holds no VaultCrypto symbol; vault holds HPKE.open and the private-key reader")
    func etlCannotOpen() async throws {
        let etl = try await Self.symbols("etl")
        let vault = try await Self.symbols("vault")
        #expect(!etl.isEmpty && !vault.isEmpty)
        #expect(!etl.contains(Self.marker), "etl links VaultCrypto")
        #expect(vault.contains(Self.marker), "vault should link VaultCrypto (else this test proves nothing)")
    }
}
