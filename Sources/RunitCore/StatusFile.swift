import Foundation
import RunitKit

/// Reads the files in a process's directory: `status.json` and `spec.json`.
enum StateFiles {
    private struct StatusFields: Decodable {
        var name: String
        var state: ProcessState
        var pid: Int32
        var supervisor_pid: Int32
        var started_at_ms: Int64
        var restarts: Int
        var exit_code: Int32?
        var exit_signal: Int32?
        var message: String
        var updated_at_ms: Int64
    }

    /// Decodes a status file's bytes; throws a storage error naming `path` when they are damaged.
    static func decodeStatus(_ data: Data, path: String) throws(RunitError) -> StatusRecord {
        do {
            let fields = try JSONDecoder().decode(StatusFields.self, from: data)
            return StatusRecord(
                name: fields.name, state: fields.state, pid: fields.pid, supervisorPID: fields.supervisor_pid,
                startedAtMilliseconds: fields.started_at_ms, restarts: fields.restarts, exitCode: fields.exit_code,
                exitSignal: fields.exit_signal, message: fields.message, updatedAtMilliseconds: fields.updated_at_ms)
        } catch {
            throw RunitError(
                .storage,
                "the status file \(path) is damaged (\(error.localizedDescription)); remove the process and start it again")
        }
    }

    /// Reads `status.json`; nil when it does not exist.
    static func readStatus(_ paths: ProcessPaths) throws(RunitError) -> StatusRecord? {
        guard let data = FileManager.default.contents(atPath: paths.status) else { return nil }
        return try decodeStatus(data, path: paths.status)
    }

    /// Reads `spec.json`; nil when it does not exist.
    static func readSpec(_ paths: ProcessPaths) throws(RunitError) -> ProcessSpec? {
        guard let data = FileManager.default.contents(atPath: paths.spec) else { return nil }
        do {
            return try JSONDecoder().decode(ProcessSpec.self, from: data)
        } catch {
            throw RunitError(
                .storage,
                "the spec file \(paths.spec) is damaged (\(error.localizedDescription)); remove the process and start it again")
        }
    }

    /// Writes `spec.json` atomically with mode 0600.
    static func writeSpec(_ spec: ProcessSpec, _ paths: ProcessPaths) throws(RunitError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(spec), Platform.writeAtomically(paths.spec, Array(data) + [0x0A]) else {
            throw RunitError(.storage, "cannot write \(paths.spec): \(Platform.describe(errno: Platform.lastError))")
        }
    }
}
