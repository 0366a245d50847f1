import Foundation
import RunitKit

extension Registry {
    /// The processes `resurrect` would start: the user last started them (desired state
    /// `running`) and their supervisor is gone without a word (`lost`: a reboot, a kill -9).
    /// A process that ended by itself (`exited`, `failed`) or was stopped stays as it is.
    public func lostButWanted() throws(RunitError) -> [String] {
        try list().filter { $0.spec?.desired == .running && $0.state == .lost }.map(\.name)
    }

    /// Starts the lost process `name` again with its stored spec (`ProjectRunner.resurrect`
    /// calls it for each of ``lostButWanted()``, in a project's order). Safe to run twice at
    /// once: each start holds its name's lock, and one that finds the process running again
    /// refuses, which counts as done.
    public func resurrect(_ name: String) -> (name: String, result: String, error: String?) {
        do throws(RunitError) {
            let outcome = try start(StartRequest(name: name))
            if outcome.finishedCleanly { return (name, "ran and exited with code 0", nil) }
            if let failure = outcome.failure { return (name, "failed", failure) }
            return (name, "started", nil)
        } catch  where error.code == .alreadyRunning {
            return (name, "already running (started by another resurrect)", nil)
        } catch {
            return (name, "failed", error.message)
        }
    }
}
