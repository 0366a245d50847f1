import Foundation
import Testing

@testable import RunitCore
@testable import RunitKit
@testable import RunitState

@Suite("Port warnings and port requests before a start")
struct PortWarningsTests {
    let registry = Registry(context: RunitContext(home: "/nonexistent", supervisorPath: "/nonexistent", workingDirectory: "/"))

    @Test("a port in use is named with its holder's pid and command; a free or impossible port gets nothing")
    func warnings() throws {
        let listening = try #require(TestSocket())
        defer { listening.release() }
        let free = try Registry.freePort()
        let warnings = registry.portWarnings(for: [listening.port, free, 0, 70_000, listening.port])
        #expect(warnings.count == 1, "\(warnings)")
        let command = try #require(ListeningPorts.command(of: getpid()))
        #expect(warnings.first == "port \(listening.port) is already in use by pid \(getpid()) (\(command))")
        #expect(registry.portWarnings(for: []) == [])
    }

    @Test("a free port is in range and nobody listens on it")
    func freePort() throws {
        let port = try Registry.freePort()
        #expect(Limits.port.contains(port))
        #expect(!ListeningPorts().isListening(on: port))
    }

    @Test("a spec's port is its last PORT entry, when that is a port")
    func specPort() {
        var spec = ProcessSpec(name: "web", argv: ["true"], cwd: "/")
        #expect(spec.port == nil)
        spec.env = [EnvironmentEntry(key: "PORT", value: "3000"), EnvironmentEntry(key: "PORT", value: " 8080 ")]
        #expect(spec.port == 8080)
        spec.env = [EnvironmentEntry(key: "PORT", value: "99999")]
        #expect(spec.port == nil)
        #expect(PortRequest("auto") == .auto && PortRequest("80") == .number(80) && PortRequest("eighty") == nil)
    }
}
