"""End to end: a project brought up and down by an assistant, through the real MCP client."""

import textwrap

from conftest import run

STACK = textwrap.dedent(
    """\
    name: shop
    processes:
      db:
        command: echo db starting; sleep 1; echo db accepting connections; sleep 300
        ready_log: accepting connections
      api:
        command: echo api up; sleep 300
        depends_on: {db: ready}
      broken:
        command: echo config missing >&2; exit 2
    """
)


def test_up_and_down_a_project(runit):
    project = runit.work / "shop"
    project.mkdir()
    (project / "runit.yaml").write_text(STACK)
    runit.cli("start", "loose", "--", "sleep", "300")

    async def body():
        async with runit.session() as session:
            # Out of range: refused before anything starts, and the server answers on.
            for timeout in [1e16, 1e300, -1, 0, 601]:
                refused = await session.call_tool("up_project", {"dir": str(project), "timeout_s": timeout})
                assert refused.is_error and "at most 600 seconds" in refused.content[0].text, timeout
            for typo in [str(project / "typo"), str(project) + "\u0000b"]:
                refused = await session.call_tool("up_project", {"dir": typo})
                assert refused.is_error and "is not a folder" in refused.content[0].text, typo
            assert "shop/" not in runit.cli("list").stdout, "nothing was started"

            up = await session.call_tool("up_project", {"dir": str(project), "wait": True})
            assert up.is_error, "a failed process makes the answer an error"
            results = {r["name"]: r for r in up.structured_content["results"]}
            assert up.structured_content["project"] == "shop"
            assert results["shop/db"]["result"] == "ready"
            assert results["shop/api"]["result"] == "started"
            assert results["shop/broken"]["result"] == "failed"
            assert "config missing" in "\n".join(results["shop/broken"]["last_lines"])
            assert "shop/broken: failed" in up.content[0].text

            listed = await session.call_tool("list_processes", {"project": "shop"})
            names = sorted(p["name"] for p in listed.structured_content["processes"])
            assert names == ["shop/api", "shop/broken", "shop/db"]
            assert all(p["project"] == "shop" for p in listed.structured_content["processes"])
            for other in ["nope", "../x"]:
                unknown = await session.call_tool("list_processes", {"project": other})
                assert unknown.is_error and "project" in unknown.content[0].text, unknown.content[0].text
            everything = await session.call_tool("list_processes", {})
            assert "loose" in [p["name"] for p in everything.structured_content["processes"]]

            status = await session.call_tool("get_process_status", {"name": "shop/api"})
            assert not status.is_error and status.structured_content["process"]["state"] == "running"

            down = await session.call_tool("down_project", {"dir": str(project / ".")})
            assert not down.is_error, down.content[0].text
            stopped = [r["name"] for r in down.structured_content["results"] if r["result"] == "stopped"]
            assert stopped == ["shop/api", "shop/db"], "dependants stop first"

            missing = await session.call_tool("up_project", {"dir": "/"})
            assert missing.is_error and "no runit.yaml or Procfile" in missing.content[0].text

    run(body)
