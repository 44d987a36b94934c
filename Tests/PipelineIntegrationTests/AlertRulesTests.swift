import Foundation
import Pipeline
import Testing
import TestSupport

/// The alert rules and the dashboard shipped under deploy/ (SPEC §8): the rules' unit tests
/// pass under `promtool test rules`, and both name only metrics `etl` exports.
@Suite("alert rules and dashboard")
struct AlertRulesTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy")

    /// The `etl_*` metric names in `text`, histogram series suffixes removed.
    static func metricNames(in text: String) -> Set<String> {
        Set(text.matches(of: /etl_[a-z_]+/).map { match in
            var name = String(match.output)
            for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && PipelineMetricsCatalog.help[name] == nil {
                name = String(name.dropLast(suffix.count))
            }
            return name
        })
    }

    @Test("promtool check rules and promtool test rules pass on deploy/prometheus/alerts.yml")
    func promtoolTestRules() async throws {
        let directory = Self.deploy.appendingPathComponent("prometheus")
        for arguments in [["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]] {
            let result = try await ChildProcess.run(path: try MetricsEndpointTests.promtool(), arguments, directory: directory.path)
            #expect(result.status == 0, "promtool \(arguments.joined(separator: " ")): \(result)")
        }
    }

    @Test("every alert the issue asks for is there and every unit test file names it")
    func alertsPresent() throws {
        let rules = try String(contentsOf: Self.deploy.appendingPathComponent("prometheus/alerts.yml"), encoding: .utf8)
        let tests = try String(contentsOf: Self.deploy.appendingPathComponent("prometheus/alerts.test.yml"), encoding: .utf8)
        for alert in ["FetchDEQueueBacklogGrowing", "FetchDEMessageAgeHigh", "FetchDEQuarantineGrowing", "FetchDENotReady", "FetchDEDatabaseErrors", "FetchDENoDataKeyRoll"] {
            #expect(rules.contains("alert: \(alert)\n"), "no rule \(alert)")
            #expect(tests.contains("alertname: \(alert)\n"), "no unit test for \(alert)")
        }
    }

    @Test("the rules and the dashboard name only metrics etl exports")
    func namesExist() throws {
        // The expressions, not the prose (annotations name the etl_quarantine table).
        let rules = try String(contentsOf: Self.deploy.appendingPathComponent("prometheus/alerts.yml"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.contains("summary:") && !$0.contains("description:") && !$0.contains("#") }
            .joined(separator: "\n")
        let dashboardData = try Data(contentsOf: Self.deploy.appendingPathComponent("grafana/fetchde-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: dashboardData) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(expressions.count >= 8)
        for (source, text) in [("alerts.yml", rules), ("dashboard", expressions.joined(separator: "\n"))] {
            let names = Self.metricNames(in: text)
            #expect(!names.isEmpty)
            for name in names {
                #expect(PipelineMetricsCatalog.help[name] != nil, "\(source) names \(name), which etl does not export")
            }
        }
    }
}
