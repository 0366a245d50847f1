import PropertyBased
import Testing

@testable import RunitCLI

@Suite("runit top: what one frame shows")
struct TopScreenTests {
    static func row(_ name: String, project: String? = nil, state: String = "running", line: String = "ok") -> TopRow {
        TopRow(
            name: name, project: project, state: state, health: "", pid: 42, ports: [8080], cpuPercent: 1.5,
            memoryBytes: 3_000_000, restarts: 2, uptimeSeconds: 75, lastLine: line)
    }

    /// The text a person sees: the colour codes left out.
    static func visible(_ line: String) -> String {
        line.replacing(/\x1B\[[0-9;?]*[A-Za-z]/, with: "")
    }

    @Test("every frame is exactly the terminal's height, no row wider than it, whatever the processes and lines")
    func fits() async {
        let sizes = Gen.int(in: 20...200)
        let lines = Gen.int(in: 6...60)
        let count = Gen.int(in: 0...80)
        let text = Gen.element(of: Array("ab c\u{1B}[1m\t\u{7}é漢字—")).array(of: 0...300)
        await propertyCheck(input: sizes, lines, count, text, Gen.bool) { columns, height, count, characters, colours in
            let long = String(characters.compactMap { $0 })
            var view = TopView()
            view.columns = columns
            view.lines = height
            view.colours = colours
            view.rows = (0..<count).map { Self.row("p\($0)" + long.prefix(20), project: $0 % 3 == 0 ? "shop" : nil, line: long) }
            view.selected = count / 2
            view.logLines = Array(repeating: long, count: 100)
            view.message = long
            let frame = TopScreen.frame(view)
            #expect(frame.count == height)
            for line in frame { #expect(Self.visible(line).count < columns, "\(line.debugDescription)") }
            for line in frame { #expect(!Self.visible(line).contains { $0.asciiValue.map { $0 < 0x20 } ?? false }) }
        }
    }

    @Test("the selected process stays on screen when the list is longer than the table")
    func scrolls() {
        var view = TopView()
        view.colours = false
        view.rows = (0..<50).map { Self.row(String(format: "proc%02d", $0)) }
        view.selected = 40
        let frame = TopScreen.frame(view)
        #expect(frame.contains { $0.hasPrefix("> proc40") })
        #expect(!frame.contains { $0.contains("proc00") })
        #expect(frame.count == 24)
    }

    @Test("loose processes first, then each project under its name; the filter narrows by name")
    func groupsAndFilter() {
        var view = TopView()
        view.colours = false
        view.rows = [
            Self.row("shop/web", project: "shop"), Self.row("solo"), Self.row("shop/db", project: "shop", state: "failed"),
        ]
        let frame = TopScreen.frame(view)
        let order = ["solo", "▸ shop", "  web", "  db"].map { name in frame.firstIndex { $0.contains(name) } }
        #expect(order.allSatisfy { $0 != nil } && order.map { $0! } == order.map { $0! }.sorted(), "\(frame)")
        #expect(frame.contains { $0.contains("failed") })
        view.filter = "we"
        #expect(view.visibleRows.map(\.name) == ["shop/web"])
        view.filter = "zzz"
        #expect(TopScreen.frame(view).contains { $0.contains("nothing matches the filter") })
        view.rows = []
        view.filter = ""
        #expect(TopScreen.frame(view).contains { $0.contains("no processes") })
    }

    @Test("NO_COLOR: no escape codes at all, the selection marked with '>'")
    func noColour() {
        var view = TopView()
        view.colours = false
        view.rows = [Self.row("web")]
        let frame = TopScreen.frame(view)
        #expect(!frame.joined().contains("\u{1B}"))
        #expect(frame.contains { $0.hasPrefix("> web") })
    }

    @Test("keys: arrows in both modes, a lone escape, enter, backspace, Ctrl-C and UTF-8 text")
    func keys() {
        #expect(TopKey.decode(Array("\u{1B}[A\u{1B}OB".utf8)) == [.up, .down])
        #expect(TopKey.decode([0x1B]) == [.escape])
        #expect(TopKey.decode([0x0D, 0x7F, 0x03]) == [.enter, .backspace, .interrupt])
        #expect(TopKey.decode(Array("jé/".utf8)) == [.character("j"), .character("é"), .character("/")])
        #expect(TopKey.decode(Array("\u{1B}[1;5Cx".utf8)) == [.character("x")], "an unknown sequence is skipped whole")
        #expect(TopKey.decode([0x1B, 0x5B]) == [], "a cut sequence is dropped")
        #expect(TopKey.decode([0xE6, 0xBC]) == [], "a cut character is dropped")
    }
}
