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
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("nm-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nm")
        process.arguments = [try TestServices.executable(binary)]
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        #expect(status == 0, "nm \(binary)")
        return String(decoding: try Data(contentsOf: output), as: UTF8.self)
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
