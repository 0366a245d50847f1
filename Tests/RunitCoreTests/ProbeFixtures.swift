import Foundation
import Testing

@testable import RunitKit
@testable import RunitSupervisor

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a probe to its end as the supervisor's loop does: polls its descriptor until its deadline,
/// steps it after every wake-up, and passes on its child's exit. The test process gets no
/// SIGCHLD in a signalfd, so while a child runs it wakes every 20 ms to look, and it reaps only
/// the probe's own pid (other tests run children in this process too).
func runToEnd(_ probe: inout Probe) -> ProbeResult {
    while true {
        let now = Platform.monotonicMillis()
        if let result = probe.step(now: now) { return result }
        if probe.pid > 0 {
            var status: Int32 = 0
            if waitpid(probe.pid, &status, WNOHANG) == probe.pid {
                probe.exited(status: status)
                continue
            }
        }
        let untilDeadline = max(0, probe.deadline - now)
        var entry = pollfd(fd: probe.fd, events: probe.events, revents: 0)
        _ = poll(&entry, 1, Int32(probe.pid > 0 ? min(20, untilDeadline) : untilDeadline))
    }
}

/// Reaps a probe's child that outlived the probe's result (a timeout, a cancel), as the
/// supervisor's SIGCHLD handler would; its wait status.
func reapLeftover(_ probe: inout Probe) -> Int32? {
    let pid = probe.pid
    guard pid > 0 else { return nil }
    var status: Int32 = 0
    guard waitpid(pid, &status, 0) == pid else { return nil }
    probe.exited(status: status)
    return status
}

/// Whether `pid` is gone or a zombie (killed, waiting for a parent that may never reap it),
/// waiting up to ten seconds for it.
func processEnds(_ pid: Int32) -> Bool {
    for _ in 0..<500 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        // The state follows the command's closing parenthesis.
        if let close = stat.lastIndex(of: ")"), stat[close...].dropFirst(2).first == "Z" { return true }
        usleep(20_000)
    }
    return false
}

/// Python servers for the probes to reach, on ports the kernel picked: an HTTP server answering
/// `/ok` 200, `/moved` 302, `/down` 503 and `/host?EXPECTED` 200 when the Host header is EXPECTED
/// (else 400); a listener that accepts and never answers; a port bound but not listening
/// (refused); and a listener on ::1 only.
final class ProbeServers {
    let process = Process()
    let input = Pipe()
    let http: Int
    let silent: Int
    let closed: Int
    let ipv6Only: Int

    static let script = """
        import http.server, socket, sys, threading, time
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path, _, query = self.path.partition("?")
                code = {"/ok": 200, "/moved": 302, "/down": 503, "/keepalive": 200}.get(path, 404)
                if path == "/host":
                    code = 200 if self.headers.get("Host") == query else 400
                self.send_response(code)
                if code == 302:
                    self.send_header("Location", "/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()
                if path == "/keepalive":
                    self.wfile.flush()
                    time.sleep(30)
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        six = socket.socket(socket.AF_INET6)
        six.bind(("::1", 0))
        six.listen(8)
        ports = [server.server_address[1], silent.getsockname()[1], closed.getsockname()[1], six.getsockname()[1]]
        print(*ports, flush=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sys.stdin.read()
        """

    init() throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let more = output.fileHandleForReading.availableData
            if more.isEmpty { break }
            line.append(more)
        }
        let ports = String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard ports.count == 4 else { throw ProbeError(message: "the python servers did not start") }
        (http, silent, closed, ipv6Only) = (ports[0], ports[1], ports[2], ports[3])
    }

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
