import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The TCP port a start gives its process as `PORT`.
public enum PortRequest: Sendable, Equatable {
    /// A port that is free just before the start, picked by the kernel.
    case auto
    /// This port.
    case number(Int)

    /// Parses `auto` or a port number; nil for anything else (a number out of range is
    /// refused later, with the range).
    public init?(_ text: String) {
        if text == "auto" {
            self = .auto
        } else if let number = Int(text) {
            self = .number(number)
        } else {
            return nil
        }
    }

    /// What a port option takes, for error messages.
    public static let rule = "give a port number from 1 to 65535, or auto for a free one (e.g. --port auto)"
}

extension Registry {
    /// One warning for each of `ports` that some process already listens on (IPv4 or IPv6),
    /// naming that process's pid and command line, or saying that it cannot be seen (another
    /// user's). A port nobody listens on, or outside 1...65535, gets none. Reads
    /// `/proc/net/tcp{,6}` once, and scans other processes only for a port in use.
    public func portWarnings(for ports: [Int]) -> [String] {
        let wanted = Set(ports.filter { Limits.port.contains($0) }).sorted()
        guard !wanted.isEmpty else { return [] }
        let listening = ListeningPorts()
        return wanted.compactMap { port in
            guard listening.isListening(on: port) else { return nil }
            guard let holder = listening.listener(of: port) else {
                return "port \(port) is already in use by a process runit cannot see (another user's)"
            }
            return "port \(port) is already in use by pid \(holder.pid) (\(holder.command))"
        }
    }

    /// The warnings for a start of `spec`: its `PORT`, its `--ready-port` and its
    /// `--health-port`, each when another process listens on it already (its readiness check
    /// would then never pass, and a health check would ask someone else).
    package func startWarnings(_ spec: ProcessSpec) -> [String] {
        var uses: [(port: Int, what: String)] = []
        if let port = spec.port { uses.append((port, "gets PORT=\(port)")) }
        if let port = spec.policies.ready.port, port != spec.port { uses.append((port, "waits for port \(port) (--ready-port)")) }
        if let port = spec.policies.health.port, port != spec.port, port != spec.policies.ready.port {
            uses.append((port, "checks port \(port) for health (--health-port)"))
        }
        guard !uses.isEmpty else { return [] }
        let warnings = portWarnings(for: uses.map(\.port))
        return uses.compactMap { use in
            warnings.first { $0.hasPrefix("port \(use.port) ") }.map { "'\(spec.name)' \(use.what), but " + $0 }
        }
    }

    /// A TCP port that is free now: bound on 127.0.0.1 with port 0 (the kernel chooses), read
    /// back and closed. Another program may take it before the process binds it; the kernel
    /// hands out ports in turn, so that is rare.
    package static func freePort() throws(RunitError) -> Int {
        #if os(Linux)
            // Close-on-exec: a process the MCP server spawns meanwhile must not inherit it.
            let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
            let kind = SOCK_STREAM
        #endif
        let fd = socket(AF_INET, kind, 0)
        guard fd >= 0 else { throw freePortError("socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        #if canImport(Darwin)
            address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw freePortError("bind") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        guard named == 0, port > 0 else { throw freePortError("getsockname") }
        return port
    }

    private static func freePortError(_ call: String) -> RunitError {
        RunitError(
            .failed,
            "cannot pick a free port (\(call): \(Platform.describe(errno: Platform.lastError))); give one with --port N")
    }

    /// `env` with `PORT` set as `request` asks (a free one for `auto`); throws for a port out
    /// of range, or for a `PORT` also among the `given` entries.
    package static func applying(_ request: PortRequest, to env: [EnvironmentEntry], given: [String], name: ProcessName)
        throws(RunitError) -> [EnvironmentEntry]
    {
        if given.contains(where: { $0.hasPrefix("PORT=") }) {
            throw RunitError(
                .invalidInput, "'\(name)' was given a port twice, with --port and with --env PORT=...; give it once")
        }
        let port: Int
        switch request {
        case .auto: port = try freePort()
        case .number(let number):
            try Limits.check(number, in: Limits.port, "the port (--port) of '\(name)',")
            port = number
        }
        return env.filter { $0.key != "PORT" } + [EnvironmentEntry(key: "PORT", value: String(port))]
    }
}

extension ProcessSpec {
    /// The port its environment names in `PORT` (the last one given), when it is one.
    public var port: Int? {
        guard let text = env.last(where: { $0.key == "PORT" })?.value,
            let port = Int(text.trimmedSpaces), Limits.port.contains(port)
        else { return nil }
        return port
    }
}
