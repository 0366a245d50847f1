/// The policies on the supervisor's command line: each flag takes one value (so the supervisor
/// can find `--env` values by position), and only values that differ from the defaults are written.
extension ProcessPolicies {
    /// The flags for these policies.
    public var commandLine: [String] {
        var out: [String] = []
        let defaults = ProcessPolicies()
        func add(_ flag: String, _ value: String?) { if let value { out += [flag, value] } }
        add("--ready-log", ready.log)
        add("--ready-port", ready.port.map(String.init))
        add("--ready-http", ready.http)
        add("--ready-cmd", ready.command)
        if ready.notify { out += ["--ready-notify", "1"] }
        add("--health-cmd", health.command)
        add("--health-http", health.http)
        add("--health-port", health.port.map(String.init))
        if health.isSet {
            out += ["--health-interval", String(health.intervalMillis), "--health-timeout", String(health.timeoutMillis)]
            out += ["--health-retries", String(health.retries), "--health-start-period", String(health.startPeriodMillis)]
        }
        if maxRestarts != defaults.maxRestarts { out += ["--max-restarts", String(maxRestarts)] }
        if minUptimeMillis != defaults.minUptimeMillis { out += ["--min-uptime", String(minUptimeMillis)] }
        if backoffMaxMillis != defaults.backoffMaxMillis { out += ["--backoff-max", String(backoffMaxMillis)] }
        if stopSignal != defaults.stopSignal { out += ["--stop-signal", String(stopSignal)] }
        if stopTimeoutMillis != defaults.stopTimeoutMillis { out += ["--stop-timeout", String(stopTimeoutMillis)] }
        for path in watch { out += ["--watch", path] }
        for glob in watchIgnore { out += ["--watch-ignore", glob] }
        if tty { out += ["--tty", "1"] }
        return out
    }

    /// Takes one policy flag and its value; false when `flag` is not a policy flag.
    public mutating func parse(_ flag: String, _ value: () throws(SupervisorArgumentError) -> String)
        throws(SupervisorArgumentError) -> Bool
    {
        func number<T: FixedWidthInteger>(_ range: ClosedRange<T>) throws(SupervisorArgumentError) -> T {
            let text = try value()
            guard let parsed = T(text), range.contains(parsed) else {
                throw SupervisorArgumentError(
                    "\(flag) needs a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            }
            return parsed
        }
        switch flag {
        case "--ready-log": ready.log = try value()
        case "--ready-port": ready.port = try number(Range.port)
        case "--ready-http": ready.http = try value()
        case "--ready-cmd": ready.command = try value()
        case "--ready-notify": ready.notify = try number(0...1) == 1
        case "--tty": tty = try number(0...1) == 1
        case "--health-cmd": health.command = try value()
        case "--health-http": health.http = try value()
        case "--health-port": health.port = try number(Range.port)
        case "--health-interval": health.intervalMillis = try number(Range.intervalMillis)
        case "--health-timeout": health.timeoutMillis = try number(Range.timeoutMillis)
        case "--health-retries": health.retries = try number(Range.retries)
        case "--health-start-period": health.startPeriodMillis = try number(Range.startPeriodMillis)
        case "--max-restarts": maxRestarts = try number(Range.maxRestarts)
        case "--min-uptime": minUptimeMillis = try number(Range.minUptimeMillis)
        case "--backoff-max": backoffMaxMillis = try number(Range.backoffMaxMillis)
        case "--stop-signal": stopSignal = try number(Int32(1)...Int32(64))
        case "--stop-timeout": stopTimeoutMillis = try number(Range.stopTimeoutMillis)
        case "--watch":
            let path = try value()
            guard !path.isEmpty else { throw SupervisorArgumentError("--watch needs a path") }
            watch.append(path)
        case "--watch-ignore":
            let glob = try value()
            guard !glob.isEmpty else { throw SupervisorArgumentError("--watch-ignore needs a glob") }
            watchIgnore.append(glob)
        default: return false
        }
        return true
    }
}
