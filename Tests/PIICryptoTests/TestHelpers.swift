import Foundation
import PIICrypto

/// Hex → bytes for test vectors (traps on malformed literals, which are programming errors).
func hex(_ string: String) -> [UInt8] {
    let clean = string.filter { !$0.isWhitespace }
    precondition(clean.count % 2 == 0, "odd-length hex literal")
    var bytes: [UInt8] = []
    bytes.reserveCapacity(clean.count / 2)
    var index = clean.startIndex
    while index < clean.endIndex {
        let next = clean.index(index, offsetBy: 2)
        bytes.append(UInt8(clean[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

func toHex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

func toHex(_ bytes: SecureBytes) -> String {
    bytes.withUnsafeBytes { toHex(Array($0)) }
}

func bytes(_ secure: SecureBytes) -> [UInt8] {
    secure.withUnsafeBytes { Array($0) }
}

/// A fresh empty directory under the system temp dir, removed by `body`'s caller via `defer`.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("piicrypto-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("piicrypto-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

func fileMode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as! NSNumber).intValue & 0o777
}

func chmod(_ path: String, _ mode: Int) throws {
    try FileManager.default.setAttributes([.posixPermissions: NSNumber(value: mode)], ofItemAtPath: path)
}
