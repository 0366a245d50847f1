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

    @Argument(help: "The process name.")
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
