"""Fixtures for the end-to-end MCP tests: a built runit, a temporary RUNIT_HOME, and a real
MCP client session (the `mcp` package from PyPI) talking to `runit mcp` over stdio."""

import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNIT = os.environ.get("RUNIT_BIN", str(ROOT / ".build" / "debug" / "runit"))


class Runit:
    """A temporary RUNIT_HOME, the CLI run against it, and cleanup of every process."""

    def __init__(self):
        self.base = pathlib.Path(tempfile.mkdtemp(prefix="runit-e2e-"))
        self.home = self.base / "home"
        self.work = self.base / "work"
        self.work.mkdir()
        self.env = dict(os.environ, RUNIT_HOME=str(self.home), NO_COLOR="1")

    def cli(self, *args):
        return subprocess.run([RUNIT, *args], env=self.env, cwd=self.work, capture_output=True, text=True, timeout=60)

    def cli_json(self, *args):
        result = self.cli(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    @contextlib.asynccontextmanager
    async def session(self, message_handler=None):
        params = StdioServerParameters(command=RUNIT, args=["mcp"], env=self.env, cwd=str(self.work))
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write, message_handler=message_handler) as session:
                await session.initialize()
                yield session

    def cleanup(self):
        procs = self.home / "procs"
        if procs.exists():
            for name in os.listdir(procs):
                # A project's process is PROJECT/NAME, kept on disk as PROJECT~NAME.
                self.cli("stop", name.replace("~", "/"), "--timeout", "1")
        shutil.rmtree(self.base, ignore_errors=True)


class RawServer:
    """`runit mcp` spoken to line by line, for what a client library hides (cancellation,
    ordering, stdin closed early): send JSON-RPC messages, read until one is wanted."""

    INITIALIZE = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }
    INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}

    def __init__(self, runit):
        self.process = subprocess.Popen(
            [RUNIT, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=runit.env, cwd=runit.work, text=True
        )

    def send(self, message):
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def read_until(self, predicate):
        """Every message read up to and including the first that `predicate` accepts."""
        seen = []
        for line in self.process.stdout:
            message = json.loads(line)
            seen.append(message)
            if predicate(message):
                return seen
        raise AssertionError(f"the server closed stdout; it sent {seen}")

    def initialize(self):
        self.send(self.INITIALIZE)
        self.read_until(lambda message: message.get("id") == 1)
        self.send(self.INITIALIZED)

    def close_and_drain(self, timeout=60):
        """Closes stdin and returns the messages written after it, once the server has exited."""
        self.process.stdin.close()
        self.process.stdin = None  # closed: `communicate` must not flush it
        rest, _ = self.process.communicate(timeout=timeout)
        return [json.loads(line) for line in rest.splitlines()]

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def runit():
    if not os.access(RUNIT, os.X_OK):
        pytest.fail(f"{RUNIT} is not built: run `swift build` first, or set RUNIT_BIN", pytrace=False)
    instance = Runit()
    try:
        yield instance
    finally:
        instance.cleanup()


def run(coroutine_function, *args):
    """Runs an async test body with anyio, with a generous overall timeout."""

    async def body():
        with anyio.fail_after(120):
            await coroutine_function(*args)

    anyio.run(body)
