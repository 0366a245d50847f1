import CRunitSystem

/// What a readiness or health check looks at.
public enum ProbeKind: Equatable, Sendable {
    /// An HTTP GET that must be answered with a 2xx or 3xx status: `http://HOST[:PORT][/PATH]`.
    case http(url: String)
    /// A TCP port on this machine that must accept a connection, on 127.0.0.1 or ::1.
    case port(Int)
    /// A command, run with `/bin/sh -c`, that must exit 0.
    case command(String)
}

/// Why a check's text, a pattern or a notify socket was refused, for the person who gave it.
public struct ProbeError: Error, Equatable, CustomStringConvertible {
    /// The message.
    public let message: String

    /// An error saying `message`.
    public init(message: String) { self.message = message }

    public var description: String { message }
}

extension ProbeKind {
    /// The HTTP check for `text`, after checking that it is a URL the supervisor can probe.
    public static func http(parsing text: String) throws(ProbeError) -> ProbeKind {
        _ = try HTTPTarget(parsing: text)
        return .http(url: text)
    }

    /// The port check for `text`, a number from 1 to 65535.
    public static func port(parsing text: String) throws(ProbeError) -> ProbeKind {
        guard !text.isEmpty, text.utf8.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let port = Int(text), (1...65535).contains(port)
        else { throw ProbeError(message: "a port is a number from 1 to 65535, not '\(text)'") }
        return .port(port)
    }

    /// The command check for `text`, a shell command line.
    public static func command(parsing text: String) throws(ProbeError) -> ProbeKind {
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw ProbeError(message: "the check's command is empty")
        }
        guard !text.utf8.contains(0) else { throw ProbeError(message: "the check's command contains a NUL byte") }
        return .command(text)
    }
}

/// Where an HTTP check connects and what it asks for, parsed from its URL.
///
/// Only `http://HOST[:PORT][/PATH]` with HOST an IPv4 literal, a bracketed IPv6 literal or
/// `localhost`: the supervisor resolves no names (a resolver would block its loop or need a
/// thread, and a dev server is on this machine), and it links no TLS library.
public struct HTTPTarget: Equatable, Sendable {
    /// The addresses tried in turn: the literal, or 127.0.0.1 then ::1 for `localhost`.
    public let addresses: [String]
    /// The TCP port, 80 when the URL names none.
    public let port: Int
    /// The request's target: the path and query, `/` when the URL has none.
    public let path: String
    /// The `Host:` header: the host as written, with the port when it is not 80.
    public let host: String
}

extension HTTPTarget {
    /// Parses `url`; the error says what is wrong and what would do.
    public init(parsing url: String) throws(ProbeError) {
        let example = "http://localhost:3000/health"
        let lowered = url.lowercased()
        if lowered.hasPrefix("https://") {
            throw ProbeError(
                message: "https is not supported in '\(url)': the supervisor speaks plain HTTP only, since it links no "
                    + "TLS library (it stays small and static, one copy per process); probe the server's plain-HTTP port, "
                    + "or use a command check such as 'curl -fsS \(url)'")
        }
        guard lowered.hasPrefix("http://") else {
            if let scheme = lowered.firstRange(of: "://") {
                throw ProbeError(
                    message: "only http:// URLs can be checked, not '\(lowered[..<scheme.lowerBound])://' in '\(url)'")
            }
            throw ProbeError(message: "an HTTP check takes a URL such as \(example), not '\(url)'")
        }
        let rest = url.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = rest[authorityEnd...]
        if let fragment = target.firstIndex(of: "#") { target = target[..<fragment] }
        guard !authority.contains("@") else {
            throw ProbeError(message: "credentials in a URL (user@host) are not supported: '\(url)'")
        }
        guard !authority.isEmpty else { throw ProbeError(message: "the URL '\(url)' has no host; for example \(example)") }

        let hostText: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw ProbeError(message: "the IPv6 address in '\(url)' has no closing ']'")
            }
            hostText = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw ProbeError(message: "unexpected '\(after)' after the host in '\(url)'") }
                portText = after.dropFirst()
            }
            guard crunit_ip_literal_family(String(hostText)) == 6 else {
                throw ProbeError(message: "'\(hostText)' in '\(url)' is not an IPv6 address")
            }
            addresses = [String(hostText)]
        } else {
            let colons = authority.filter { $0 == ":" }.count
            guard colons <= 1 else {
                throw ProbeError(message: "an IPv6 address in a URL goes in brackets, as in http://[::1]:8080/, not '\(url)'")
            }
            if let colon = authority.firstIndex(of: ":") {
                hostText = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                hostText = authority
            }
            if hostText.lowercased() == "localhost" {
                addresses = ["127.0.0.1", "::1"]
            } else if crunit_ip_literal_family(String(hostText)) == 4 {
                addresses = [String(hostText)]
            } else {
                throw ProbeError(
                    message: "'\(hostText)' in '\(url)' is not an IP address or localhost: the supervisor resolves no "
                        + "names (no DNS), so give an address such as 127.0.0.1 or [::1]")
            }
        }
        if let portText {
            guard case .port(let number)? = try? ProbeKind.port(parsing: String(portText)) else {
                throw ProbeError(message: "the port in '\(url)' must be a number from 1 to 65535, not '\(portText)'")
            }
            port = number
        } else {
            port = 80
        }
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ProbeError(
                message: "the path in '\(url)' has a space, a control or a non-ASCII character; percent-encode it (%20)")
        }
        path = target.isEmpty ? "/" : target.hasPrefix("/") ? String(target) : "/" + target
        host = (authority.hasPrefix("[") ? "[\(hostText)]" : String(hostText)) + (port == 80 ? "" : ":\(port)")
    }

    /// The whole request: HTTP/1.0, so the server answers without chunking and closes.
    public var request: [UInt8] {
        Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\nUser-Agent: runit-probe\r\nConnection: close\r\n\r\n".utf8)
    }
}
