#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The standard `process_*` families (as the Prometheus client libraries export them), read
/// from `/proc/self` at each scrape and written straight into the exposition text.
enum ProcessMetrics {
    static func exposition() -> [UInt8] {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: Double?) {
            guard let value else { return }
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(format(value))\n"
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let stat = statFields()
        // /proc/self/stat after the ")": state is field 3; utime 14, stime 15, starttime 22,
        // vsize 23, rss 24 (1-based, as proc(5) counts them).
        func field(_ number: Int) -> Double? { stat.flatMap { $0.count > number - 3 ? Double($0[number - 3]) : nil } }
        if let utime = field(14), let stime = field(15), ticks > 0 {
            family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", (utime + stime) / ticks)
        }
        family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", field(24).map { $0 * pageSize })
        family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", field(23))
        if let start = field(22), let boot = bootTime(), ticks > 0 {
            family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", boot + start / ticks)
        }
        family("process_open_fds", "gauge", "Number of open file descriptors.",
               (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map { Double($0.count) })
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            family("process_max_fds", "gauge", "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
        return Array(out.utf8)
    }

    /// The fields of `/proc/self/stat` from the state on (the command name may hold spaces).
    private static func statFields() -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// `btime` of `/proc/stat`: boot time in seconds since the epoch.
    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) }
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
