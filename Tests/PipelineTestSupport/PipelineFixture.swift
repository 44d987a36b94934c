import Foundation
public import Logging
public import PIICrypto
public import Pipeline
import VaultCrypto
import Postgres
public import Settings
public import SQS
public import TestSupport
import VaultFormat

/// Shared set-up of the pipeline's integration tests (and the vault's tests that ingest):
/// a database with keys, a queue, and the real take-home samples.
public struct PipelineFixture: Sendable {
    public let database: TestDatabase
    public let keys: TestKeys
    public let sqs: SQSClient
    public let queueURL: String

    /// `databaseURL`: a superuser URL of another cluster than the services' one.
    public static func make(_ name: String, databaseURL: String? = nil) async throws -> PipelineFixture {
        let database = try await TestDatabase.create(name, baseURL: databaseURL)
        let keys = try await TestKeys.register(in: database)
        let sqs = try SQSClient(configuration: .fromEnvironment(), logger: .test)
        let queueURL = try await sqs.createQueue(name: TestServices.uniqueName(name), attributes: ["VisibilityTimeout": "30"])
        return PipelineFixture(database: database, keys: keys, sqs: sqs, queueURL: queueURL)
    }

    /// Sends `bodies` to the queue in batches of ten.
    public func send(_ bodies: [String]) async throws {
        for start in stride(from: 0, to: bodies.count, by: 10) {
            let entries = (start..<min(start + 10, bodies.count)).map { SQSSendEntry(id: "\($0 - start)", body: bodies[$0]) }
            let result = try await sqs.sendMessageBatch(queueURL: queueURL, entries: entries)
            precondition(result.failed.isEmpty, "send failed")
        }
    }

    /// Settings as `etl` would read them for this fixture.
    public func settings(databaseURL: String? = nil) throws -> FetchDESettings {
        var settings = try FetchDESettings.load(path: "/nonexistent", required: false, environment: [:])
        settings.databaseURL = databaseURL ?? database.url
        settings.keysDirectory = keys.directory.path
        settings.queueURL = queueURL
        settings.waitTimeSeconds = 1
        settings.receiveLoops = 2
        settings.batchSize = 50
        return settings
    }

    /// Runs `etl run --drain` in-process until the queue is empty and returns its summary;
    /// `configure` may change the settings first.
    public func drain(logger: Logger = .test, databaseURL: String? = nil, configure: (inout FetchDESettings) -> Void = { _ in }) async throws -> RunSummary {
        var settings = try settings(databaseURL: databaseURL)
        configure(&settings)
        let health = HealthState()
        let writer = BatchWriter(url: settings.databaseURL, dekMaxEncryptions: 1_000_000, fallbackDate: "2000-01-01", logger: logger)
        let watcher = ActiveKeysWatcher(loader: ActiveKeysLoader(keys: keys.directory), writer: writer, health: health, logger: logger)
        let consumer = SQSConsumer(
            configuration: ConsumerConfiguration(settings: settings, queueURL: queueURL, drain: true),
            sqs: sqs, writer: writer, watcher: watcher, health: health, logger: logger
        )
        try await consumer.run()
        await writer.close()
        return consumer.summary
    }

    /// Decrypts the vault entry of (field, token) with the vault private key, as `vault reveal`
    /// does: unseal the DEK with HPKE, then open the entry.
    public func reveal(field: PIIField, token: String) async throws -> String? {
        let result = try await database.query("""
            SELECT e.ciphertext, e.dek_id, d.vault_key_version, d.encapsulated_key, d.sealed_key
            FROM pii_vault e JOIN vault_data_keys d USING (dek_id) WHERE e.field = $1 AND e.token = $2
            """, [.text(field.rawValue), .text(token)])
        guard let row = result.rows.first else { return nil }
        let dekID = row["dek_id"].int!
        let dek = try HPKE.open(
            encapsulatedKey: row["encapsulated_key"].bytes!, ciphertext: row["sealed_key"].bytes!,
            recipient: keys.vaultKey, info: VaultFormat.dekInfo,
            aad: VaultFormat.dekAAD(dekID: dekID, vaultKeyVersion: Int(row["vault_key_version"].int!)),
            aead: .aes256GCM
        )
        let plain = try AES256GCM.open(row["ciphertext"].bytes!, key: dek, aad: VaultFormat.entryAAD(field: field, token: token, dekID: dekID))
        return String(decoding: plain, as: UTF8.self)
    }
}

/// The take-home's real messages (99 valid, 1 malformed), as the SQS bodies the loader sent.
public enum Samples {
    public static let bodies: [String] = {
        let url = TestServices.sharedDirectory.appendingPathComponent("data/fetch-takehome/sample_data_v2_2022-12.sqs_bodies.jsonl")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }()

    /// The decoded valid records.
    public static var records: [[String: Any]] {
        bodies.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["user_id"] != nil }
    }
}
