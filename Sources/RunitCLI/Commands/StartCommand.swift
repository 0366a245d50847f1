import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit

/// `runit start`: a shell command with --command, or argv after `--`.
struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a process under its own supervisor.",
        discussion: """
            runit start --name web --command "npm run dev"     runs through /bin/sh -c
            runit start web -- python3 -m http.server 8000     runs argv directly, no shell
            runit start web                                    runs the stored one again

            Without a command, the stored one runs again: --restart, --log-max-size,
            --log-keep, --cwd, --env and the policies, when given, replace the stored
            ones; the rest stays as it was.
            """
    )

    @Argument(help: "The process name (or use --name).")
    var positionalName: String?

    @Option(name: .long, help: "The process name: letters, digits, '.', '_', '-'; at most 64.")
    var name: String?

    @Option(name: [.long, .customShort("c")], help: "A command to run with /bin/sh -c.")
    var command: String?

    @Option(name: .long, help: "The working directory (default: the current one).")
    var cwd: String?

    @Option(name: [.long, .customShort("e")], help: "An environment variable, KEY=VALUE; repeatable.")
    var env: [String] = []

    @Option(name: .long, help: "Give the process a TCP port as $PORT: a number, or auto for a free one.")
    var port: String?

    @Option(name: .long, help: "Restart policy: never (the default), on-failure or always.")
    var restart: String?

    @Option(name: .long, help: "Rotate the log when it passes this size, e.g. 512K (default: 10M).")
    var logMaxSize: String?

    @Option(name: .long, help: "How many rotated log files to keep (default: 5).")
    var logKeep: Int?

    @Flag(name: .long, help: "Stop a running process of the same name first.")
    var replace = false

    @Option(name: .long, help: "How long to watch for an exit right after the start.")
    var settle: String = StartOptions().settle

    @Flag(name: .long, help: "Return once it is ready (its readiness check passed, or it runs), or fail with its last lines.")
    var wait = false

    @Option(name: .long, help: "With --wait: give up after this long (default 30s; exit 124).")
    var timeout: String?

    @OptionGroup(title: "Readiness, health, restarts and stopping") var policyOptions: PolicyOptions

    @OptionGroup var output: OutputOptions

    @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.")
    var argv: [String] = []

    func run() async throws {
        guard timeout == nil || wait else { throw ValidationError("--timeout is for --wait: give --wait too") }
        let waitMillis = try timeout.map { text throws -> Int64 in
            guard let millis = DurationText.milliseconds(text), millis <= 86_400_000 else {
                throw ValidationError("--timeout '\(text)' is not a duration from 0s to 1d; \(DurationText.rule)")
            }
            return millis
        }
        let request = try request()
        try ControlViews.start(request, json: output.json && !wait, quiet: output.json && wait)
        if wait { try Self.waitUntilReady(request.name, timeoutMillis: waitMillis ?? 30_000, json: output.json) }
    }

    /// `--wait`: until the process is ready; a run that ends first fails with its last lines.
    static func waitUntilReady(_ name: String, timeoutMillis: Int64, json: Bool) throws {
        let registry = Registry(context: .fromEnvironment())
        guard let current = try? registry.existing(name) else { return }
        // Its supervisor gone since the start reported: what it started would run on unwatched.
        if current.state == .lost { throw RunitError(.startFailed, registry.endLostStart(name)) }
        // A run that already ended (its supervisor gone too) is not ready either: the wait below
        // reports its exit at once, as it does when it sees the end itself (MCP's wait_for agrees).
        let outcome = try registry.wait(for: name, until: WaitCondition(ready: true), timeoutMillis: timeoutMillis)
        if case .exited(.lost, _, _) = outcome {
            // Left alone, what it started would run on unwatched.
            throw RunitError(.startFailed, registry.endLostStart(name))
        }
        var result = WaitCommand.describe(outcome, name: name, registry: registry)
        if result.outcome == "exited" { result.message += " before it was ready" }
        if json { try Terminal.printJSON(result) } else { WaitCommand.print(result) }
        if !result.met { throw ExitCode(result.outcome == "timeout" ? WaitCommand.timedOut : 1) }
    }

    func request() throws -> StartRequest {
        var options = StartOptions()
        options.positionalName = positionalName
        options.name = name
        options.command = command
        options.argv = argv
        options.cwd = cwd
        options.env = env
        options.port = port
        options.restart = restart
        options.logMaxSize = logMaxSize
        options.logKeep = logKeep
        options.replace = replace
        options.settle = settle
        var request = try options.request()
        request.policies = try policyOptions.policies()
        request.readyOnPort = wait
        return request
    }
}
