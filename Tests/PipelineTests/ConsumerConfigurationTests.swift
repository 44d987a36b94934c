@testable import Pipeline
import Settings
import Testing

/// `[etl]` settings → how `etl run` consumes.
@Suite("ConsumerConfiguration")
struct ConsumerConfigurationTests {
    static func configuration(_ environment: [String: String]) throws -> ConsumerConfiguration {
        let settings = try FetchDESettings.load(path: "/nonexistent/config.ini", required: false, environment: environment)
        return ConsumerConfiguration(settings: settings, queueURL: "http://q", drain: false)
    }

    @Test("max_in_flight_bytes: 64 MiB by default, ETL_MAX_IN_FLIGHT_BYTES overrides, at least one full receive")
    func byteBudget() throws {
        #expect(try Self.configuration([:]).maxInFlightBytes == 64 << 20)
        #expect(try Self.configuration(["ETL_MAX_IN_FLIGHT_BYTES": "200000000"]).maxInFlightBytes == 200_000_000)
        let floor = try Self.configuration(["ETL_MAX_IN_FLIGHT_BYTES": "1048576", "ETL_RECEIVE_BATCH": "10"])
        #expect(floor.maxInFlightBytes == 10 * MessageBuffer.worstCaseMessageBytes)
        #expect(throws: SettingsError.self) { try Self.configuration(["ETL_MAX_IN_FLIGHT_BYTES": "1000"]) }
        #expect(throws: SettingsError.self) { try Self.configuration(["ETL_MAX_IN_FLIGHT_BYTES": "64MiB"]) }
    }
}

extension ConsumerConfigurationTests {
    @Test("max_receive_loops: 32 by default, ETL_MAX_RECEIVE_LOOPS overrides, never below receive_loops")
    func receiveLoops() throws {
        let defaults = try Self.configuration([:])
        #expect(defaults.receiveLoops == 4)
        #expect(defaults.maxReceiveLoops == 32)
        #expect(try Self.configuration(["ETL_MAX_RECEIVE_LOOPS": "64"]).maxReceiveLoops == 64)
        #expect(try Self.configuration(["ETL_RECEIVE_LOOPS": "8", "ETL_MAX_RECEIVE_LOOPS": "2"]).maxReceiveLoops == 8)
        #expect(throws: SettingsError.self) { try Self.configuration(["ETL_MAX_RECEIVE_LOOPS": "0"]) }
    }
}
