import Foundation
import Testing

@Suite("Input: keys, end of input, and processes under a pseudo-terminal")
struct TerminalInputTests {
    @Test("--eof ends the input after what was sent; the next run gets an open stdin again")
    func endOfInput() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run("start", "cat1", "--restart", "always", "--", "sh", "-c", "cat; echo CAT-DONE; exit 0")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(try fixture.run("send", "cat1", "first line").status == 0)
        let closed = try fixture.run("send", "cat1", "last line", "--eof", "--json")
        #expect(closed.status == 0, "\(closed.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(closed.stdout.utf8)) as? [String: Any]
        #expect(json?["closed_input"] as? Bool == true && json?["bytes"] as? Int == 10)
        #expect(fixture.eventually { try fixture.run("logs", "cat1").stdout.contains("CAT-DONE") })
        let logs = try fixture.run("logs", "cat1").stdout
        // The input comes out in order and before the end; the supervisor's note of the close may
        // come before cat has echoed the last line it read.
        for earlier in ["first line", "last line", "closed the input"] {
            let (before, after) = (logs.range(of: earlier)?.lowerBound, logs.range(of: "CAT-DONE")?.lowerBound)
            #expect(before != nil && after != nil && before! < after!, "\(earlier) before CAT-DONE: \(logs)")
        }
        #expect(logs.range(of: "first line")!.lowerBound < logs.range(of: "last line")!.lowerBound)
        // The policy's next run reads its input as before.
        #expect(fixture.eventually { (try fixture.status("cat1")["restarts"] as? Int ?? 0) >= 1 })
        #expect(fixture.eventually { fixture.state("cat1") == "running" })
        #expect(try fixture.run("send", "cat1", "after restart").status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "cat1").stdout.contains("after restart") })
    }

    @Test("after --eof, status says the input is closed and a send is refused, not queued for a later run")
    func sendAfterEndOfInput() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "reader", "--", "sh", "-c", "cat; echo READ-ALL; exec sleep 300").status == 0)
        #expect(try fixture.run("send", "reader", "one", "--eof").status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "reader").stdout.contains("READ-ALL") })
        #expect(fixture.eventually { try fixture.status("reader")["input_closed"] as? Bool == true })
        let late = try fixture.run("send", "reader", "two")
        #expect(late.status != 0 && late.stderr.contains("has its input closed") && late.stderr.contains("runit restart reader"))
        // A new run has an open input again.
        #expect(try fixture.run("restart", "reader").status == 0)
        #expect(try fixture.status("reader")["input_closed"] == nil)
        #expect(try fixture.run("send", "reader", "three").status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "reader").stdout.contains("three") })
        #expect(try !fixture.run("logs", "reader").stdout.contains("two"))
    }

    @Test("send needs text, a key or --eof; a key's name is checked; a stopped process has no input")
    func badInput() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "idle", "--", "sleep", "300").status == 0)
        let nothing = try fixture.run("send", "idle")
        #expect(nothing.status == 2 && nothing.stderr.contains("give the text to send, --key or --eof"))
        let bogus = try fixture.run("send", "idle", "--key", "ctrl-1")
        #expect(bogus.status == 2 && bogus.stderr.contains("'ctrl-1' is not a key") && bogus.stderr.contains("pagedown"))
        #expect(try fixture.run("stop", "idle").status == 0)
        let stopped = try fixture.run("send", "idle", "--eof")
        #expect(stopped.status != 0 && stopped.stderr.contains("not running"))
    }

    @Test("--tty: Python prints line by line without PYTHONUNBUFFERED, colours come through, ctrl-c interrupts")
    func terminal() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let script = """
            import os, sys, time
            print('isatty', sys.stdout.isatty(), os.get_terminal_size().columns)
            print('\\x1b[31mred\\x1b[0m')
            print('first')
            try:
                time.sleep(300)
            except KeyboardInterrupt:
                print('interrupted')
            name = input('name? ')
            print('hello', name)
            time.sleep(300)
            """
        let start = try fixture.run(["start", "py", "--tty", "--", "python3", "-c", script], unset: ["PYTHONUNBUFFERED"])
        #expect(start.status == 0, "\(start.stderr)")
        // Not buffered until exit: the first line is there while the program still runs.
        #expect(fixture.eventually { try fixture.run("logs", "py").stdout.contains("first") })
        let logs = try fixture.run("logs", "py").stdout
        #expect(logs.contains("isatty True 80"))
        #expect(logs.contains("red") && !logs.contains("\r"))
        let raw = try fixture.run("logs", "py", "--json").stdout
        #expect(raw.contains("\\u001b[31m") || raw.contains("\\u001B[31m"), "the colour codes are kept in the log")
        #expect(try fixture.run("send", "py", "--key", "ctrl-c").status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "py").stdout.contains("interrupted") })
        #expect(fixture.eventually { try fixture.run("logs", "py").stdout.contains("name?") })
        #expect(try fixture.run("send", "py", "bob").status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "py").stdout.contains("hello bob") })
        #expect(fixture.state("py") == "running", "Ctrl-C was the program's to handle; it goes on")
    }

    @Test("--tty: end of input comes after input the terminal had no room for yet, never before it")
    func terminalEndAfterQueuedInput() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let script = "sleep 2; n=0; while read l; do n=$((n+1)); done; echo GOT-EOF after $n lines; sleep 300"
        #expect(try fixture.run("start", "t", "--tty", "--", "sh", "-c", script).status == 0)
        // 300 lines, 10 KB: more than the terminal holds (4 KB) while nothing reads.
        let lines = (0..<300).map { "line-\($0)-xxxxxxxxxxxxxxxxxxxxxx" }.joined(separator: "\n")
        #expect(try fixture.run("send", "t", lines).status == 0)
        #expect(try fixture.run("send", "t", "--eof").status == 0)
        #expect(fixture.eventually(timeout: 20) { try fixture.run("logs", "t").stdout.contains("GOT-EOF") })
        #expect(try fixture.run("logs", "t").stdout.contains("GOT-EOF after 300 lines"))
    }
}
