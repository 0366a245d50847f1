import Foundation
import Testing

/// A TCP listener on 127.0.0.1 held by the test process itself: "another program" for runit.
/// `close()` it in a `defer`.
final class TestListener: @unchecked Sendable {
    // Used from one test at a time; the class exists so `defer` can close it.
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && listen(descriptor, 8) == 0
                    && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(descriptor) }
}

/// A port that nobody listened on a moment ago (the kernel's pick for 127.0.0.1:0).
func freePort() throws -> Int {
    let listener = try TestListener()
    defer { listener.close() }
    return listener.port
}

/// Python's HTTP server on 127.0.0.1:`port`, serving the current directory, after `delay` seconds.
func httpServer(port: Int, delay: Double = 0) -> String {
    "echo warming up; sleep \(delay); exec python3 -m http.server \(port) --bind 127.0.0.1"
}

/// A python program that sends `READY=1` to `$NOTIFY_SOCKET` after `delay` seconds (never when
/// `delay` is nil), and then runs until stopped.
func notifyingProgram(after delay: Double?) -> [String] {
    let send =
        delay.map {
            """
            time.sleep(\($0))
            address = os.environ["NOTIFY_SOCKET"]
            if address.startswith("@"): address = "\\0" + address[1:]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.connect(address); s.send(b"READY=1")
            print("sent READY=1", flush=True)
            """
        } ?? ""
    let script = """
        import os, socket, time
        print("notify socket", "NOTIFY_SOCKET" in os.environ, flush=True)
        \(send)
        time.sleep(300)
        """
    return ["python3", "-c", script]
}

extension CLIFixture {
    /// The decoded `--json` output of a command (an object), or an empty one.
    func object(_ result: CommandResult) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// The `health` object of `runit status NAME --json`, or an empty one.
    func health(_ name: String) throws -> [String: Any] {
        try status(name)["health"] as? [String: Any] ?? [:]
    }

    /// The `restarts` of `runit status NAME --json` (-1 when absent).
    func restarts(_ name: String) throws -> Int {
        try status(name)["restarts"] as? Int ?? -1
    }

    /// Writes `text` to `scratch/relative`, making its folders.
    func write(_ text: String, to relative: String) throws {
        let url = URL(fileURLWithPath: scratch + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: false, encoding: .utf8)
    }
}
