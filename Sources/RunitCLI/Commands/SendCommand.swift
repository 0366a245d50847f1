import ArgumentParser
import Foundation
import RunitCore
import RunitKit

/// `runit send NAME TEXT`.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Write a line to a running process's stdin."
    )

    @Argument(help: "The process name.", completion: .processNames)
    var name: String

    @Argument(help: "The text to send.")
    var text: String

    @Flag(name: .long, help: "Do not add a newline after the text.")
    var noNewline = false

    func run() async throws {
        let registry = Registry(context: .fromEnvironment())
        let count = try registry.send(name, text: text, newline: !noNewline)
        Terminal.write("sent \(count) bytes to \(name)\n")
    }
}

/// `runit signal NAME SIGNAL`.
struct SignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal",
        abstract: "Send a signal to a running process's group (HUP or USR1 to reload, INT as Ctrl-C would).",
        discussion: "Sent by its supervisor, which knows its process for sure; the log records it."
    )

    @Argument(help: "The process name.", completion: .processNames)
    var name: String

    @Argument(help: "The signal: a name (HUP, INT, USR1, USR2, TERM, …) or a number.")
    var signal: String

    func run() async throws {
        guard let number = SignalName.number(signal) else {
            throw RunitError(.invalidInput, "'\(signal)' is not a signal; \(SignalName.rule)")
        }
        let registry = Registry(context: .fromEnvironment())
        try registry.signal(name, signal: number)
        Terminal.write("sent SIG\(SignalName.name(number)) to \(registry.resolve(name))\n")
    }
}
