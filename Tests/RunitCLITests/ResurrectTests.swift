import Foundation
import Testing

@Suite("Back after a reboot: desired state, resurrect, startup, export systemd")
struct ResurrectTests {
    /// Kills every supervisor and its process with SIGKILL, as a reboot ends them.
    func reboot(_ fixture: CLIFixture, _ names: [String]) throws {
        for name in names {
            let status = try fixture.status(name)
            for key in ["supervisor_pid", "pid"] { if let pid = status[key] as? Int { kill(Int32(pid), SIGKILL) } }
        }
        for name in names where fixture.state(name) != "stopped" && fixture.state(name) != "exited" {
            #expect(fixture.eventually { fixture.state(name) == "lost" }, "\(name) is \(fixture.state(name) ?? "?")")
        }
    }

    @Test("after a simulated reboot, resurrect starts exactly the processes last started, once even when run twice at once")
    func resurrectsTheRightSet() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        for name in ["api", "worker", "idle"] { #expect(try fixture.run("start", name, "--", "sleep", "300").status == 0) }
        #expect(try fixture.run("start", "once", "--command", "echo done").status == 0)
        let directory = try fixture.project("processes:\n  db: {command: sleep 300}\n")
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        #expect(try fixture.run("stop", "idle").status == 0)
        #expect(try fixture.status("idle")["desired"] as? String == "stopped")
        #expect(try fixture.status("api")["desired"] as? String == "running")
        try reboot(fixture, ["api", "worker", "shop/db"])
        let first = try fixture.binaryProcess(["resurrect"])
        let second = try fixture.binaryProcess(["resurrect"])
        first.waitUntilExit()
        second.waitUntilExit()
        #expect(first.terminationStatus == 0 && second.terminationStatus == 0)
        for name in ["api", "worker", "shop/db"] { #expect(fixture.state(name) == "running", "\(name)") }
        #expect(fixture.state("idle") == "stopped", "a process stopped on purpose came back")
        #expect(fixture.state("once") == "exited", "a one-shot that ended ran again")
        // Each started once: one start record after the reboot.
        for name in ["api", "worker", "shop/db"] {
            #expect(try fixture.run("logs", name).stdout.components(separatedBy: "started pid").count - 1 == 2, "\(name)")
        }
        let nothing = try fixture.run("resurrect")
        #expect(nothing.status == 0 && nothing.stdout.contains("nothing to resurrect"))
    }

    @Test("resurrect brings a project back in its order: a dependency's condition holds before its dependant starts")
    func resurrectsInDependencyOrder() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let marker = fixture.scratch + "/db-up"
        let directory = try fixture.project(
            """
            processes:
              db:
                command: rm -f \(marker); sleep 1.5; touch \(marker); exec sleep 300
                ready_cmd: test -f \(marker)
              api:
                command: test -f \(marker) || { echo db not up; exit 1; }; exec sleep 300
                depends_on: {db: ready}
            """)
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        try reboot(fixture, ["shop/db", "shop/api"])
        try FileManager.default.removeItem(atPath: marker)
        let resurrect = try fixture.run("resurrect")
        #expect(resurrect.status == 0, "\(resurrect.stdout) \(resurrect.stderr)")
        #expect(fixture.state("shop/api") == "running", "api started before db was ready")
        #expect(try !fixture.run("logs", "shop/api").stdout.contains("db not up"))
    }

    @Test("startup writes a systemd user unit that runs resurrect, and --remove deletes it")
    func startupUnit() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let config = fixture.scratch + "/config"
        let written = try fixture.run(["startup"], environment: ["XDG_CONFIG_HOME": config])
        #expect(written.status == 0 && written.stdout.contains("systemctl --user enable runit-resurrect.service"))
        let unit = try String(contentsOfFile: config + "/systemd/user/runit-resurrect.service", encoding: .utf8)
        #expect(unit.contains("resurrect\""), "\(unit)")
        #expect(unit.contains("Environment=\"RUNIT_HOME="), "\(unit)")
        #expect(unit.contains("WantedBy=default.target"))
        try verify([config + "/systemd/user/runit-resurrect.service"])
        #expect(try fixture.run(["startup", "--remove"], environment: ["XDG_CONFIG_HOME": config]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: config + "/systemd/user/runit-resurrect.service"))
    }

    @Test("startup and export facing a folder where the file goes say so, and startup --remove leaves the folder")
    func folderWhereTheFileGoes() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let config = fixture.scratch + "/config"
        let unit = config + "/systemd/user/runit-resurrect.service"
        try fixture.write("precious", to: "config/systemd/user/runit-resurrect.service/keep.txt")
        let written = try fixture.run(["startup"], environment: ["XDG_CONFIG_HOME": config])
        #expect(written.status == 2 && written.stderr.contains("cannot write \(unit): a directory is there"), "\(written.stderr)")
        #expect(!written.stderr.contains("NSCocoaErrorDomain"))
        let removal = try fixture.run(["startup", "--remove"], environment: ["XDG_CONFIG_HOME": config])
        #expect(removal.status == 2 && removal.stderr.contains("left alone"), "\(removal.stderr)")
        #expect(FileManager.default.fileExists(atPath: unit + "/keep.txt"), "--remove deleted a folder it never wrote")

        #expect(try fixture.run("start", "w", "--", "sleep", "300").status == 0)
        #expect(try fixture.run("start", "v", "--", "sleep", "300").status == 0)
        try fixture.write("x", to: "out/runit-w.service/x")
        let export = try fixture.run("export", "systemd", "v", "w", "--dir", fixture.scratch + "/out")
        #expect(export.status == 2 && export.stderr.contains("a directory is there"), "\(export.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.scratch + "/out/runit-v.service"), "half written")
        let fresh = try fixture.run("export", "systemd", "v", "--dir", fixture.scratch + "/units/a")
        #expect(fresh.status == 0, "\(fresh.stderr)")
        let mask = umask(0)
        umask(mask)
        let mode = try FileManager.default.attributesOfItem(atPath: fixture.scratch + "/units/a")[.posixPermissions] as? Int
        #expect(mode == 0o777 & ~Int(mask), "a unit folder is made as any tool makes one, not private as runit's state")
        try fixture.write("a file", to: "file")
        let under = try fixture.run("export", "systemd", "w", "--dir", fixture.scratch + "/file/sub")
        #expect(under.status == 1 && under.stderr.contains("cannot create the folder"), "\(under.stderr)")
    }

    @Test("startup ignores a relative XDG_CONFIG_HOME and writes a relative RUNIT_HOME as the absolute directory it names")
    func startupRelativeDirectories() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let account = fixture.scratch + "/account"
        try FileManager.default.createDirectory(atPath: account, withIntermediateDirectories: false)
        let environment = ["XDG_CONFIG_HOME": "config", "HOME": account, "RUNIT_HOME": "state"]
        let written = try fixture.run(["startup"], environment: environment)
        #expect(written.status == 0, "\(written.stderr)")
        let path = account + "/.config/systemd/user/runit-resurrect.service"
        #expect(written.stdout.contains("wrote \(path)"), "\(written.stdout)")
        #expect(!FileManager.default.fileExists(atPath: fixture.scratch + "/config"))
        let unit = try String(contentsOfFile: path, encoding: .utf8)
        let state = URL(fileURLWithPath: fixture.scratch).resolvingSymlinksInPath().path + "/state"
        #expect(unit.contains("Environment=\"RUNIT_HOME=\(state)\""), "\(unit)")
        #expect(try fixture.run(["startup", "--remove"], environment: environment).status == 0)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("startup names the state directory XDG_STATE_HOME chose: the unit runs without this shell's variables")
    func startupStateFromXDG() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let config = fixture.scratch + "/config"
        let state = fixture.scratch + "/xdg-state"
        let written = try fixture.run(
            ["startup"], environment: ["XDG_CONFIG_HOME": config, "XDG_STATE_HOME": state], unset: ["RUNIT_HOME"])
        #expect(written.status == 0, "\(written.stderr)")
        let unit = try String(contentsOfFile: config + "/systemd/user/runit-resurrect.service", encoding: .utf8)
        #expect(unit.contains("Environment=\"RUNIT_HOME=\(state)/runit\""), "\(unit)")
    }

    @Test("export systemd writes a unit per process that systemd-analyze accepts, with dependencies and quoting")
    func exportSystemd() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let directory = try fixture.project(
            """
            processes:
              migrate: {command: echo migrated}
              api:
                argv: [sh, -c, "echo $X 100%; sleep 300"]
                env: {X: "a \\"quoted\\" value"}
                restart: on-failure
                max_restarts: 4
                stop_signal: INT
                stop_timeout: 3s
                depends_on: {migrate: completed_successfully}
            """)
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        let out = fixture.scratch + "/units"
        let export = try fixture.run("export", "systemd", "--project", "shop", "--dir", out)
        #expect(export.status == 0, "\(export.stderr)")
        let api = try String(contentsOfFile: out + "/runit-shop-api.service", encoding: .utf8)
        for line in [
            "Requires=runit-shop-migrate.service", "ExecStart=\"sh\" \"-c\" \"echo $$X 100%%; sleep 300\"",
            "Environment=\"X=a \\\"quoted\\\" value\"", "Restart=on-failure", "StartLimitBurst=4", "KillSignal=SIGINT",
            "TimeoutStopSec=3s", "WorkingDirectory=\(directory)",
        ] {
            #expect(api.contains(line), "\(line) in:\n\(api)")
        }
        let migrate = try String(contentsOfFile: out + "/runit-shop-migrate.service", encoding: .utf8)
        #expect(migrate.contains("Type=oneshot"))
        try verify([out + "/runit-shop-migrate.service", out + "/runit-shop-api.service"])
        #expect(try fixture.run("export", "upstart").status == 2)
    }

    @Test("export refuses a working directory with a newline (a unit line injected) and two names of one unit")
    func exportRefusesWhatAUnitCannotHold() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let hostile = fixture.scratch + "/nl\nExecStartPre=/bin/touch " + fixture.scratch + "/pwned"
        try FileManager.default.createDirectory(atPath: hostile, withIntermediateDirectories: true)
        #expect(try fixture.run("start", "e5", "--cwd", hostile, "--", "sleep", "300").status == 0)
        let out = fixture.scratch + "/units"
        let refused = try fixture.run("export", "systemd", "e5", "--dir", out)
        #expect(refused.status != 0 && refused.stderr.contains("control character"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/runit-e5.service"))
        #expect(try fixture.run("start", "a-b", "--", "sleep", "300").status == 0)
        #expect(try fixture.run("start", "a.b", "--", "sleep", "300").status == 0)
        let both = try fixture.run("export", "systemd", "a-b", "a.b", "--dir", out)
        #expect(both.status == 0, "names that differ make different units: \(both.stderr)")
        // A project's `web` and a loose `shop-web` would share runit-shop-web.service.
        let directory = try fixture.project("processes:\n  web: {command: sleep 300}\n")
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        #expect(try fixture.run("start", "shop-web", "--", "sleep", "300").status == 0)
        let clash = fixture.scratch + "/clash"
        let shared = try fixture.run("export", "systemd", "shop/web", "shop-web", "--dir", clash)
        #expect(shared.status != 0 && shared.stderr.contains("would both be runit-shop-web.service"), "\(shared.stderr)")
        #expect(!FileManager.default.fileExists(atPath: clash + "/runit-shop-web.service"), "nothing was written")
    }

    /// `systemd-analyze verify` on the units, where the tool exists.
    func verify(_ paths: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        process.arguments = ["verify", "--man=no"] + paths
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "systemd-analyze: \(text)")
        #expect(!text.contains("Unbalanced") && !text.contains("bad unit"), "\(text)")
    }
}

extension CLIFixture {
    /// `runit ARGS` started and not waited for, with this fixture's home.
    func binaryProcess(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIFixture.binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["RUNIT_HOME"] = home
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }
}
