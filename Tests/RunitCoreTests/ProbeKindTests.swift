import Foundation
import Testing

@testable import RunitKit
@testable import RunitSupervisor

/// What a user gives a check: a URL, a port, a command; each refused with the reason.
@Suite struct ProbeKindTests {
    @Test func httpURLsAreParsedIntoAddressesPortPathAndHost() throws {
        let local = try HTTPTarget(parsing: "http://localhost:3000/health")
        #expect(local == HTTPTarget(addresses: ["127.0.0.1", "::1"], port: 3000, path: "/health", host: "localhost:3000"))
        let bare = try HTTPTarget(parsing: "http://127.0.0.1")
        #expect(bare == HTTPTarget(addresses: ["127.0.0.1"], port: 80, path: "/", host: "127.0.0.1"))
        let six = try HTTPTarget(parsing: "http://[::1]:8080/a?b=1#part")
        #expect(six == HTTPTarget(addresses: ["::1"], port: 8080, path: "/a?b=1", host: "[::1]:8080"))
        let query = try HTTPTarget(parsing: "HTTP://LOCALHOST:80?ready")
        #expect(query == HTTPTarget(addresses: ["127.0.0.1", "::1"], port: 80, path: "/?ready", host: "LOCALHOST"))
        #expect(
            String(decoding: six.request, as: UTF8.self)
                == "GET /a?b=1 HTTP/1.0\r\nHost: [::1]:8080\r\nUser-Agent: runit-probe\r\nConnection: close\r\n\r\n")
        #expect(try ProbeKind.http(parsing: "http://localhost:3000/") == .http(url: "http://localhost:3000/"))
    }

    @Test(arguments: [
        ("https://localhost:8443/", "https is not supported"),
        ("ftp://127.0.0.1/", "only http:// URLs can be checked, not 'ftp://'"),
        ("localhost:3000", "an HTTP check takes a URL such as http://localhost:3000/health"),
        ("http://example.com/", "the supervisor resolves no names (no DNS)"),
        ("http://::1:8080/", "an IPv6 address in a URL goes in brackets"),
        ("http://[::1/", "has no closing ']'"),
        ("http://[127.0.0.1]/", "is not an IPv6 address"),
        ("http://localhost:0/", "the port in 'http://localhost:0/' must be a number from 1 to 65535, not '0'"),
        ("http://localhost:65536/", "not '65536'"),
        ("http://localhost:/", "not ''"),
        ("http://user:secret@localhost/", "credentials in a URL"),
        ("http://localhost/a b", "percent-encode"),
        ("http:///health", "has no host"),
    ])
    func badURLsAreRefusedWithTheReason(url: String, expected: String) {
        #expect {
            _ = try ProbeKind.http(parsing: url)
        } throws: { error in
            (error as? ProbeError)?.message.contains(expected) == true
        }
    }

    @Test func httpsIsRefusedWithWhyAndWhatToDoInstead() {
        #expect {
            _ = try ProbeKind.http(parsing: "https://127.0.0.1/")
        } throws: { error in
            let message = (error as? ProbeError)?.message ?? ""
            return message.contains("no TLS library") && message.contains("curl -fsS https://127.0.0.1/")
        }
    }

    @Test func portsAndCommandsAreChecked() throws {
        #expect(try ProbeKind.port(parsing: "8080") == .port(8080))
        for bad in ["0", "65536", "", "+80", "80a", "http"] {
            #expect(throws: ProbeError(message: "a port is a number from 1 to 65535, not '\(bad)'")) {
                try ProbeKind.port(parsing: bad)
            }
        }
        #expect(try ProbeKind.command(parsing: "curl -fsS localhost") == .command("curl -fsS localhost"))
        #expect(throws: ProbeError(message: "the check's command is empty")) { try ProbeKind.command(parsing: " \t") }
    }
}
