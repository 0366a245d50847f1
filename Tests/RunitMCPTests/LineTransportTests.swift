import Foundation
import Testing

@testable import RunitMCP

@Suite("The blocking stdio transport")
struct LineTransportTests {
    @Test("lines are split on newlines, CRLF trimmed, blank lines skipped, a last unterminated line kept")
    func splitsLines() throws {
        let pipe = Pipe()
        let text = "{\"a\":1}\n\r\n{\"b\":2}\r\n\n{\"c\":3}"
        pipe.fileHandleForWriting.write(Data(text.utf8))
        try pipe.fileHandleForWriting.close()
        var lines: [String] = []
        LineTransport.readLines(from: pipe.fileHandleForReading.fileDescriptor) {
            lines.append(String(decoding: $0, as: UTF8.self))
        }
        #expect(lines == ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"])
    }

    @Test("messages sent go out one per line; the stream ends when the input closes")
    func sendAndReceive() async throws {
        let input = Pipe()
        let output = Pipe()
        let transport = LineTransport(
            input: input.fileHandleForReading.fileDescriptor, output: output.fileHandleForWriting.fileDescriptor)
        try await transport.connect()
        try await transport.send(Data("{\"x\":1}".utf8))
        let written = output.fileHandleForReading.availableData
        #expect(String(decoding: written, as: UTF8.self) == "{\"x\":1}\n")
        input.fileHandleForWriting.write(Data("{\"y\":2}\n".utf8))
        try input.fileHandleForWriting.close()
        var received: [String] = []
        for try await message in await transport.receive() { received.append(String(decoding: message, as: UTF8.self)) }
        #expect(received == ["{\"y\":2}"])
    }
}
