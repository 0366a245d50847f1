import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the files in a process's directory: `status.json` and `spec.json`.
package enum StateFiles {
    /// Decodes a status file's bytes; throws a storage error naming `path` when they are damaged.
    package static func decodeStatus(_ data: [UInt8], path: String) throws(RunitError) -> StatusRecord {
        guard let record = StatusRecord(json: data) else {
            throw RunitError(
                .storage, "the status file \(path) is damaged (not a status record); remove the process and start it again")
        }
        return record
    }

    /// The bytes of a state file; nil when it does not exist. A link, a FIFO, a device or a file
    /// far too large is an error naming it: it is read without following, blocking or filling memory.
    package static func read(_ path: String) throws(RunitError) -> [UInt8]? {
        switch Platform.readRegular(path) {
        case .success(let bytes): return bytes
        case .failure(.missing): return nil
        case .failure(let problem): throw RunitError(.storage, problem.describe(path))
        }
    }

    /// Reads `status.json`; nil when it does not exist.
    package static func readStatus(_ paths: ProcessPaths) throws(RunitError) -> StatusRecord? {
        guard let data = try read(paths.status) else { return nil }
        return try decodeStatus(data, path: paths.status)
    }

    /// Reads `spec.json`; nil when it does not exist.
    package static func readSpec(_ paths: ProcessPaths) throws(RunitError) -> ProcessSpec? {
        guard let data = try read(paths.spec) else { return nil }
        guard let spec = ProcessSpec(json: data) else {
            let name = paths.directory.split(separator: "/").last.map(String.init) ?? "NAME"
            throw RunitError(
                .storage,
                "the spec file \(paths.spec) is damaged (not a process spec); start '\(name)' with its command again "
                    + "(runit start \(name) -- PROGRAM ARG...) to replace it, or run 'runit remove \(name)'")
        }
        return spec
    }

    /// Writes `spec.json` atomically with mode 0600. A byte of an argument or a variable that is
    /// not UTF-8 (``ByteText``) is written `\udcXX`, which JSON text cannot hold otherwise.
    package static func writeSpec(_ spec: ProcessSpec, _ paths: ProcessPaths) throws(RunitError) {
        guard let text = try? JSONText.encode(spec, pretty: true) else {
            throw RunitError(.storage, "cannot encode the spec of '\(spec.name)'")
        }
        let failure = Platform.writeAtomically(paths.spec, ByteText.jsonBytes(text) + [0x0A])
        guard failure == 0 else {
            throw RunitError(.storage, "cannot write \(paths.spec): \(Platform.describe(errno: failure))")
        }
    }
}
