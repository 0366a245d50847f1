import Foundation
import Testing

@Suite("Projects under hostile use: two of one name, a broken file, bad options")
struct ProjectFaultTests {
    @Test("two projects of one name: the second up is refused while the first runs, and neither down touches the other")
    func sameNameFromTwoFolders() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try fixture.write("processes:\n  web: exec sleep 271\n", to: "a/api/runit.yaml")
        try fixture.write("processes:\n  web: exec sleep 272\n  db: exec sleep 273\n", to: "b/api/runit.yaml")
        let first = fixture.scratch + "/a/api"
        let second = fixture.scratch + "/b/api"
        #expect(try fixture.run(["up"], cwd: first).status == 0)
        let pid = try fixture.status("api/web")["pid"] as? Int
        let refused = try fixture.run(["up"], cwd: second)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("project 'api' already runs from \(first)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("(cd \(first) && runit down, or runit stop --project api)"), "\(refused.stderr)")
        #expect(try fixture.status("api/web")["pid"] as? Int == pid, "the first one's web was left alone")
        #expect(fixture.state("api/db") == nil, "nothing of the second was started")
        // The first taken down; the second up; the first's down again stops nothing of the second.
        #expect(try fixture.run(["down"], cwd: first).status == 0)
        #expect(try fixture.run(["up"], cwd: second).status == 0)
        let again = try fixture.run(["down"], cwd: first)
        #expect(again.status == 0 && again.stdout.contains("nothing of project 'api' is running"), "\(again.stdout)")
        #expect(fixture.state("api/web") == "running" && fixture.state("api/db") == "running")
        #expect(try fixture.run(["down"], cwd: second).status == 0)
    }

    @Test("down takes down what up started when the file is broken or gone since, and only that")
    func downWithoutItsFile() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let stack = "processes:\n  db: exec sleep 281\n  api:\n    command: exec sleep 282\n    depends_on: [db]\n"
        let directory = try fixture.project(stack)
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        try fixture.write("processes: [", to: "shop/runit.yaml")
        let broken = try fixture.run(["down"], cwd: directory)
        #expect(broken.status == 0, "\(broken.stderr)")
        #expect(broken.stderr.contains("taking down what up started of project 'shop'"), "\(broken.stderr)")
        #expect(broken.stdout.split(separator: "\n") == ["shop/api: stopped", "shop/db: stopped"], "dependants first")
        try fixture.write(stack, to: "shop/runit.yaml")
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        try FileManager.default.removeItem(atPath: directory + "/runit.yaml")
        // A project in a folder above must not be taken for it.
        try fixture.write("processes:\n  other: exec sleep 283\n", to: "runit.yaml")
        let gone = try fixture.run(["down"], cwd: directory)
        #expect(gone.status == 0 && gone.stdout.contains("shop/db: stopped"), "\(gone.stdout) \(gone.stderr)")
        #expect(fixture.state("shop/api") == "stopped")
        // A mistyped -f path is not taken for the project in a folder above it.
        try fixture.write(stack, to: "shop/runit.yaml")
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        for typo in [directory + "/typo/runit.yaml", directory + "/nothere.yaml"] {
            let refused = try fixture.run(["down", "-f", typo])
            #expect(refused.status == 2, "\(typo): \(refused.stdout)")
            #expect(fixture.state("shop/db") == "running")
        }
        #expect(try fixture.run(["down"], cwd: directory).status == 0)
        // Nothing recorded there: the error is the file's.
        let nothing = try fixture.run(["down", "-f", fixture.scratch + "/nowhere/runit.yaml"])
        #expect(nothing.status == 2 && nothing.stderr.contains("nowhere/runit.yaml"), "\(nothing.stderr)")
    }

    @Test("up while a process is being stopped starts it again once the stop is over, not calling it running")
    func upWhileStopping() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let directory = try fixture.project(
            "processes:\n  web: {command: 'trap \"sleep 2; exit 0\" TERM; while :; do sleep 0.1; done'}\n")
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        let stop = try fixture.binaryProcess(["stop", "shop/web"])
        defer { stop.waitUntilExit() }
        #expect(fixture.eventually { fixture.state("shop/web") == "stopping" })
        let up = try fixture.run(["up"], cwd: directory)
        #expect(up.status == 0 && up.stdout.contains("shop/web: started"), "\(up.stdout) \(up.stderr)")
        stop.waitUntilExit()
        #expect(fixture.eventually { fixture.state("shop/web") == "running" }, "\(fixture.state("shop/web") ?? "?")")
        #expect(try fixture.status("shop/web")["desired"] as? String == "running")
    }

    @Test("a runit.yaml folder is named as the problem, -f Procfile.dev is a Procfile, and up names what it left running")
    func filesAndLeftovers() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let directory = try fixture.project("web: exec sleep 301\nold: exec sleep 302\n", file: "Procfile.dev")
        try FileManager.default.createDirectory(atPath: directory + "/runit.yaml", withIntermediateDirectories: true)
        let folder = try fixture.run(["config"], cwd: directory)
        #expect(folder.status == 2 && folder.stderr.contains("runit.yaml is a directory"), "\(folder.stderr)")
        #expect(try fixture.run(["up", "-f", "Procfile.dev"], cwd: directory).status == 0)
        #expect(fixture.state("shop/old") == "running")
        try fixture.write("web: exec sleep 301\n", to: "shop/Procfile.dev")
        let again = try fixture.run(["up", "-f", "Procfile.dev"], cwd: directory)
        #expect(again.status == 0 && again.stdout.contains("shop/old: left running: no longer in the file"), "\(again.stdout)")
        #expect(try fixture.run(["down", "-f", "Procfile.dev"], cwd: directory).stdout.contains("shop/old: stopped"))
    }

    @Test("bad options of a project command are refused before anything is done")
    func optionsRefusedUpFront() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let directory = try fixture.project("processes:\n  web: exec sleep 291\n")
        #expect(try fixture.run(["up", "--timeout", "0"], cwd: directory).status == 0, "0 waits for nothing")
        let long = try fixture.run(["down", "--timeout", "2h"], cwd: directory)
        #expect(long.status == 2 && long.stderr.contains("the grace period (--timeout) 2h is out of range"), "\(long.stderr)")
        #expect(fixture.state("shop/web") == "running")
        let negative = try fixture.run(["up", "--timeout", "-1"], cwd: directory)
        #expect(negative.status == 2 && negative.stderr.contains("--timeout '-1' is not a duration"), "\(negative.stderr)")
        let tooLong = try fixture.run(["up", "--timeout", "2d"], cwd: directory)
        #expect(tooLong.status == 2 && tooLong.stderr.contains("out of range"), "\(tooLong.stderr)")
        #expect(try fixture.run("start", "loose", "--", "sleep", "292").status == 0)
        for command in [["stop"], ["remove", "--yes"]] {
            let narrowed = try fixture.run(command + ["--project", "shop", "--all"])
            #expect(narrowed.status == 2 && narrowed.stderr.contains("--all is every process"), "\(narrowed.stderr)")
        }
        #expect(fixture.state("loose") == "running" && fixture.state("shop/web") == "running")
        // list --project says what logs and stop say of a project that is not there.
        let unknown = try fixture.run("list", "--project", "nope")
        #expect(unknown.status == 1 && unknown.stderr.contains("no project 'nope' (projects: shop)"), "\(unknown.stderr)")
        let invalid = try fixture.run("list", "--project", "../x")
        #expect(invalid.status == 2 && invalid.stderr.contains("is not a project name"), "\(invalid.stderr)")
        #expect(try fixture.run("list", "--project", "shop").stdout.contains("shop/web"))
    }
}

extension ProjectFaultTests {
    @Test("up: a dependency whose supervisor dies while up waits for it is ended, and up says so")
    func dependencyLosesItsSupervisor() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let directory = try fixture.project(
            """
            processes:
              db:
                command: echo $$ > db.pid; sleep 1; kill -9 $PPID; exec sleep 283
                ready_log: READY
              web:
                command: exec sleep 284
                depends_on: {db: ready}
            """)
        let up = try fixture.run(["up", "--timeout", "20s"], cwd: directory)
        #expect(up.status != 0)
        #expect(
            up.stdout.contains("lost its supervisor") || up.stderr.contains("lost its supervisor"), "\(up.stdout)\(up.stderr)")
        let pid = Int32(
            try String(contentsOfFile: directory + "/db.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(fixture.eventually(timeout: 15) { !isAlive(pid ?? 0) }, "db's process ran on, unwatched")
        #expect(fixture.state("shop/db") == "stopped")
    }
}
