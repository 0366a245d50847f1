import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit

/// `runit send NAME [TEXT] [--key KEY]… [--eof]`.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Write a line, keys or end of input to a running process's stdin.",
        discussion: """
            The text goes first (with a newline unless --no-newline), then the keys, then end of input. \
            Under --tty the terminal gives keys their meaning: ctrl-c interrupts, ctrl-d ends a line's input.
            """
    )

    @Argument(help: "The process name.", completion: .processNames)
    var name: String

    @Argument(help: "The text to send (a newline is added).")
    var text: String?

    @Flag(name: .long, help: "Do not add a newline after the text.")
    var noNewline = false

    @Option(name: .long, help: "A key to send after the text: ctrl-c, ctrl-d, enter, tab, esc, up, down, …; repeatable.")
    var key: [String] = []

    @Flag(name: .long, help: "End the process's input after the rest (it reads end of file; a --tty process gets Ctrl-D).")
    var eof = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard text != nil || !key.isEmpty || eof else {
            throw ValidationError("give the text to send, --key or --eof")
        }
        for name in key where KeyNames.bytes(name) == nil {
            throw ValidationError("'\(name)' is not a key; \(KeyNames.rule)")
        }
    }

    func run() async throws {
        let registry = Registry(context: .fromEnvironment())
        var bytes = text.map { Array(($0 + (noNewline ? "" : "\n")).utf8) } ?? []
        for name in key { bytes += KeyNames.bytes(name) ?? [] }
        let count = bytes.isEmpty ? 0 : try registry.send(name, bytes: bytes)
        if eof { try registry.closeInput(name) }
        if output.json {
            try Terminal.printJSON(SendJSON(name: registry.resolve(name), bytes: count, closedInput: eof))
            return
        }
        var said = bytes.isEmpty ? [] : ["sent \(count) bytes to \(name)"]
        if eof { said.append((said.isEmpty ? "" : "and ") + "closed the input of \(name)") }
        Terminal.write(said.joined(separator: " ") + "\n")
    }
}

/// What `send --json` prints.
struct SendJSON: Encodable {
    var name: String
    var bytes: Int
    var closedInput: Bool

    enum CodingKeys: String, CodingKey {
        case name, bytes
        case closedInput = "closed_input"
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
