import Foundation
import RunitCore
import RunitKit

/// The outcomes of actions run on other threads, waiting for the main loop.
final class TopResults: @unchecked Sendable {
    // Its mutable fields are only touched under the lock.
    private let lock = NSLock()
    private var messages: [String] = []
    private var wake: Int32

    init(wake: Int32) {
        self.wake = wake
    }

    /// Leaves a message for the main loop and wakes it.
    func post(_ message: String) {
        lock.lock()
        defer { lock.unlock() }
        messages.append(message)
        var byte: UInt8 = 0x41
        if wake >= 0 { _ = write(wake, &byte, 1) }
    }

    /// No more wake-ups: the loop has ended and its pipe is closing (an action still running
    /// finishes on its own, unheard).
    func close() {
        lock.lock()
        wake = -1
        lock.unlock()
    }

    /// The messages left since the last call.
    func take() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let taken = messages
        messages.removeAll()
        return taken
    }

    /// `r`: the same as `runit restart NAME`.
    static func restart(_ name: String, _ registry: Registry) -> String {
        do throws(RunitError) {
            let outcome = try registry.restart(name)
            if let failure = outcome.failure { return "restart of \(name) failed: \(failure)" }
            if outcome.finishedCleanly { return "\(name) ran and exited with code 0" }
            let report = registry.report(for: outcome.snapshot)
            return "restarted \(name) (pid \(report.pid.map(String.init) ?? "?"), restarts \(report.restarts))"
        } catch {
            return "runit: \(error.message)"
        }
    }

    /// `s` on a process that runs: the same as `runit stop NAME`.
    static func stop(_ name: String, _ registry: Registry) -> String {
        do throws(RunitError) {
            let outcome = try registry.stop(name)
            let report = registry.report(for: outcome.snapshot)
            guard outcome.wasRunning else { return "\(name) was not running (\(report.state.rawValue))" }
            return "stopped \(name)" + (report.lastExit.map { " (\($0))" } ?? "")
        } catch {
            return "runit: \(error.message)"
        }
    }

    /// `s` on a process that does not run: the same as `runit start NAME`.
    static func start(_ name: String, _ registry: Registry) -> String {
        do throws(RunitError) {
            let outcome = try registry.start(StartRequest(name: name))
            if let failure = outcome.failure { return "\(name) failed to start: \(failure)" }
            if outcome.finishedCleanly { return "\(name) ran and exited with code 0" }
            let report = registry.report(for: outcome.snapshot)
            return "started \(name) (pid \(report.pid.map(String.init) ?? "?"))"
        } catch {
            return "runit: \(error.message)"
        }
    }
}
