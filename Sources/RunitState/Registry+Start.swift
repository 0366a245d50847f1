import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What to start: a name and a command (shell or argv form) with its options.
public struct StartRequest: Sendable {
    /// The process name.
    public var name: String
    /// A command for `/bin/sh -c`; exclusive with `argv`.
    public var command: String?
    /// A program and its arguments, run without a shell; exclusive with `command`.
    public var argv: [String]?
    /// The working directory; relative paths are resolved against the context's.
    public var cwd: String?
    /// `KEY=VALUE` entries.
    public var env: [String] = []
    /// The restart policy; nil when not given: `never` for a new command, the stored one when
    /// no command is given (a start of the stored command applies what is given, keeps the rest).
    public var restart: RestartPolicy?
    /// Rotate the log at this size; nil when not given: 10 MiB for a new command, else as stored.
    public var logMaxSize: Int?
    /// Keep this many rotated files; nil when not given: 5 for a new command, else as stored.
    public var logKeep: Int?
    /// Readiness, health, restart tuning, stopping and watching; nil keeps the stored ones
    /// (or the defaults) when no command is given.
    public var policies: ProcessPolicies?
    /// Stop a running process of that name first, instead of refusing.
    public var replace = false
    /// How long to watch for an exit right after the start.
    public var settleMillis: Int64 = 200
    /// A port to give the process as `PORT` (replacing a stored one); nil leaves the env as it is.
    public var port: PortRequest?
    /// Make that port its readiness check when it has none (`start --port auto --wait`).
    public var readyOnPort = false
    /// For a project's process (`project/name`): where its project is and what it depends on.
    public var project: ProjectLink?
    /// Who asks: `cli`, or `mcp:<client name>`.
    public var startedBy = "cli"

    /// A request for `name`.
    public init(name: String, command: String? = nil, argv: [String]? = nil) {
        self.name = name
        self.command = command
        self.argv = argv
    }
}

/// The result of a start: the process as it is now, and whether it already ended.
public struct StartOutcome: Sendable {
    /// The process after the start.
    public var snapshot: ProcessSnapshot
    /// Set when the process could not start or exited within the settle time: what happened.
    public var failure: String?
    /// Whether the process exited within the settle time with code 0 (a one-shot that succeeded).
    public var finishedCleanly = false
    /// What the user should know although the start went on: a `PORT` another process listens on.
    public var warnings: [String] = []
    /// The port given as `PORT`, when the request asked for one (`auto` says which).
    public var port: Int?
}

extension Registry {
    /// Starts a process: validates the request, records the spec and launches its supervisor.
    ///
    /// Returns once the process runs or has already ended. Bad input throws and changes nothing.
    public func start(_ given: StartRequest) throws(RunitError) -> StartOutcome {
        var request = given
        // A start with the stored spec may name a project's process as `name` inside its directory.
        if request.command == nil && request.argv == nil && request.project == nil { request.name = resolve(request.name) }
        let name = try Self.name(request.name)
        let paths = context.paths(name)
        // Without a command the stored spec is what runs, so a damaged one is an error; with a
        // command it is replaced.
        let stored =
            request.command == nil && request.argv == nil ? try StateFiles.readSpec(paths) : try? StateFiles.readSpec(paths)
        let spec = try makeSpec(request, name: name, previous: stored)
        guard Platform.makeDirectories(context.processesDirectory) else {
            throw RunitError(
                .storage,
                "cannot create \(context.processesDirectory) for '\(name)': \(Platform.describe(errno: Platform.lastError)); "
                    + "set RUNIT_HOME to a directory you can write to")
        }
        try checkHome()
        let guardLock = try ClientLock(home: context.home, name: name)
        defer { guardLock.release() }
        // Made under the lock, so a remove that held it cannot delete the folder under this start.
        let created = mkdir(paths.directory, 0o700) == 0
        guard created || Platform.lastError == EEXIST else {
            throw RunitError(
                .storage, "cannot create \(paths.directory) for '\(name)': \(Platform.describe(errno: Platform.lastError))")
        }
        // A new entry that could not be started leaves nothing behind: no half-made process in `list`.
        do {
            return try startLocked(request, name: name, spec: spec, stored: stored)
        } catch {
            // Not from under a supervisor that still lives (paused, say): it keeps its entry.
            if created && liveSupervisor(paths) == 0 { _ = crunit_remove_tree(paths.directory) }
            throw error
        }
    }

    /// The live supervisor of `paths`, or 0; one that has recorded its process's end (exited,
    /// stopped, failed) lets go of its lock within moments, and is waited for (up to 5 s), so
    /// that a start right after an exit is not refused as the start of a running process.
    private func supervisorNotLeaving(_ paths: ProcessPaths) -> Int32 {
        var holder = liveSupervisor(paths)
        let deadline = Platform.monotonicMillis() + 5_000
        while holder > 0, Platform.monotonicMillis() < deadline,
            let status = try? StateFiles.readStatus(paths), !status.state.isActive
        {
            usleep(5_000)
            holder = liveSupervisor(paths)
        }
        return holder
    }

    /// The rest of a start, under the client lock, once the process's folder exists.
    private func startLocked(_ request: StartRequest, name: ProcessName, spec: ProcessSpec, stored: ProcessSpec?)
        throws(RunitError) -> StartOutcome
    {
        let paths = context.paths(name)
        try checkDirectory(paths.directory)
        // Read again under the lock: a stop, remove or start of another client may have changed
        // the spec since it was read, and a start that compared against the old copy kept the
        // other's (a running process recorded as `desired: stopped`, or with no spec at all).
        let current =
            request.command == nil && request.argv == nil ? try StateFiles.readSpec(paths) : try? StateFiles.readSpec(paths)
        var spec = current == stored ? spec : try makeSpec(request, name: name, previous: current)
        let holder = supervisorNotLeaving(paths)
        if holder > 0 {
            try refuseForeignHolder(holder, paths, name: name)
            guard request.replace else {
                throw RunitError(
                    .alreadyRunning,
                    "'\(name)' is already running (supervisor pid \(holder)); use 'runit restart \(name)' to restart it, "
                        + "or 'runit start \(name) --replace …' to stop it and start the command given"
                )
            }
            // The running copy's own --stop-timeout: a replace gives it the grace a stop would.
            _ = try stopLocked(name, graceMillis: current?.policies.stopTimeoutMillis ?? Self.defaultGraceMillis)
        }
        var previous: StatusRecord?
        var damaged = false
        do { previous = try StateFiles.readStatus(paths) } catch { damaged = true }
        // A supervisor that died may have left its process running: end it before a second copy starts.
        _ = try stopLost(name, status: previous, damaged: damaged, graceMillis: Self.defaultGraceMillis)
        spec.name = name.rawValue
        // After the stop of a replaced or lost copy, whose port is then free again.
        let warnings = startWarnings(spec)
        // A start of a stopped process with its stored spec has nothing new to write (and fsync).
        if spec != current { try StateFiles.writeSpec(spec, paths) }
        var arguments = SupervisorArguments(directory: paths.directory, name: name.rawValue, argv: spec.argv)
        arguments.cwd = spec.cwd
        arguments.environment = spec.env.map { "\($0.key)=\($0.value)" }
        // Python buffers its output when it is not a terminal, so a server's lines would come
        // late or never; unless the spec or the caller's environment says otherwise, it does not.
        // Under a terminal (`--tty`) it writes line by line by itself.
        if !spec.policies.tty && !spec.env.contains(where: { $0.key == "PYTHONUNBUFFERED" })
            && getenv("PYTHONUNBUFFERED") == nil
        {
            arguments.environment.append("PYTHONUNBUFFERED=1")
        }
        arguments.restart = spec.restart
        arguments.restarts = previous?.restarts ?? 0
        arguments.logMaxSize = spec.logMaxSize
        arguments.logKeep = spec.logKeep
        arguments.policies = spec.policies
        let report: SupervisorLauncher.Report
        do throws(RunitError) {
            report = try SupervisorLauncher.launch(
                supervisor: context.supervisorPath, arguments: arguments, settleMillis: request.settleMillis)
        } catch {
            throw RunitError(error.code, error.message + abandon(name, paths))
        }
        if case .failed(let message) = report, discardIfNeverRan(paths) {
            throw RunitError(.startFailed, "'\(name)' could not be started: \(message)")
        }
        var endedAfter: Int32?
        switch report {
        case .supervisorEnded(let pid): endedAfter = pid
        case .running(let pid):
            // With no settle time the report comes at once: a supervisor already gone is found
            // here (with one, the launcher saw its end of the pipe within the settle time).
            if request.settleMillis <= 0, liveSupervisor(paths) == 0, let status = try? StateFiles.readStatus(paths),
                status.state.isActive
            {
                endedAfter = pid
            }
        case .exited, .failed: break
        }
        if let pid = endedAfter {
            throw RunitError(
                .startFailed,
                "'\(name)' could not be started: its supervisor ended (killed, or it crashed) right after it started "
                    + "pid \(pid)" + abandon(name, paths))
        }
        var outcome = StartOutcome(snapshot: snapshot(of: name))
        outcome.warnings = warnings
        if request.port != nil { outcome.port = spec.port }
        switch report {
        case .running, .supervisorEnded: break
        case .failed(let message):
            outcome.failure = "'\(name)' could not be started: \(message)"
        case .exited(_, let code, let signal):
            if code == 0 {
                outcome.finishedCleanly = true
            } else {
                let how = signal.map { "was killed by signal \($0)" } ?? "exited with code \(code ?? -1)"
                outcome.failure = "'\(name)' \(how) right after it started"
            }
        }
        return outcome
    }

    /// Cleans up after a start whose supervisor failed or ended before it could watch its
    /// process: deletes an entry that never ran, or ends what a dead supervisor left running
    /// and records it as stopped. Returns what was done, as the end of a sentence.
    private func abandon(_ name: ProcessName, _ paths: ProcessPaths) -> String {
        if discardIfNeverRan(paths) { return "" }
        guard liveSupervisor(paths) == 0 else { return "; see 'runit status \(name)'" }
        var status: StatusRecord?
        var damaged = false
        do { status = try StateFiles.readStatus(paths) } catch { damaged = true }
        do throws(RunitError) {
            let ended = try stopLost(name, status: status, damaged: damaged, graceMillis: Self.stopPolicy(paths).graceMillis)
            return ended ? "; runit ended what it left running" : ""
        } catch {
            return "; \(error.message)"
        }
    }

    /// Deletes the directory of a process whose start failed before its supervisor recorded
    /// anything, so that no entry without a status is left behind (it would show as `unknown`).
    /// An entry that ran before has its status, and keeps it. Returns whether it was deleted.
    @discardableResult
    package func discardIfNeverRan(_ paths: ProcessPaths) -> Bool {
        var info = stat()
        guard lstat(paths.status, &info) != 0 else { return false }
        // A supervisor that reported a failure exits at once; the directory of one that still
        // lives after a moment (known by its lock, or by its abstract name when the lock file
        // was deleted) is not pulled from under it.
        if case let holder = liveSupervisor(paths), holder > 0 {
            let waiter = ExitWaiter(pid: holder)
            defer { waiter.close() }
            guard waiter.wait(timeoutMillis: 1_000) else { return false }
        }
        // A supervisor killed before it wrote a status may have started the process: what
        // carries a token of this directory is ended first, and the entry stays while any survives.
        var tree = LostTree(directory: paths.directory, token: nil, session: 0)
        let policy = Self.stopPolicy(paths)
        guard tree.members().isEmpty || tree.end(signal: policy.signal, graceMillis: policy.graceMillis) else { return false }
        return crunit_remove_tree(paths.directory) == 0
    }

    /// Builds and validates the spec for a request; reuses the previous spec when no command is
    /// given. A requested port becomes `PORT` in its env.
    package func makeSpec(_ request: StartRequest, name: ProcessName, previous: ProcessSpec?) throws(RunitError) -> ProcessSpec {
        var spec = try makeBaseSpec(request, name: name, previous: previous)
        if let project = request.project { spec.project = project }
        if name.project != nil && spec.project == nil {
            throw RunitError(
                .invalidInput,
                "'\(name)' is a project's process: start it with 'runit up \(name.base)' in its project's directory")
        }
        spec.desired = .running
        spec.startedBy = request.startedBy
        if let port = request.port { spec.env = try Self.applying(port, to: spec.env, given: request.env, name: name) }
        // `--port` with `--wait` and no readiness check of its own: ready once the process listens there.
        if request.readyOnPort, !spec.policies.ready.isSet, let port = spec.port { spec.policies.ready.port = port }
        return spec
    }

    private func makeBaseSpec(_ request: StartRequest, name: ProcessName, previous: ProcessSpec?) throws(RunitError)
        -> ProcessSpec
    {
        if let size = request.logMaxSize {
            try Limits.check(size, in: Limits.logMaxSize, "the log size limit (--log-max-size) of '\(name)',")
        }
        if let keep = request.logKeep {
            try Limits.check(keep, in: Limits.logKeep, "the rotated log count (--log-keep) of '\(name)',")
        }
        try Limits.check(milliseconds: request.settleMillis, in: Limits.settleMillis, "the settle time (--settle)")
        try Self.refuseNUL(request.env, "an environment entry", name: name)
        try Self.refuseNUL(request.cwd.map { [$0] } ?? [], "the working directory", name: name)
        let argv: [String]
        var command: String?
        if let text = request.command, request.argv == nil {
            guard !text.trimmedWhitespace.isEmpty else {
                throw RunitError(
                    .invalidInput, "the command for '\(name)' is empty; give a command to run, e.g. --command \"npm run dev\"")
            }
            command = text
            argv = ["/bin/sh", "-c", text]
        } else if let given = request.argv, request.command == nil {
            guard let program = given.first, !program.isEmpty else {
                throw RunitError(
                    .invalidInput,
                    "the command for '\(name)' is empty; give a program after --, e.g. runit start \(name) -- npm run dev")
            }
            argv = given
        } else if request.command != nil {
            throw RunitError(.invalidInput, "give either a shell command or an argv for '\(name)', not both")
        } else if let previous {
            var spec = previous
            if let cwd = request.cwd { spec.cwd = try validatedDirectory(cwd, name: name) }
            if !request.env.isEmpty {
                spec.env = try request.env.map { text throws(RunitError) in
                    try EnvironmentEntry(parsing: text, for: name.rawValue)
                }
            }
            if let policies = request.policies { spec.policies = try PolicyCheck.validated(policies, name: name) }
            if let restart = request.restart { spec.restart = restart }
            if let size = request.logMaxSize { spec.logMaxSize = size }
            if let keep = request.logKeep { spec.logKeep = keep }
            return spec
        } else {
            throw RunitError(.invalidInput, "no command given for '\(name)'; use --command \"CMD\" or -- PROGRAM ARG...")
        }
        try Self.refuseNUL(argv, "an argument", name: name)
        let cwd = try validatedDirectory(request.cwd ?? context.workingDirectory, name: name)
        var env: [EnvironmentEntry] = []
        for text in request.env { env.append(try EnvironmentEntry(parsing: text, for: name.rawValue)) }
        return ProcessSpec(
            name: name.rawValue, argv: argv, command: command, cwd: cwd, env: env, restart: request.restart ?? .never,
            logMaxSize: request.logMaxSize ?? 10 * 1024 * 1024, logKeep: request.logKeep ?? 5,
            policies: try PolicyCheck.validated(request.policies ?? ProcessPolicies(), name: name))
    }

    /// Arguments, environment entries and paths reach the kernel as C strings: a NUL would end one
    /// early, and the process would get less than was given, without a word.
    private static func refuseNUL(_ texts: [String], _ what: String, name: ProcessName) throws(RunitError) {
        guard texts.contains(where: { $0.utf8.contains(0) }) else { return }
        throw RunitError(
            .invalidInput, "\(what) of '\(name)' holds a NUL byte, which no argument, variable or path can hold; leave it out")
    }

    private func validatedDirectory(_ path: String, name: ProcessName) throws(RunitError) -> String {
        let absolute = RunitContext.absolute(path, from: context.workingDirectory)
        guard ByteText.isDirectory(absolute) else {
            throw RunitError(
                .invalidInput,
                "the working directory '\(path)' for '\(name)' does not exist; give an existing directory with --cwd")
        }
        return absolute
    }
}
