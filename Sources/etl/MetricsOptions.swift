import ArgumentParser
import Settings

/// `--metrics-address HOST:PORT|off` (env `METRICS_ADDRESS`, default `127.0.0.1:9102`).
struct MetricsOptions: ParsableArguments {
    @Option(name: .long, help: "HOST:PORT for /metrics, /healthz, /readyz, or off (env METRICS_ADDRESS).")
    var metricsAddress: String?

    /// The address to serve on, or nil when disabled.
    func address(_ settings: FetchDESettings) -> String? {
        guard let metricsAddress else { return settings.metricsAddress }
        return metricsAddress.lowercased() == "off" ? nil : metricsAddress
    }
}
