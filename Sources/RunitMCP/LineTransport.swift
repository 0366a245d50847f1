import Foundation
import Logging
import MCP
import RunitKit

/// MCP over stdio, one JSON-RPC message per line, reading stdin with a blocking read on a
/// thread of its own: idle, it uses no CPU (the SDK's `StdioTransport` polls every 10 ms).
/// It also keeps count of the requests not yet answered, so that the server can send every
/// answer before it exits at end of input (`drain()`).
public actor LineTransport: Transport {
    /// The transport's logger (diagnostics go to stderr, never to stdout).
    public nonisolated let logger: Logger
    private let input: Int32
    private let output: Int32
    private let messages: AsyncThrowingStream<Data, Swift.Error>
    private let continuation: AsyncThrowingStream<Data, Swift.Error>.Continuation
    private var started = false
    let pending = PendingReplies()

    /// A transport over the given descriptors (stdin and stdout by default).
    public init(input: Int32 = 0, output: Int32 = 1, logger: Logger = Logger(label: "runit.mcp.stdio")) {
        self.input = input
        self.output = output
        self.logger = logger
        (messages, continuation) = AsyncThrowingStream.makeStream()
    }

    /// Starts the reader thread.
    public func connect() async throws {
        guard !started else { return }
        started = true
        let input = input
        let continuation = continuation
        let pending = pending
        let transport = self
        let thread = Thread {
            LineTransport.readLines(from: input) { original in
                // The transport's own answers are waited for by `drain()` as the server's are.
                func answer(_ reply: String) {
                    let key = pending.expectOwnReply()
                    Task {
                        try? await transport.send(Data(reply.utf8))
                        pending.settle(key)
                    }
                }
                // Looked at before any parser recurses into it, on this thread's small stack.
                if RequestEnvelope.nestsTooDeep(original) {
                    answer(RequestEnvelope.tooDeep)
                    return
                }
                // A line that is not JSON has no id to answer to: the reply's id is null (the
                // SDK would make one up), and the server never sees the line.
                guard let value = try? JSONDecoder().decode(Value.self, from: original) else {
                    answer(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not JSON"}}"#)
                    return
                }
                if let refusal = RequestEnvelope.refusal(value) {
                    answer(refusal)
                    return
                }
                // A tool call the SDK cannot decode goes to a handler that says why (-32602).
                // A listen request gets its id in its params, for the notifications it carries.
                let message = InvalidToolCall.rewrite(original) ?? SubscriptionsListen.tagged(original) ?? original
                // Counted before the server sees it, so a request is never missed by `drain()`.
                pending.received(message)
                continuation.yield(message)
            }
            continuation.finish()
        }
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Ends the message stream.
    public func disconnect() async {
        continuation.finish()
    }

    /// Writes one message and a newline.
    public func send(_ data: Data) async throws {
        var bytes = [UInt8](data)
        bytes.append(0x0A)
        let ok = bytes.withUnsafeBytes { Platform.writeAll(output, $0) }
        guard ok else {
            pending.outputFailed()
            throw MCPError.transportError(POSIXError(.EPIPE))
        }
        pending.sent(data)
    }

    /// Returns once every request read so far has been answered, or the output is gone.
    public func drain() async {
        await pending.drained()
    }

    /// The messages read from the input, until it closes.
    public func receive() -> AsyncThrowingStream<Data, Swift.Error> {
        messages
    }

    /// The longest line kept whole: a longer one is cut there, and answered as the parse error
    /// it then is, rather than held in memory without bound.
    static let lineLimit = 64 << 20

    /// Reads `fd` until end-of-file, calling `deliver` with each non-empty line. Each byte is
    /// looked at once: a search from the start of the line at every read made a 16 MB request
    /// take 42 s, while no other request was read.
    static func readLines(from fd: Int32, limit: Int = lineLimit, deliver: (Data) -> Void) {
        var pending: [UInt8] = []
        var scanned = 0
        var skipping = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        func emit(_ line: ArraySlice<UInt8>) {
            let trimmed = line.last == 0x0D ? line.dropLast() : line
            if !trimmed.isEmpty { deliver(Data(trimmed)) }
        }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && Platform.lastError == EINTR { continue }
            if count <= 0 { break }
            pending.append(contentsOf: buffer[0..<count])
            var start = 0
            while let newline = pending[scanned...].firstIndex(of: 0x0A) {
                if !skipping { emit(pending[start..<newline]) }
                skipping = false
                start = newline + 1
                scanned = start
            }
            scanned = pending.count
            if start > 0 {
                pending.removeFirst(start)
                scanned -= start
            }
            if pending.count > limit {
                if !skipping { emit(pending[...]) }
                skipping = true
                pending.removeAll(keepingCapacity: true)
                scanned = 0
            }
        }
        if !pending.isEmpty && !skipping { emit(pending[...]) }
    }
}
