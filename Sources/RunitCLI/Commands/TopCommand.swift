import ArgumentParser
import RunitCore
import RunitFront
import RunitTop

/// `runit top`: a live view of every process, with keys to restart, stop and start them.
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live view: every process's state, CPU, memory, ports and output, and its log; keys act on them.",
        discussion: """
            Keys: up/down or j/k select, enter shows only its log (enter or esc: every log), r restarts,
            s stops it (or starts it when it does not run), / filters by name, ? lists the keys, q quits.
            """
    )

    func run() async throws {
        try TopTerminal.requireTerminal()
        let registry = Registry(context: .fromEnvironment())
        try registry.checkHome()
        let session = try TopSession(registry: registry, colors: Terminal.colorsEnabled)
        try session.run()
    }
}
