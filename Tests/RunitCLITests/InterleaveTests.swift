import Foundation
import Testing

@Suite("stdout and stderr in one log")
struct InterleaveTests {
    @Test("a burst written to stdout and stderr in turn is logged interleaved, each stream in order")
    func alternatingBurst() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let go = fixture.scratch + "/go"
        let count = 2000
        let command =
            "while [ ! -e \(go) ]; do sleep 0.02; done; i=0; "
            + "while [ $i -lt \(count) ]; do echo out $i; echo err $i >&2; i=$((i+1)); done"
        #expect(try fixture.run("start", "--name", "burst", "--command", command).status == 0)
        let status = try fixture.status("burst")
        let supervisor = Int32(try #require(status["supervisor_pid"] as? Int))
        let pid = Int32(try #require(status["pid"] as? Int))
        // Paused, the supervisor finds the whole burst waiting in both pipes when it wakes.
        kill(supervisor, SIGSTOP)
        defer { kill(supervisor, SIGCONT) }
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        #expect(fixture.eventually { !isAlive(pid) })
        kill(supervisor, SIGCONT)
        #expect(fixture.eventually { fixture.state("burst") == "exited" })
        let lines = try fixture.run("logs", "burst", "--lines", "100000", "--json").stdout.split(separator: "\n")
        let records = lines.compactMap { line -> (stream: String, text: String)? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let stream = object["stream"] as? String, stream != "sys", let text = object["text"] as? String
            else { return nil }
            return (stream, text)
        }
        #expect(records.filter { $0.stream == "out" }.map(\.text) == (0..<count).map { "out \($0)" })
        #expect(records.filter { $0.stream == "err" }.map(\.text) == (0..<count).map { "err \($0)" })
        let switches = zip(records, records.dropFirst()).filter { $0.stream != $1.stream }.count
        // Read in 1 KiB turns, the 20 KB a stream wrote come in about 20 pieces each.
        #expect(switches >= 10, "stream switches: \(switches)")
    }
}
