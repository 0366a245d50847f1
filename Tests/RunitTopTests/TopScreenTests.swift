import Foundation
import RunitCore
import RunitKit
import Testing

@testable import RunitTop

@Suite("runit top: frames, keys and the filter, without a terminal")
struct TopScreenTests {
    /// A report as `runit status --json` would give it.
    static func report(
        _ name: String, state: String = "running", pid: Int? = 100, project: String? = nil, ports: [Int] = [],
        health: String? = nil, cpu: Double? = nil, memory: Int? = nil, restarts: Int = 0, problem: String? = nil
    ) -> ProcessReport {
        var object: [String: Any] = [
            "name": name, "state": state, "restarts": restarts, "log_path": "/tmp/\(name).log", "ports": ports,
        ]
        object["pid"] = pid
        object["project"] = project
        object["cpu_seconds"] = cpu
        object["memory_bytes"] = memory
        object["problem"] = problem
        if pid != nil { object["uptime_seconds"] = 754 }
        if let health { object["health"] = ["status": health, "failures": 0] }
        let data = try! JSONSerialization.data(withJSONObject: object)
        return try! JSONDecoder().decode(ProcessReport.self, from: data)
    }

    static func record(_ text: String, stream: LogStream = .out, at micros: Int64) -> LogRecord {
        LogRecord(micros: micros, stream: stream, text: Array(text.utf8))
    }

    /// A state with loose and project processes, long names, odd output and a log for each.
    static func busyState() -> TopState {
        var state = TopState()
        state.update(
            reports: [
                report("api/web", project: "api", ports: [8080, 8443], health: "healthy", cpu: 1.5, memory: 52_000_000),
                report("worker", pid: 4_194_301, cpu: 12, memory: 9_000_000_000, restarts: 12),
                report("api/db", state: "failed", pid: nil, project: "api", restarts: 3),
                report("a-very-long-process-name-that-goes-on-and-on", state: "backoff", pid: nil),
                report("broken", state: "unknown", pid: nil, problem: "status.json is damaged"),
            ], elapsedSeconds: nil)
        state.append([
            ("worker", record("plain line", at: 1)),
            ("api/web", record("GET / 200 \u{1B}[32mOK\u{1B}[0m", at: 2)),
            ("api/web", record("wide: 漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字 🎉🎉", at: 3)),
            (
                "worker",
                record("tab\tand\u{7}bell and a very long line " + String(repeating: "x", count: 300), stream: .err, at: 4)
            ),
            ("api/db", record("started pid 77", stream: .sys, at: 5)),
        ])
        return state
    }

    /// What a line shows: its text without escape sequences.
    static func visibleText(_ line: String) -> String {
        line.replacingOccurrences(of: "\u{1B}\\[[0-9;?]*[A-Za-z]", with: "", options: .regularExpression)
    }

    @Test("A frame has exactly as many lines and columns as the terminal, with colours or without")
    func fitsExactly() {
        let state = Self.busyState()
        for colors in [true, false] {
            for (width, height) in [(80, 24), (20, 5), (41, 9), (132, 43), (200, 60), (25, 100)] {
                let lines = TopScreen(width: width, height: height, colors: colors).render(state)
                #expect(lines.count == height, "\(width)x\(height)")
                for (index, line) in lines.enumerated() {
                    let text = Self.visibleText(line)
                    #expect(TopText.columns(text) == width, "\(width)x\(height) line \(index): '\(text)'")
                    #expect(!text.contains("\t") && !text.contains("\u{7}"), "control characters are shown as escapes")
                }
            }
        }
    }

    @Test("80x24 shows the table, grouped: loose processes first, then each project, and the merged log")
    func frameContents() {
        var state = Self.busyState()
        let lines = TopScreen(width: 80, height: 24, colors: false).render(state).map(Self.visibleText)
        let table = lines.firstIndex { $0.contains("NAME") && $0.contains("STATE") }
        #expect(table == 1, "\(lines.joined(separator: "\n"))")
        let order = ["a-very-long", "broken", "worker", "db", "web"].map { word in lines.firstIndex { $0.contains(word) } }
        #expect(order.allSatisfy { $0 != nil } && order.map { $0! } == order.map { $0! }.sorted(), "\(lines)")
        // A blank line between the loose processes and the project's.
        let worker = lines.firstIndex { $0.contains("worker ") && $0.contains("4194301") } ?? 0
        #expect(lines[worker + 1].trimmingCharacters(in: .whitespaces).isEmpty)
        #expect(lines.contains { $0.contains("> a-very-long") }, "the first process is selected")
        #expect(lines.contains { $0.contains("broken") && $0.contains("status.json") }, "a problem shows in its row")
        #expect(lines.contains { $0.contains("api/db") && $0.contains("failed") }, "a project's process is named in full")
        #expect(lines.contains { $0.contains("── logs ") })
        #expect(lines.contains { $0.contains("worker") && $0.contains("| tab\\tand\u{FFFD}bell") })
        #expect(lines.contains { $0.contains("GET / 200 OK") }, "escape codes in the output are left out")
        #expect(lines.last?.contains("q quit") == true)
        _ = state.handle(.character("?"))
        let help = TopScreen(width: 80, height: 24, colors: false).render(state).map(Self.visibleText)
        #expect(help.contains { $0.contains("stop it if it runs, start it if not") })
    }

    @Test("NO_COLOR: a frame has no escape sequence at all; with colours, states are coloured")
    func colours() {
        let state = Self.busyState()
        let plain = TopScreen(width: 80, height: 24, colors: false).render(state)
        #expect(!plain.joined().contains("\u{1B}"))
        let coloured = TopScreen(width: 80, height: 24, colors: true).render(state).joined()
        #expect(coloured.contains("\u{1B}[31mfailed"))
        #expect(coloured.contains("\u{1B}[32mrunning"))
    }

    @Test("Keys: arrows in both modes, page keys, enter, backspace, Ctrl-C, UTF-8, and sequences split across reads")
    func keyDecoding() {
        #expect(TopKeys.decode(Array("\u{1B}[A\u{1B}[B\u{1B}OA\u{1B}OB".utf8)).keys == [.up, .down, .up, .down])
        #expect(TopKeys.decode(Array("\u{1B}[5~\u{1B}[6~\u{1B}[H\u{1B}[4~".utf8)).keys == [.pageUp, .pageDown, .home, .end])
        #expect(TopKeys.decode([0x0D, 0x7F, 0x03, 0x0C, 0x1A]).keys == [.enter, .backspace, .interrupt, .redraw, .suspend])
        #expect(TopKeys.decode(Array("jk/q".utf8)).keys == ["j", "k", "/", "q"].map { TopKey.character($0) })
        #expect(TopKeys.decode(Array("é".utf8)).keys == [.character("é")])
        // An escape at the end of a read may be the start of an arrow: it waits for more.
        let split = TopKeys.decode([UInt8(ascii: "j"), 0x1B, UInt8(ascii: "[")])
        #expect(split.keys == [.character("j")] && split.rest == [0x1B, UInt8(ascii: "[")])
        #expect(TopKeys.decode(split.rest + [UInt8(ascii: "B")]).keys == [.down])
        // Nothing came after it: it was the Escape key.
        #expect(TopKeys.decode([0x1B], final: true).keys == [.escape])
        #expect(TopKeys.decode([0x1B]).keys == [] && TopKeys.decode([0x1B]).rest == [0x1B])
        // Escape then a letter typed fast: both keys.
        #expect(TopKeys.decode([0x1B, UInt8(ascii: "q")]).keys == [.escape, .character("q")])
        let half = Array("漢".utf8).prefix(2)
        #expect(TopKeys.decode(Array(half)).rest == Array(half))
        #expect(TopKeys.decode(Array("\u{1B}[1;5C".utf8)).keys == [.unknown], "an unknown sequence is eaten whole")
    }

    @Test("/ filters by name as it is typed; enter keeps it, esc clears it; the selection stays on a shown process")
    func filter() {
        var state = Self.busyState()
        #expect(state.visibleRows.count == 5)
        for key in [TopKey.character("/"), .character("A"), .character("p"), .character("x"), .backspace] {
            #expect(state.handle(key) == nil)
        }
        #expect(state.filterDraft == "Ap")
        #expect(state.visibleRows.map(\.name) == ["api/db", "api/web"], "case is ignored")
        #expect(state.selected == "api/db")
        let typing = TopScreen(width: 80, height: 24, colors: false).render(state).map(Self.visibleText)
        #expect(typing.last?.hasPrefix("/Ap_") == true)
        _ = state.handle(.enter)
        #expect(state.filter == "Ap" && state.filterDraft == nil && state.visibleRows.count == 2)
        // `q` while typing is a letter, not quit.
        _ = state.handle(.character("/"))
        #expect(state.handle(.character("q")) == nil && state.visibleRows.isEmpty)
        let none = TopScreen(width: 80, height: 24, colors: false).render(state).map(Self.visibleText)
        #expect(none.contains { $0.contains("no process matches the filter") })
        _ = state.handle(.escape)
        #expect(state.filter.isEmpty && state.filterDraft == nil && state.visibleRows.count == 5)
        #expect(state.selected == "api/db", "the selection stays where it was")
    }

    @Test("Selection, focus and actions: r restarts, s stops a running process and starts a stopped one, q quits")
    func actions() {
        var state = Self.busyState()
        #expect(state.selected == "a-very-long-process-name-that-goes-on-and-on")
        // In backoff it is waiting to run again: `s` stops it for good.
        #expect(state.handle(.character("s")) == .stop("a-very-long-process-name-that-goes-on-and-on"))
        #expect(state.handle(.down) == nil && state.handle(.character("j")) == nil)
        #expect(state.selected == "worker")
        #expect(state.handle(.character("r")) == .restart("worker"))
        #expect(state.handle(.character("s")) == .stop("worker"))
        _ = state.handle(.down)
        #expect(state.selected == "api/db")
        #expect(state.handle(.character("s")) == .start("api/db"))
        _ = state.handle(.end)
        #expect(state.selected == "api/web")
        _ = state.handle(.up)
        _ = state.handle(.character("k"))
        #expect(state.selected == "worker")
        #expect(state.handle(.enter) == nil && state.focus == "worker")
        #expect(state.logLines(limit: 10).allSatisfy { $0.name == "worker" } && state.logLines(limit: 10).count == 2)
        let focused = TopScreen(width: 80, height: 24, colors: false).render(state).map(Self.visibleText)
        #expect(focused.contains { $0.hasPrefix("── log of worker") })
        _ = state.handle(.enter)
        #expect(state.focus == nil && state.logLines(limit: 10).count == 5)
        _ = state.handle(.enter)
        _ = state.handle(.escape)
        #expect(state.focus == nil)
        #expect(state.handle(.character("q")) == .quit)
        #expect(state.handle(.interrupt) == .quit)
        _ = state.handle(.character("?"))
        #expect(state.showsHelp && state.handle(.character("j")) == nil && !state.showsHelp, "any key closes the help")
    }

    @Test("CPU use is the difference of CPU seconds over the time between samples, for the same pid")
    func cpuPercent() {
        var state = TopState()
        state.update(reports: [Self.report("web", cpu: 10)], elapsedSeconds: nil)
        #expect(state.rows[0].cpuPercent == nil)
        state.update(reports: [Self.report("web", cpu: 10.5)], elapsedSeconds: 1)
        #expect(state.rows[0].cpuPercent == 50)
        // A refresh on a file change has no metrics: the last ones stay.
        state.update(reports: [Self.report("web")], elapsedSeconds: nil)
        #expect(state.rows[0].cpuPercent == 50 && state.rows[0].report.cpuSeconds == 10.5)
        // A new pid (a restart) starts over.
        state.update(reports: [Self.report("web", pid: 101, cpu: 0.1)], elapsedSeconds: 1)
        #expect(state.rows[0].cpuPercent == nil)
        #expect(TopTable.percent(0.04) == "0.0" && TopTable.percent(12.4) == "12" && TopTable.bytes(52_000_000) == "50M")
    }

    @Test("The process list scrolls to keep the selection in view; the log keeps its share of the screen")
    func scrolling() {
        var state = TopState()
        state.update(reports: (0..<40).map { Self.report(String(format: "proc-%02d", $0)) }, elapsedSeconds: nil)
        for _ in 0..<30 { _ = state.handle(.down) }
        #expect(state.selected == "proc-30")
        let lines = TopScreen(width: 80, height: 24, colors: false).render(state).map(Self.visibleText)
        #expect(lines.contains { $0.hasPrefix("> proc-30") })
        #expect(!lines.contains { $0.contains("proc-00") })
        let logTitle = lines.firstIndex { $0.hasPrefix("── logs") } ?? 0
        #expect(logTitle <= 24 - 1 - 6, "at least a third of the body is left for the log")
    }

    @Test("PgUp scrolls the log back and holds it while new lines come; PgDn, f and esc follow it again")
    func logScrollback() {
        var state = TopState()
        state.update(reports: [Self.report("web")], elapsedSeconds: nil)
        state.append((0..<100).map { ("web", Self.record("line \($0)", at: Int64($0))) })
        let screen = TopScreen(width: 80, height: 24, colors: false)
        func shown() -> [String] { screen.render(state).map(Self.visibleText) }
        func hasLine(_ number: Int) -> Bool {
            shown().contains { $0.trimmingCharacters(in: .whitespaces).hasSuffix("| line \(number)") }
        }
        #expect(hasLine(99) && !hasLine(80), "it follows the end")
        _ = state.handle(.pageUp)
        _ = state.handle(.pageUp)
        #expect(state.logScroll == 20)
        #expect(!hasLine(99) && hasLine(79), "\(shown().joined(separator: "\n"))")
        #expect(shown().contains { $0.contains("20 lines back") && $0.contains("f: follow") })
        // New lines come: the pane stays on what it shows.
        state.append((100..<105).map { ("web", Self.record("line \($0)", at: Int64($0))) })
        #expect(state.logScroll == 25 && hasLine(79) && !hasLine(104))
        _ = state.handle(.pageDown)
        #expect(state.logScroll == 15)
        _ = state.handle(.character("f"))
        #expect(state.logScroll == 0 && hasLine(104) && !shown().contains { $0.contains("lines back") })
        // No further back than the kept lines; esc follows again before it leaves a focus.
        for _ in 0..<50 { _ = state.handle(.pageUp) }
        #expect(state.logScroll == 104 && hasLine(0))
        _ = state.handle(.enter)
        #expect(state.focus == "web" && state.logScroll == 0, "a new focus starts at the end")
        _ = state.handle(.pageUp)
        _ = state.handle(.escape)
        #expect(state.focus == "web" && state.logScroll == 0)
        _ = state.handle(.escape)
        #expect(state.focus == nil)
    }

    @Test("PgUp and new output count lines, not the pieces a slow or long line is logged in (found by a hostile review)")
    func logScrollbackByLines() {
        var state = TopState()
        state.update(reports: [Self.report("web")], elapsedSeconds: nil)
        func piece(_ text: String, continued: Bool, at micros: Int64) -> (name: String, record: LogRecord) {
            ("web", LogRecord(micros: micros, stream: .out, continued: continued, text: Array(text.utf8)))
        }
        // 100 lines, each logged in two pieces (written with a pause: `out+`, then `out`).
        state.append(
            (0..<100).flatMap { number in
                [
                    piece("line \(number)", continued: true, at: 2 * Int64(number)),
                    piece(" end", continued: false, at: 2 * Int64(number) + 1),
                ]
            })
        let screen = TopScreen(width: 80, height: 24, colors: false)
        func shown() -> [String] { screen.render(state).map(Self.visibleText) }
        func hasLine(_ number: Int) -> Bool {
            shown().contains { $0.trimmingCharacters(in: .whitespaces).hasSuffix("| line \(number) end") }
        }
        _ = state.handle(.pageUp)
        _ = state.handle(.pageUp)
        #expect(hasLine(79) && !hasLine(80) && shown().contains { $0.contains("20 lines back") })
        // A line in three pieces while scrolled back: the pane stays on what it shows, one line more back.
        state.append([
            piece("slow", continued: true, at: 300), piece(" line", continued: true, at: 301),
            piece(" end", continued: false, at: 302),
        ])
        #expect(hasLine(79) && !hasLine(80), "\(shown().joined(separator: "\n"))")
        #expect(shown().contains { $0.contains("21 lines back") }, "\(shown().joined(separator: "\n"))")
        // A piece that continues a line already counted adds no line.
        state.append([piece("open", continued: true, at: 400)])
        state.append([piece(" closed", continued: false, at: 401)])
        #expect(hasLine(79) && !hasLine(80) && shown().contains { $0.contains("22 lines back") })
        // As far back as the kept lines go, counted in lines (102), not records (205).
        for _ in 0..<50 { _ = state.handle(.pageUp) }
        #expect(state.logScroll == 101 && hasLine(0))
    }

    @Test("at the top of the log the pane's first line is the first kept, the title says how far back, and PgDn moves at once")
    func logScrollStopsAtTheTop() {
        var state = TopState()
        state.update(reports: [Self.report("web")], elapsedSeconds: nil)
        state.append(
            (0..<100).map { ("web", LogRecord(micros: Int64($0), stream: .out, text: Array("line \($0)".utf8))) })
        let screen = TopScreen(width: 80, height: 24, colors: false)
        let pane = screen.logPaneLines(state)
        #expect(pane > 3 && pane < 20)
        func shown() -> [String] {
            state.fitLog(paneLines: screen.logPaneLines(state))
            return screen.render(state).map(Self.visibleText)
        }
        func hasLine(_ number: Int) -> Bool {
            shown().contains { $0.trimmingCharacters(in: .whitespaces).hasSuffix("| line \(number)") }
        }
        _ = shown()
        for _ in 0..<20 { _ = state.handle(.pageUp) }
        #expect(state.logScroll == 100 - pane)
        #expect(hasLine(0) && hasLine(pane - 1) && !hasLine(pane))
        #expect(shown().contains { $0.contains("\(100 - pane) lines back") }, "\(shown().joined(separator: "\n"))")
        _ = state.handle(.pageDown)
        #expect(!hasLine(0) && hasLine(10) && hasLine(pane + 9), "the first PgDn at the top moved nothing")
        // A taller pane (a resize) shows more of the top: the scroll never leaves blank lines.
        let tall = TopScreen(width: 80, height: 60, colors: false)
        state.fitLog(paneLines: tall.logPaneLines(state))
        #expect(state.logScroll == min(100 - pane - 10, 100 - tall.logPaneLines(state)))
    }
}

extension TopScreenTests {
    @Test("a selected process that is removed gives way to the next one, or the one before at the end")
    func selectionAfterRemoval() {
        var state = TopState()
        let names = ["a", "b", "c", "d"]
        state.update(reports: names.map { Self.report($0) }, elapsedSeconds: nil)
        _ = state.handle(.down)
        _ = state.handle(.down)
        #expect(state.selected == "c")
        state.update(reports: ["a", "b", "d"].map { Self.report($0) }, elapsedSeconds: nil)
        #expect(state.selected == "d", "the next row takes the removed one's place, not the first")
        state.update(reports: ["a", "b"].map { Self.report($0) }, elapsedSeconds: nil)
        #expect(state.selected == "b", "the last removed: the one before it")
        state.update(reports: ["x"].map { Self.report($0) }, elapsedSeconds: nil)
        #expect(state.selected == "x", "no neighbour left: the first")
    }
}
