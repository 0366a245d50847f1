import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Checks policies before anything is written: every number within its range, every check
/// well formed, so that a supervisor never starts with a setting it would refuse.
public enum PolicyCheck {
    /// `policies`, or an invalid-input error naming the first bad setting, its range and `name`.
    public static func validated(_ policies: ProcessPolicies, name: ProcessName) throws(RunitError) -> ProcessPolicies {
        typealias R = ProcessPolicies.Range
        let of = "of '\(name)',"
        for (flag, port) in [("--ready-port", policies.ready.port), ("--health-port", policies.health.port)] {
            if let port { try Limits.check(port, in: R.port, "the port (\(flag)) \(of)") }
        }
        try Limits.check(policies.maxRestarts, in: R.maxRestarts, "the restart limit (--max-restarts) \(of)")
        try Limits.check(milliseconds: policies.minUptimeMillis, in: R.minUptimeMillis, "--min-uptime \(of)")
        try Limits.check(milliseconds: policies.backoffMaxMillis, in: R.backoffMaxMillis, "--backoff-max \(of)")
        try Limits.check(milliseconds: policies.stopTimeoutMillis, in: R.stopTimeoutMillis, "--stop-timeout \(of)")
        guard (1...64).contains(policies.stopSignal) else {
            throw RunitError(.invalidInput, "the stop signal \(policies.stopSignal) \(of) is not one; \(SignalName.rule)")
        }
        try checkReadiness(policies.ready, of: of, name: name)
        let health = policies.health
        if !health.isSet && health != HealthCheck() {
            throw RunitError(
                .invalidInput,
                "the health tuning (--health-interval, --health-timeout, --health-retries, --health-start-period) \(of) "
                    + "needs a health check: add --health-cmd, --health-http or --health-port")
        }
        if let url = health.http { try checkURL(url, flag: "--health-http", of: of) }
        if health.isSet {
            try Limits.check(milliseconds: health.intervalMillis, in: R.intervalMillis, "--health-interval \(of)")
            try Limits.check(milliseconds: health.timeoutMillis, in: R.timeoutMillis, "--health-timeout \(of)")
            try Limits.check(health.retries, in: R.retries, "--health-retries \(of)")
            try Limits.check(milliseconds: health.startPeriodMillis, in: R.startPeriodMillis, "--health-start-period \(of)")
            let kinds = [health.command != nil, health.http != nil, health.port != nil].filter { $0 }.count
            guard kinds == 1 else {
                throw RunitError(
                    .invalidInput,
                    "give one health check for '\(name)': --health-cmd, --health-http or --health-port, not \(kinds)")
            }
        }
        for (flag, text) in [("--ready-cmd", policies.ready.command), ("--health-cmd", health.command)] {
            if let text, text.trimmedSpaces.isEmpty {
                throw RunitError(.invalidInput, "the command of \(flag) \(of) is empty; give a shell command")
            }
            // The supervisor gets it on its command line, a C string: a NUL would cut it short.
            if let text, text.utf8.contains(0) {
                throw RunitError(
                    .invalidInput, "the command of \(flag) \(of) holds a NUL byte, which no command can hold; leave it out")
            }
        }
        for path in policies.watch where path.isEmpty || path.utf8.contains(0) {
            throw RunitError(.invalidInput, "a --watch path \(of) is empty or holds a NUL byte; give a file or directory")
        }
        return policies
    }

    /// One readiness check at most, and a pattern or URL the supervisor will take.
    private static func checkReadiness(_ ready: ReadinessCheck, of: String, name: ProcessName) throws(RunitError) {
        let given = [
            ("--ready-log", ready.log != nil), ("--ready-port", ready.port != nil), ("--ready-http", ready.http != nil),
            ("--ready-cmd", ready.command != nil), ("--ready-notify", ready.notify),
        ].filter(\.1).map(\.0)
        guard given.count <= 1 else {
            throw RunitError(
                .invalidInput,
                "give one readiness check for '\(name)', not \(given.count) (\(given.joined(separator: ", "))): "
                    + "a process is ready when that one check holds; wait for more with 'runit wait' after the start")
        }
        if let pattern = ready.log {
            do {
                _ = try LineMatcher(pattern: pattern)
            } catch {
                throw RunitError(.invalidInput, "--ready-log \(of) is refused: \(error.message)")
            }
        }
        if let url = ready.http { try checkURL(url, flag: "--ready-http", of: of) }
    }

    private static func checkURL(_ url: String, flag: String, of: String) throws(RunitError) {
        do {
            _ = try HTTPTarget(parsing: url)
        } catch {
            throw RunitError(.invalidInput, "\(flag) \(of) is refused: \(error.message)")
        }
    }
}
