import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Supervisor {
    /// Spawns the process and records the start; on failure records why and finishes.
    mutating func startProcess() {
        memoryReleased = false
        reopenInput()
        let spawner = ChildSpawner(
            argv: arguments.argv, cwd: arguments.cwd,
            stdinFD: descriptors.stdinRead >= 0 ? descriptors.stdinRead : descriptors.input,
            stdoutFD: descriptors.outWrite, stderrFD: descriptors.errWrite, terminal: descriptors.terminalPath)
        switch spawner.spawn() {
        case .success(let pid):
            childPID = pid
            noChildrenLeft = false
            childStartedAt = Platform.monotonicMillis()
            phase = .running
            status.state = .running
            status.pid = pid
            status.startedAtMilliseconds = Platform.nowMicros() / 1000
            status.exitCode = nil
            status.exitSignal = nil
            status.message = ""
            status.nextRestartAtMilliseconds = 0
            log.system("started pid \(pid)")
            armChecks(now: childStartedAt)
            writeStatus()
            notify("running \(pid)\n")
        case .failure(let error):
            status.state = .failed
            status.pid = 0
            status.message = error.message
            log.system(error.message)
            writeStatus()
            notify("failed \(error.message)\n")
            phase = .done(1)
        }
    }

    /// Records the exit of the main process and decides what follows.
    mutating func mainProcessExited(_ waitStatus: Int32) {
        disarmChecks()
        drainPipes()
        log.flushPartials(now: 0, force: true)
        childPID = 0
        status.pid = 0
        let record: String
        if crunit_wifsignaled(waitStatus) != 0 {
            status.exitCode = nil
            status.exitSignal = crunit_wtermsig(waitStatus)
            record = "killed by signal \(crunit_wtermsig(waitStatus))"
        } else {
            status.exitCode = crunit_wexitstatus(waitStatus)
            status.exitSignal = nil
            record = "exited with code \(crunit_wexitstatus(waitStatus))"
        }
        if case .running = phase {
            // The process ended by itself: end whatever it left behind, then apply the policy.
            phase = .cleaning(killAt: Platform.monotonicMillis() + Self.leftoverGraceMillis, killed: false)
            // What the status says while that takes: the policy's outcome, which it records again after.
            status.state = restartWanted ? .backoff : .exited
        }
        // The status first, then the log record: a client that sees the record (a wait for the
        // end of a run) reads a status that says so.
        writeStatus()
        log.system(record)
        // Whatever it left behind gets SIGTERM once the reap loop has seen whether anything is left.
        leftoversToSignal = true
        exitToReport = true
    }

    /// Tells the client waiting on the notify descriptor that the process exited, once
    /// `status.json` says so: a client that reads the status after the word reads the exit.
    mutating func reportExit() {
        exitToReport = false
        switch phase {
        case .cleaning, .stopping: writeStatus()
        case .running, .backoff, .done: break  // The policy's outcome was just recorded.
        }
        notify("exited \(status.exitCode.map { String($0) } ?? "-") \(status.exitSignal.map { String($0) } ?? "-")\n")
        descriptors.closeNotify()
    }

    /// Sends `number` to the running process's group, as a terminal sends Ctrl-C to its
    /// foreground job; says so in the log. Nothing runs (backoff, stopping): nothing is sent.
    mutating func signalChild(_ number: Int32) {
        guard case .running = phase, childPID > 0 else {
            log.system("signal \(SignalName.name(number)) not sent: the process is not running")
            return
        }
        if kill(-childPID, number) != 0 { _ = kill(childPID, number) }
        log.system("sent SIG\(SignalName.name(number)) to the process, as asked")
    }

    /// Starts terminating the tree: SIGTERM now, SIGKILL after the grace period.
    /// With `then`, the stop is part of a restart in place; without, it is final (and ends a
    /// restart in place under way). It is set before the tree is signalled: a tree that dies at
    /// once is found gone within this call.
    mutating func beginStop(graceMillis: Int64, then next: RestartAfterStop? = nil) {
        restartAfterStop = next
        disarmChecks()
        switch phase {
        case .stopping(let killAt, let killed):
            // A stop asked while a restart in place is stopping: its timeout holds when shorter
            // (the client waits that long, not the restart's grace).
            if !killed { phase = .stopping(killAt: min(killAt, Platform.monotonicMillis() + graceMillis), killed: false) }
            return
        case .done: return
        case .backoff:
            phase = .stopping(killAt: 0, killed: true)
            finishIfTreeIsGone()
            return
        case .running, .cleaning: break
        }
        log.system("stopping")
        if next == nil { retireWatches() }
        status.state = .stopping
        writeStatus()
        phase = .stopping(killAt: Platform.monotonicMillis() + graceMillis, killed: false)
        // The group and every descendant, so one that left the group (setsid) can also shut down
        // cleanly while the main process still runs.
        askTreeToStop()
        reap()
    }

    /// Sends the stop signal to the tree, then SIGCONT: a process stopped by SIGSTOP (or Ctrl-Z
    /// in its terminal) acts on the stop signal only once continued; it was SIGKILLed after the grace.
    func askTreeToStop() {
        let signal = arguments.policies.stopSignal
        signalTree(signal)
        if SignalName.continuesAfter(signal) { signalTree(SIGCONT) }
    }

    /// Sends `signal` to the process group and to every descendant that left the group (found
    /// through `/proc`; as a subreaper, orphans of the tree are our children). Each process gets
    /// it once: many servers take a second SIGTERM as "exit now, skip the clean shutdown".
    func signalTree(_ signal: Int32) {
        if childPID > 0 { kill(-childPID, signal) }
        for pid in ProcessTable.descendantPIDs(of: getpid(), singleThreadedRoot: true)
        where childPID <= 0 || getpgid(pid) != childPID {
            kill(pid, signal)
        }
    }

    /// Handles the deadlines: partial log lines, SIGKILL after the grace period, the end of a backoff.
    mutating func handleDeadlines() {
        let now = Platform.monotonicMillis()
        log.flushPartials(now: now, force: false)
        // A prompt (no newline) is matched when its piece is written, here, after its delay.
        markReadyIfLogMatched()
        if let retry = statusRetryAt, now >= retry { writeStatus() }
        repairIfDue(now: now)
        if fileWatch.lookAgainAt != nil {
            fileWatch.lookAgain(now: now)
            logWatchProblems()
        }
        if let path = fileWatch.takeChange(now: now) { restartForChange(path) }
        switch phase {
        case .stopping(let killAt, let killed):
            if killed || now >= killAt {
                if !killed { log.system("grace period over: killing the process tree") }
                signalTree(SIGKILL)
                phase = .stopping(killAt: killAt, killed: true)
            }
        case .cleaning(let killAt, let killed):
            if killed || now >= killAt {
                signalTree(SIGKILL)
                phase = .cleaning(killAt: killAt, killed: true)
            }
        case .backoff(let until):
            if now >= until {
                status.restarts += 1
                startProcess()
            }
        case .running, .done: break
        }
        reap()
    }

    /// Moves on once the main process and every descendant are gone.
    mutating func finishIfTreeIsGone() {
        guard childPID == 0, noChildrenLeft else { return }
        switch phase {
        case .stopping:
            if let next = restartAfterStop {
                restartAfterStop = nil
                switch next {
                case .now:
                    quickFailures = 0
                    status.restarts += 1
                    startProcess()
                case .afterFailure:
                    scheduleRestart()
                }
                return
            }
            status.state = .stopped
            log.system("stopped")
            writeStatus()
            phase = .done(0)
        case .cleaning:
            applyRestartPolicy()
        case .running, .backoff, .done:
            break
        }
    }

    /// Whether the policy starts the process again after the exit recorded in `status`.
    var restartWanted: Bool {
        switch arguments.restart {
        case .never: false
        case .onFailure: status.exitCode != 0
        case .always: true
        }
    }

    /// After an exit by itself: finish, or wait and start again, as the policy says.
    mutating func applyRestartPolicy() {
        guard restartWanted else {
            status.state = .exited
            writeStatus()
            phase = .done(0)
            return
        }
        scheduleRestart()
    }

    /// Waits, then starts the process again: 500 ms after a quick failure (a run shorter than
    /// `--min-uptime`), doubling with each one in a row up to `--backoff-max`; after more than
    /// `--max-restarts` quick failures in a row, gives up (`failed`). The next attempt's time is
    /// kept in the status, so clients show a countdown.
    mutating func scheduleRestart() {
        let policies = arguments.policies
        let ran = Platform.monotonicMillis() - childStartedAt
        // A run of --min-uptime or longer is no quick failure: it clears the count, and the
        // restart after it is not held to --max-restarts.
        quickFailures = ran >= policies.minUptimeMillis ? 0 : quickFailures + 1
        guard quickFailures <= policies.maxRestarts else {
            status.state = .failed
            status.nextRestartAtMilliseconds = 0
            let under = DurationText.format(milliseconds: policies.minUptimeMillis)
            status.message =
                policies.maxRestarts == 0
                ? "not restarted: it ran under \(under) and --max-restarts is 0"
                : "gave up after \(policies.maxRestarts) restarts in a row that each ran under \(under)"
            log.system(status.message)
            writeStatus()
            phase = .done(0)
            return
        }
        let delay = min(policies.backoffMaxMillis, Int64(500) << Int64(min(max(quickFailures - 1, 0), 30)))
        status.state = .backoff
        status.nextRestartAtMilliseconds = Platform.nowMicros() / 1000 + delay
        status.message =
            quickFailures == 0
            ? "restarting after a run of \(DurationText.format(milliseconds: ran))"
            : "quick failure \(quickFailures) of at most \(policies.maxRestarts) in a row"
        log.system("restarting in \(DurationText.format(milliseconds: delay))")
        writeStatus()
        phase = .backoff(until: Platform.monotonicMillis() + delay)
    }
}
