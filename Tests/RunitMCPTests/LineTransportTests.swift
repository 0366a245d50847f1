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

    @Test("a line of many reads arrives whole, and one past the limit is cut there and the rest of it skipped")
    func longLines() throws {
        for (size, limit) in [(8 << 20, LineTransport.lineLimit), (300_000, 100_000)] {
            let pipe = Pipe()
            let writer = pipe.fileHandleForWriting
            let thread = Thread {
                writer.write(Data(repeating: UInt8(ascii: "x"), count: size) + Data("\n{\"after\":1}\nlast".utf8))
                try? writer.close()
            }
            thread.start()
            var lines: [Data] = []
            LineTransport.readLines(from: pipe.fileHandleForReading.fileDescriptor, limit: limit) { lines.append($0) }
            #expect(lines.last.map { String(decoding: $0, as: UTF8.self) } == "last")
            #expect(lines.dropFirst().first.map { String(decoding: $0, as: UTF8.self) } == "{\"after\":1}")
            if size <= limit {
                #expect(lines.first?.count == size && lines.first?.allSatisfy { $0 == UInt8(ascii: "x") } == true)
            } else {
                #expect(lines.count == 3 && (lines.first?.count ?? 0) > limit && (lines.first?.count ?? 0) < size)
            }
        }
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
