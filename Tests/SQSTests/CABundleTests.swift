import Foundation
import Logging
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@testable import SQS

/// `AWS_CA_BUNDLE` (`SQSConfiguration.caBundle`): an HTTPS endpoint whose certificate only a
/// private CA vouches for is reachable with that CA's bundle, and refused without it.
@Suite("AWS_CA_BUNDLE")
struct CABundleTests {
    static let server = """
        import http.server, ssl, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = b'{"QueueUrl":"http://stub/1/q"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
        server.socket = context.wrap_socket(server.socket, server_side=True)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw POSIXError(.EIO) }
    }

    @Test func privateCAIsTrustedOnlyThroughTheBundle() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ca-bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("server.key").path
        let certificate = directory.appendingPathComponent("server.crt").path
        try Self.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1",
                      "-addext", "subjectAltName=IP:127.0.0.1"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.server, certificate, key]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // SIGKILL: a child of the test process may not act on SIGTERM (inherited signal mask).
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        var portText = ""
        while !portText.hasSuffix("\n") {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { break }
            portText += String(decoding: byte, as: UTF8.self)
        }
        let port = try #require(Int(portText.trimmingCharacters(in: .whitespacesAndNewlines)))

        func client(caBundle: String?) throws -> SQSClient {
            let configuration = SQSConfiguration(
                endpoint: "https://127.0.0.1:\(port)/", region: "eu-west-1", wireProtocol: .json,
                credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s")),
                maxAttempts: 1, caBundle: caBundle)
            return try SQSClient(configuration: configuration, logger: LogCapture().logger())
        }
        let trusting = try client(caBundle: certificate)
        defer { trusting.shutdown() }
        #expect(try await trusting.getQueueURL(name: "q") == "http://stub/1/q")
        let system = try client(caBundle: nil)
        defer { system.shutdown() }
        let error = await #expect(throws: SQSError.self) { _ = try await system.getQueueURL(name: "q") }
        #expect(error?.code == .transport)
    }
}
