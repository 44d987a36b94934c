import ArgumentParser
import Settings

/// `--metrics-address HOST:PORT|[IPV6]:PORT|off` (env `METRICS_ADDRESS`, default `127.0.0.1:9102`
/// for `etl run`; `etl ingest` serves only when the flag is given).
struct MetricsOptions: ParsableArguments {
    @Option(name: .long, help: "HOST:PORT or [IPV6]:PORT for /metrics, /healthz, /readyz, or off (etl run: env METRICS_ADDRESS, default 127.0.0.1:9102; etl ingest: only when given).")
    var metricsAddress: String?

    /// The address given with `--metrics-address` (nil when absent or `off`): `etl ingest`
    /// serves metrics only when asked.
    var requestedAddress: String? {
        guard let metricsAddress, metricsAddress.lowercased() != "off" else { return nil }
        return metricsAddress
    }

    /// The address to serve on, or nil when disabled.
    func address(_ settings: FetchDESettings) -> String? {
        guard let metricsAddress else { return settings.metricsAddress }
        return metricsAddress.lowercased() == "off" ? nil : metricsAddress
    }
}
