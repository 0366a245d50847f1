import CRunitSystem
import Foundation
import Testing

@testable import RunitKit
@testable import RunitSupervisor

#if canImport(Glibc)
    import Glibc
#endif

/// The probes against real servers and real commands, driven by a poll loop as the supervisor's.
/// Timeouts that must not pass are ten seconds; those that must pass are one second.
@Suite struct ProbeTests {
    static func start(_ kind: ProbeKind, timeoutMillis: Int64 = 10_000, cwd: String = "", environment: [String]? = nil)
        -> Probe
    {
        Probe.start(kind, timeoutMillis: timeoutMillis, now: Platform.monotonicMillis(), cwd: cwd, environment: environment)
    }

    @Test func httpCheckPassesOn2xxAnd3xxAndFailsOn5xx() throws {
        let servers = try ProbeServers()
        var ok = Self.start(.http(url: "http://127.0.0.1:\(servers.http)/ok"))
        #expect(runToEnd(&ok) == ProbeResult(ok: true, detail: "HTTP 200"))
        var moved = Self.start(.http(url: "http://localhost:\(servers.http)/moved"))
        #expect(runToEnd(&moved) == ProbeResult(ok: true, detail: "HTTP 302"))
        var down = Self.start(.http(url: "http://127.0.0.1:\(servers.http)/down"))
        #expect(runToEnd(&down) == ProbeResult(ok: false, detail: "HTTP 503"))
        #expect(down.fd == -1)
    }

    @Test func httpCheckSendsTheHostAsWritten() throws {
        let servers = try ProbeServers()
        var probe = Self.start(.http(url: "http://localhost:\(servers.http)/host?localhost:\(servers.http)"))
        #expect(runToEnd(&probe) == ProbeResult(ok: true, detail: "HTTP 200"))
    }

    @Test func httpCheckPassesWhenTheServerAnswersButKeepsTheConnection() throws {
        let servers = try ProbeServers()
        var probe = Self.start(.http(url: "http://127.0.0.1:\(servers.http)/keepalive"))
        #expect(runToEnd(&probe) == ProbeResult(ok: true, detail: "HTTP 200"))
        #expect(probe.fd == -1)
    }

    @Test func httpCheckOnAClosedPortSaysConnectionRefused() throws {
        let servers = try ProbeServers()
        var probe = Self.start(.http(url: "http://127.0.0.1:\(servers.closed)/"))
        #expect(runToEnd(&probe) == ProbeResult(ok: false, detail: "connection refused"))
    }

    @Test func httpCheckOnAServerThatNeverAnswersTimesOut() throws {
        let servers = try ProbeServers()
        var probe = Self.start(.http(url: "http://127.0.0.1:\(servers.silent)/"), timeoutMillis: 1000)
        let result = runToEnd(&probe)
        #expect(!result.ok)
        #expect(result.detail == "timed out after 1s (waiting for an answer from 127.0.0.1:\(servers.silent))")
        #expect(probe.fd == -1)
    }

    @Test func portCheckPassesOnEitherLoopbackAddress() throws {
        let servers = try ProbeServers()
        var four = Self.start(.port(servers.http))
        #expect(runToEnd(&four) == ProbeResult(ok: true, detail: "127.0.0.1:\(servers.http) accepts connections"))
        var six = Self.start(.port(servers.ipv6Only))
        #expect(runToEnd(&six) == ProbeResult(ok: true, detail: "[::1]:\(servers.ipv6Only) accepts connections"))
    }

    @Test func portCheckOnAClosedPortFails() throws {
        let servers = try ProbeServers()
        var probe = Self.start(.port(servers.closed))
        #expect(runToEnd(&probe) == ProbeResult(ok: false, detail: "connection refused"))
    }

    @Test func commandCheckPassesOnExitZero() {
        var probe = Self.start(.command("exit 0"))
        #expect(probe.pid > 0)
        #expect(runToEnd(&probe) == ProbeResult(ok: true, detail: "exit code 0"))
        #expect(probe.pid == 0)
    }

    @Test func commandCheckFailureCarriesItsCodeAndOutput() {
        var probe = Self.start(.command("echo first; echo second >&2; exit 3"))
        #expect(runToEnd(&probe) == ProbeResult(ok: false, detail: "exit code 3\nfirst\nsecond"))
    }

    @Test func commandCheckKeepsTheFirst4KiBAndDrainsTheRest() {
        // 200 KB is more than a pipe holds: without the rest being read, the command would block.
        var probe = Self.start(.command("head -c 200000 /dev/zero | tr '\\0' x; echo; echo end; exit 1"))
        let result = runToEnd(&probe)
        #expect(!result.ok)
        let lines = result.detail.split(separator: "\n")
        #expect(lines.first == "exit code 1")
        #expect(lines.count == 2 && lines[1].count == CommandRun.outputLimit && lines[1].allSatisfy { $0 == "x" })
    }

    @Test func commandCheckRunsInItsDirectoryWithItsEnvironment() {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "runit-probe-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.resolvingSymlinksInPath().path
        var probe = Self.start(
            .command("pwd; echo \"$PROBE_VALUE\"; echo \"${HOME:-no home}\""), cwd: path,
            environment: ["PROBE_VALUE=given", "PATH=/usr/bin:/bin"])
        #expect(runToEnd(&probe) == ProbeResult(ok: true, detail: "exit code 0\n\(path)\ngiven\nno home"))
    }

    @Test func commandCheckInAMissingDirectoryFailsAtOnce() {
        var probe = Self.start(.command("true"), cwd: "/nonexistent/runit-probe")
        let result = probe.step(now: Platform.monotonicMillis())
        #expect(result?.ok == false)
        #expect(result?.detail.hasPrefix("cannot start the check's command in '/nonexistent/runit-probe': ") == true)
        #expect(probe.pid == 0 && probe.fd == -1)
    }

    @Test func commandCheckPastItsTimeoutHasItsProcessGroupKilled() {
        // The shell waits for a child of its own, in its group: both must be killed.
        var probe = Self.start(.command("sleep 60 & echo $!; wait"), timeoutMillis: 1000)
        let shell = probe.pid
        let result = runToEnd(&probe)
        #expect(!result.ok)
        let lines = result.detail.split(separator: "\n")
        #expect(lines.first == "timed out after 1s")
        let sleeper = lines.count == 2 ? Int32(lines[1]) ?? 0 : 0
        #expect(sleeper > 0)
        // The shell is ours to reap, as the supervisor would; the sleeper, orphaned, is init's.
        let status = reapLeftover(&probe)
        #expect(status.map { crunit_wifsignaled($0) != 0 && crunit_wtermsig($0) == SIGKILL } == true)
        #expect(probe.pid == 0)
        #expect(processEnds(sleeper))
        #expect(kill(shell, 0) == -1)
    }

    @Test func cancelledCommandCheckIsKilled() {
        var probe = Self.start(.command("sleep 60"))
        #expect(probe.step(now: Platform.monotonicMillis()) == nil)
        probe.cancel()
        #expect(probe.step(now: Platform.monotonicMillis()) == ProbeResult(ok: false, detail: "cancelled"))
        let status = reapLeftover(&probe)
        #expect(status.map { crunit_wifsignaled($0) != 0 && crunit_wtermsig($0) == SIGKILL } == true)
    }

    @Test func answersAreReadFromTheirStatusLine() {
        func status(_ text: String) -> ProbeResult { TCPExchange.status(of: Array(text.utf8)) }
        #expect(status("HTTP/1.1 204 No Content\r\n") == ProbeResult(ok: true, detail: "HTTP 204"))
        #expect(status("HTTP/1.0 399 Odd") == ProbeResult(ok: true, detail: "HTTP 399"))
        #expect(status("HTTP/1.1 404 Not Found\r\n") == ProbeResult(ok: false, detail: "HTTP 404"))
        #expect(status("HTTP/1.1 199 Early\r\n") == ProbeResult(ok: false, detail: "HTTP 199"))
        #expect(status("SSH-2.0-OpenSSH_9.6\r\n") == ProbeResult(ok: false, detail: "not an HTTP answer: 'SSH-2.0-OpenSSH_9.6'"))
        #expect(status("") == ProbeResult(ok: false, detail: "the server closed the connection without answering"))
    }
}
