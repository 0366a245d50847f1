import Foundation
import Testing

@Suite("Health checks: healthy, unhealthy, and restarted by the policy")
struct HealthTests {
    @Test("a failing --health-cmd makes the process unhealthy after its retries, and the policy restarts it; status shows it")
    func failingCommandRestarts() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "app", "--restart", "on-failure", "--health-cmd", "echo database unreachable; exit 1",
            "--health-interval", "300ms", "--health-retries", "2", "--", "sleep", "300")
        #expect(start.status == 0, "\(start.stderr)")
        let firstPid = try #require(try fixture.status("app")["pid"] as? Int)
        #expect(fixture.eventually(timeout: 30) { try fixture.restarts("app") >= 1 }, "an unhealthy process was not restarted")
        #expect(fixture.eventually(timeout: 30) { try fixture.status("app")["pid"] as? Int ?? firstPid != firstPid })
        // Each restart starts the checks over: what a failed check said is seen between restarts.
        var health: [String: Any] = [:]
        let said = fixture.eventually(timeout: 30) {
            health = try fixture.health("app")
            let detail = health["detail"] as? String ?? ""
            return detail.contains("exit code 1") && detail.contains("database unreachable") && health["checked_at"] is String
                && health["failures"] as? Int ?? 0 >= 1
        }
        #expect(said, "the last check's result and first lines: \(health)")
        var text = ""
        let shown = fixture.eventually(timeout: 30) {
            text = try fixture.run("status", "app").stdout
            return text.contains("\nhealth:     ") && text.contains("exit code 1") && !text.contains("\nrestarts:   0\n")
        }
        #expect(shown, "\(text)")
        let logs = try fixture.run("logs", "app").stdout
        #expect(logs.contains("unhealthy after 2 failed checks in a row"), "\(logs)")
    }

    @Test("with --restart never an unhealthy process stays, shown as unhealthy, and wait --healthy fails with exit 1")
    func unhealthyWithoutPolicy() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "app", "--health-cmd", "exit 1", "--health-interval", "200ms", "--health-retries", "2", "--", "sleep",
            "300")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually(timeout: 30) { fixture.state("app") == "unhealthy" })
        #expect(try fixture.health("app")["status"] as? String == "unhealthy")
        #expect(try fixture.restarts("app") == 0)
        let wait = try fixture.run("wait", "app", "--healthy", "--timeout", "10s")
        #expect(wait.status == 1, "\(wait.stdout) \(wait.stderr)")
    }

    @Test("a process that gets ready while its health check fails stays unhealthy, not ready (helper-36)")
    func readyWhileUnhealthy() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "app", "--ready-log", "READY", "--health-cmd", "exit 1", "--health-interval", "200ms",
            "--health-retries", "1", "--command", "sleep 1.5; echo READY; exec sleep 300")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually { try fixture.run("logs", "app").stdout.contains("ready: a line") })
        usleep(500_000)
        #expect(fixture.state("app") == "unhealthy", "\((try? fixture.status("app")) ?? [:])")
    }

    @Test("a --health-http check: healthy while the server answers 2xx, the status code shown when it does not")
    func httpCheck() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let port = try freePort()
        try fixture.write("ok", to: "site/index.html")
        let good = try fixture.run(
            "start", "--name", "good", "--cwd", fixture.scratch + "/site", "--health-http", "http://127.0.0.1:\(port)/",
            "--health-interval", "300ms", "--command", httpServer(port: port))
        #expect(good.status == 0, "\(good.stderr)")
        let wait = try fixture.run("wait", "good", "--healthy", "--timeout", "30s")
        #expect(wait.status == 0, "\(wait.stdout) \(wait.stderr)")
        #expect(try fixture.health("good")["status"] as? String == "healthy")
        #expect(try fixture.run("status", "good").stdout.contains("\nhealth:     healthy"))

        let missing = try fixture.run(
            "start", "missing", "--health-http", "http://127.0.0.1:\(port)/no-such-page", "--health-interval", "300ms",
            "--health-retries", "2", "--", "sleep", "300")
        #expect(missing.status == 0, "\(missing.stderr)")
        #expect(fixture.eventually(timeout: 30) { fixture.state("missing") == "unhealthy" })
        let detail = try fixture.health("missing")["detail"] as? String ?? ""
        #expect(detail.contains("404"), "the status code: \(detail)")
    }

    @Test("a --health-port check passes while the port accepts connections; --health-start-period holds failures back")
    func portCheckAndStartPeriod() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let port = try freePort()
        let start = try fixture.run(
            "start", "--name", "srv", "--health-port", "\(port)", "--health-interval", "200ms", "--health-retries", "1",
            "--health-start-period", "3s", "--command", httpServer(port: port, delay: 1.5))
        #expect(start.status == 0, "\(start.stderr)")
        // The server listens only after 1.5 s: failures before then fall in the start period.
        usleep(1_000_000)
        #expect(fixture.state("srv") != "unhealthy", "a failure in the start period counted")
        #expect(try fixture.run("wait", "srv", "--healthy", "--timeout", "30s").status == 0)
        #expect(fixture.state("srv") != "unhealthy")
        #expect(try fixture.health("srv")["status"] as? String == "healthy")
    }

    @Test("a health check that hangs is cut off by --health-timeout and counts as failed")
    func timeoutCounts() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "app", "--health-cmd", "sleep 60", "--health-timeout", "200ms", "--health-interval", "300ms",
            "--health-retries", "2", "--", "sleep", "300")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually(timeout: 30) { fixture.state("app") == "unhealthy" }, "a hung check never failed")
        #expect(!((try fixture.health("app")["detail"] as? String) ?? "").isEmpty)
    }
}
