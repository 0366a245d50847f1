"""End to end: the processes as MCP resources, and hearing of changes without polling: a
subscription (resources/subscribe, and the newer subscriptions/listen stream) is told when a
process crashes, is restarted or is added, driven by the state files, whoever made the change."""

import json
import os
import select
import subprocess
import time

import anyio
import mcp.types as types
from conftest import RUNIT, run

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
META = "io.modelcontextprotocol/subscriptionId"


def test_processes_are_resources_that_can_be_listed_and_read(runit):
    async def body():
        async with runit.session() as session:
            started = await session.call_tool(
                "start_process", {"name": "web", "command": "echo hello-from-web; exec sleep 300"}
            )
            assert not started.is_error, started.content[0].text
            uris = [str(resource.uri) for resource in (await session.list_resources()).resources]
            assert uris == ["runit://processes", "runit://processes/web", "runit://processes/web/logs"]
            templates = [t.uri_template for t in (await session.list_resource_templates()).resource_templates]
            assert templates == ["runit://processes/{name}", "runit://processes/{name}/logs"]
            every = json.loads((await session.read_resource("runit://processes")).contents[0].text)
            assert [process["name"] for process in every["processes"]] == ["web"]
            status = json.loads((await session.read_resource("runit://processes/web")).contents[0].text)
            assert status["state"] == "running" and status["pid"] == started.structured_content["process"]["pid"]
            for _ in range(50):
                logs = (await session.read_resource("runit://processes/web/logs")).contents[0].text
                if "hello-from-web" in logs:
                    break
                await anyio.sleep(0.1)
            assert "hello-from-web" in logs
            for bad, said in [
                ("runit://processes/nope", "no process named 'nope'"),
                ("http://example.com/", "is not a runit resource"),
                ("runit://processes/a b", "is not a runit resource"),
            ]:
                try:
                    await session.read_resource(bad)
                    raise AssertionError(f"{bad} was read")
                except Exception as error:  # the client raises McpError with the server's message
                    assert said in str(error), str(error)

    run(body)


def test_a_subscription_hears_a_crash_and_a_new_process(runit):
    heard = []

    async def on_message(message):
        if isinstance(message, types.ResourceUpdatedNotification):
            heard.append(("updated", str(message.params.uri)))
        elif isinstance(message, types.ResourceListChangedNotification):
            heard.append(("list_changed", None))

    async def until(event, timeout=20):
        with anyio.fail_after(timeout):
            while event not in heard:
                await anyio.sleep(0.05)

    async def body():
        async with runit.session(message_handler=on_message) as session:
            started = await session.call_tool(
                "start_process",
                {"name": "worker", "command": "read line; echo dying; exit 3", "restart": "never"},
            )
            assert not started.is_error, started.content[0].text
            await session.subscribe_resource("runit://processes/worker")
            await session.subscribe_resource("runit://processes/worker/logs")
            heard.clear()
            # The crash is caused from outside the session: the CLI writes to its input.
            assert runit.cli("send", "worker", "go").returncode == 0
            await until(("updated", "runit://processes/worker"))
            await until(("updated", "runit://processes/worker/logs"))
            status = json.loads((await session.read_resource("runit://processes/worker")).contents[0].text)
            assert status["state"] == "exited" and status["exit_code"] == 3, status
            # A process added by someone else changes the list.
            assert runit.cli("start", "other", "--", "sleep", "300").returncode == 0
            await until(("list_changed", None))
            # After unsubscribing, a restart is not told.
            await session.unsubscribe_resource("runit://processes/worker")
            await session.unsubscribe_resource("runit://processes/worker/logs")
            heard.clear()
            assert runit.cli("restart", "worker").returncode == 0
            await anyio.sleep(1.5)
            assert ("updated", "runit://processes/worker") not in heard, heard
            refused = None
            try:
                await session.subscribe_resource("runit://processes/nosuch")
            except Exception as error:
                refused = str(error)
            assert refused and "no process named 'nosuch'" in refused

    run(body)


class RawServer:
    """`runit mcp` over raw JSON lines, to see exactly what goes over the wire."""

    def __init__(self, runit):
        self.process = subprocess.Popen(
            [RUNIT, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=runit.env, cwd=runit.work
        )
        self.buffer = b""
        self.seen = []

    def initialize(self):
        """The handshake, answered."""
        self.send(INITIALIZE)
        self.read_until(lambda message: message.get("id") == 1)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message):
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def read_until(self, predicate, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                message = json.loads(line)
                self.seen.append(message)
                if predicate(message):
                    return message
            left = deadline - time.monotonic()
            assert left > 0, f"not seen within {timeout}s; the server sent {self.seen[-10:]}"
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                assert chunk, f"the server closed stdout; it sent {self.seen[-10:]}"
                self.buffer += chunk

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def tagged(message, method, stream="L"):
    return message.get("method") == method and message.get("params", {}).get("_meta", {}).get(META) == stream


def test_subscriptions_listen_streams_tagged_notifications_until_cancelled(runit):
    server = RawServer(runit)
    try:
        server.initialize()
        assert runit.cli("start", "api", "--", "sleep", "300").returncode == 0
        filter = {
            "resourcesListChanged": True,
            "resourceSubscriptions": ["runit://processes/api", "runit://processes/ghost", "bogus://x"],
            "toolsListChanged": True,
        }
        server.send({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen", "params": {"notifications": filter}})
        ack = server.read_until(lambda message: tagged(message, "notifications/subscriptions/acknowledged"))
        # Only what is honoured is acknowledged: no tools list changes, no unknown process or URI.
        assert ack["params"]["notifications"] == {
            "resourcesListChanged": True,
            "resourceSubscriptions": ["runit://processes/api"],
        }
        assert runit.cli("stop", "api").returncode == 0
        server.read_until(lambda message: tagged(message, "notifications/resources/updated"))
        assert server.seen[-1]["params"]["uri"] == "runit://processes/api"
        assert runit.cli("start", "more", "--", "sleep", "300").returncode == 0
        server.read_until(lambda message: tagged(message, "notifications/resources/list_changed"))
        # Params that cannot be read are refused as invalid params, with what is expected.
        server.send({"jsonrpc": "2.0", "id": "bad1", "method": "subscriptions/listen", "params": {"notifications": "all"}})
        server.send({"jsonrpc": "2.0", "id": "bad2", "method": "resources/subscribe", "params": {"uri": 123}})
        server.send({"jsonrpc": "2.0", "id": "bad3", "method": "resources/read", "params": {}})
        # Each request is handled on its own, so the answers may come in any order.
        answers = {}

        def all_answered(message):
            if message.get("id") in ("bad1", "bad2", "bad3"):
                answers[message["id"]] = message
            return len(answers) == 3

        server.read_until(all_answered)
        for answer in answers.values():
            assert answer["error"]["code"] == -32602, answer
        assert "notifications" in server.seen[-3]["error"]["message"] or any(
            "notifications" in m.get("error", {}).get("message", "") for m in server.seen
        )
        # Cancelled: the stream ends with no answer, and the server answers what follows.
        server.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "L"}})
        server.send({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        server.read_until(lambda message: message.get("id") == 2)
        assert runit.cli("start", "api").returncode == 0
        server.send({"jsonrpc": "2.0", "id": 3, "method": "ping"})
        server.read_until(lambda message: message.get("id") == 3)
        time.sleep(0.5)
        server.process.stdin.close()
        server.process.stdin = None  # closed: `communicate` must not flush it
        rest, _ = server.process.communicate(timeout=30)
        later = [json.loads(line) for line in rest.splitlines()]
        assert server.process.returncode == 0
        assert all(message.get("id") != "L" for message in server.seen + later), "a cancelled stream gets no answer"
        assert not any(tagged(message, "notifications/resources/updated") for message in later)
    finally:
        server.close()


def test_a_listen_stream_ends_with_its_result_when_the_client_leaves_and_idles_without_cpu(runit):
    server = RawServer(runit)
    try:
        server.initialize()
        assert runit.cli("start", "idle", "--", "sleep", "300").returncode == 0
        server.send(
            {
                "jsonrpc": "2.0",
                "id": 7,
                "method": "subscriptions/listen",
                "params": {"notifications": {"resourceSubscriptions": ["runit://processes", "runit://processes/idle/logs"]}},
            }
        )
        server.read_until(lambda message: tagged(message, "notifications/subscriptions/acknowledged", 7))
        # Listening costs nothing while nothing happens: no timer wakes the server.
        with open(f"/proc/{server.process.pid}/stat") as stat:
            before = sum(int(field) for field in stat.read().rsplit(")", 1)[1].split()[11:13])
        time.sleep(3)
        with open(f"/proc/{server.process.pid}/stat") as stat:
            after = sum(int(field) for field in stat.read().rsplit(")", 1)[1].split()[11:13])
        assert after - before <= 2, f"{after - before} clock ticks of CPU in 3 s of listening"
        server.process.stdin.close()
        server.process.stdin = None  # closed: `communicate` must not flush it
        rest, _ = server.process.communicate(timeout=30)
        answers = [json.loads(line) for line in rest.splitlines()]
        assert server.process.returncode == 0
        assert {"jsonrpc": "2.0", "id": 7, "result": {}} in answers, answers
    finally:
        server.close()


def test_a_supervisor_killed_with_sigkill_is_heard_of_as_lost(runit):
    heard = []

    async def on_message(message):
        if isinstance(message, types.ResourceUpdatedNotification):
            heard.append(str(message.params.uri))

    async def body():
        async with runit.session(message_handler=on_message) as session:
            started = await session.call_tool("start_process", {"name": "orphan", "argv": ["sleep", "300"]})
            assert not started.is_error, started.content[0].text
            supervisor = started.structured_content["process"]["supervisor_pid"]
            await session.subscribe_resource("runit://processes/orphan")
            # Nothing writes a file when a supervisor is killed: the server watches its pidfd.
            os.kill(supervisor, 9)
            with anyio.fail_after(20):
                while "runit://processes/orphan" not in heard:
                    await anyio.sleep(0.05)
            status = json.loads((await session.read_resource("runit://processes/orphan")).contents[0].text)
            assert status["state"] == "lost", status

    run(body)
