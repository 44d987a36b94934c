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

    static func run(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run(path: "/usr/bin/env", arguments)
        guard result.status == 0 else { throw POSIXError(.EIO) }
    }

    @Test func privateCAIsTrustedOnlyThroughTheBundle() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ca-bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("server.key").path
        let certificate = directory.appendingPathComponent("server.crt").path
        try await Self.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1",
                      "-addext", "subjectAltName=IP:127.0.0.1"])
        let server = try ChildProcess(path: "/usr/bin/env", ["python3", "-c", Self.server, certificate, key])
        // SIGKILL: a child of the test process may not act on SIGTERM (inherited signal mask).
        defer { server.signal(SIGKILL) }
        try await server.waitForOutput("\n")
        let port = try #require(Int(server.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(server.stderr)")

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
