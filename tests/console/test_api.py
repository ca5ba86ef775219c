"""The console's API through Starlette's test client: security, the graph, round-trip edits of
strands.yaml, validation, git, templates."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from tests.console.conftest import BASE, make_client


# -- who may talk to the console ------------------------------------------------------------------
def test_requests_without_the_token_are_refused(project: Path) -> None:
    console, _ = make_client(project)
    from strands_deploy.console.app import create_app

    bare = TestClient(create_app(console), base_url=BASE)
    assert bare.get("/api/graph").status_code == 401
    assert bare.get("/").status_code == 401
    assert bare.get("/static/app.js").status_code == 401
    bare.cookies.set("strands_console", "not-the-token")
    assert bare.get("/api/graph").status_code == 401
    bare.cookies.clear()
    # the printed URL: sets the cookie and drops the token from the address bar
    entry = bare.get(f"/?token={console.keys.token}", follow_redirects=False)
    assert entry.status_code == 303 and entry.headers["location"] == "/"
    assert "HttpOnly" in entry.headers["set-cookie"] and "SameSite=Strict" in entry.headers["set-cookie"]
    page = bare.get("/")
    assert page.status_code == 200 and console.keys.csrf in page.text


def test_host_origin_and_csrf_are_checked(console_client: tuple[Any, TestClient]) -> None:
    console, client = console_client
    # DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1
    assert client.get("/api/graph", headers={"host": "evil.example:8765"}).status_code == 403
    assert client.get("/api/graph", headers={"host": "localhost:8765"}).status_code == 200
    etag = client.get("/api/config").json()["etag"]
    body = {"op": "set", "section": "agents", "name": "support", "key": "memory", "value": 1024, "etag": etag}
    no_csrf = client.post("/api/config/edit", json=body, headers={"X-CSRF-Token": ""})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["error"]["what"]
    other_site = client.post("/api/config/edit", json=body, headers={"Origin": "http://evil.example"})
    assert other_site.status_code == 403
    assert "memory: 512" in (console.root / "strands.yaml").read_text()  # nothing was written
    ok = client.post("/api/config/edit", json=body, headers={"Origin": BASE})
    assert ok.status_code == 200, ok.text


# -- the architecture graph -----------------------------------------------------------------------
def test_graph_has_agents_resources_links_triggers_and_endpoints(
    console_client: tuple[Any, TestClient],
) -> None:
    _, client = console_client
    data = client.get("/api/graph").json()
    ids = {n["id"]: n for n in data["nodes"]}
    assert {"agent:support", "agent:triage", "resource:tickets", "resource:jobs", "endpoint:support"} <= set(
        ids
    )
    edges = {(e["source"], e["target"], e["kind"]) for e in data["edges"]}
    assert ("agent:support", "resource:tickets", "link") in edges
    assert ("resource:jobs", "agent:triage", "trigger") in edges
    assert ("endpoint:support", "agent:support", "endpoint") in edges
    assert data["status"]["agent:support"] == "new"  # nothing deployed yet
    assert data["environments"] == ["local", "prod"] and data["project"] == "desk"
    node = client.get("/api/node", params={"id": "agent:support"}).json()
    assert node["config"]["memory"] == 512 and node["resources"] == []


def test_a_hundred_agent_graph(tmp_path: Path) -> None:
    from tests.helpers import write_project

    agents = "".join(f"  a{i}:\n    path: agents/a{i}\n    link: [t{i % 10}]\n" for i in range(100))
    resources = "".join(f"  t{i}: {{type: table, key: id}}\n" for i in range(10))
    root = write_project(
        tmp_path / "big",
        f"project: big\nagents:\n{agents}resources:\n{resources}",
        agents={f"a{i}": "agent = None\n" for i in range(100)},
        requirements="",
    )
    _, client = make_client(root)
    data = client.get("/api/graph").json()
    assert len([n for n in data["nodes"] if n["kind"] == "agent"]) == 100
    assert len([e for e in data["edges"] if e["kind"] == "link"]) == 100


# -- editing strands.yaml -------------------------------------------------------------------------
def test_form_edits_keep_comments_and_read_as_hand_written(console_client: tuple[Any, TestClient]) -> None:
    console, client = console_client
    path = console.root / "strands.yaml"
    etag = client.get("/api/config").json()["etag"]

    def edit(**body: Any) -> dict[str, Any]:
        nonlocal etag
        resp = client.post("/api/config/edit", json={**body, "etag": etag})
        assert resp.status_code == 200, resp.text
        etag = resp.json()["etag"]
        return dict(resp.json())

    edit(op="set", section="agents", name="support", key="memory", value=2048)
    edit(op="add-resource", name="notes", type="table", fields={})
    edit(op="add-agent", name="writer", fields={"description": "Writes replies"})
    last = edit(op="link", agent="writer", resource="notes")
    text = path.read_text()
    assert text.startswith("# The support desk (a comment that must survive every edit)\n")
    assert "    memory: 2048  # small on purpose\n" in text
    assert "  tickets: {type: table, key: id}  # the tickets\n" in text
    assert "  notes: {type: table, key: id}\n" in text
    assert "  writer:\n    path: agents/writer\n    description: Writes replies\n    link: [notes]\n" in text
    assert (console.root / "agents/writer/agent.py").exists()  # the new agent has code to deploy
    assert last["problems"] == [] and last["text"] == text
    # a value back to its default: the key goes, the rest stays
    edit(op="set", section="agents", name="support", key="memory", value=None)
    assert "memory" not in path.read_text().split("triage")[0]
    edit(op="unlink", agent="writer", resource="notes")
    assert "link: [notes]" not in path.read_text()


def test_a_stale_edit_is_refused_with_what_changed(console_client: tuple[Any, TestClient]) -> None:
    console, client = console_client
    path = console.root / "strands.yaml"
    seen = client.get("/api/config").json()["etag"]
    # another tab (or an editor on disk) changes the file meanwhile
    path.write_text(path.read_text().replace("memory: 512", "memory: 768"))
    assert client.get("/api/config/etag").json()["etag"] != seen
    resp = client.post(
        "/api/config/edit",
        json={
            "op": "set",
            "section": "agents",
            "name": "support",
            "key": "timeout",
            "value": 30,
            "etag": seen,
        },
    )
    assert resp.status_code == 409
    body = resp.json()
    assert "-    memory: 512" in body["diff"] and "+    memory: 768" in body["diff"]
    assert "memory: 768" in path.read_text() and "timeout" not in path.read_text()  # never lost
    stale_save = client.put("/api/config", json={"text": "project: other\n", "etag": seen})
    assert stale_save.status_code == 409 and "memory: 768" in path.read_text()


def test_validation_gives_the_clis_errors_with_file_and_line(console_client: tuple[Any, TestClient]) -> None:
    console, client = console_client
    text = client.get("/api/config").json()["text"].replace("memory: 512", "memory: 64")
    problems = client.post("/api/config/validate", json={"text": text}).json()["problems"]
    assert len(problems) == 1
    assert problems[0]["where"].startswith(f"{console.root / 'strands.yaml'}:8:")
    assert "memory" in problems[0]["what"]
    assert "memory: 512" in (console.root / "strands.yaml").read_text()  # validating writes nothing
    # the YAML view's save writes even an invalid file (like an editor), and says what is wrong
    etag = client.get("/api/config").json()["etag"]
    saved = client.put("/api/config", json={"text": text, "etag": etag}).json()
    assert saved["problems"] and (console.root / "strands.yaml").read_text() == text
    refused = client.post(
        "/api/config/edit", json={"op": "add-agent", "name": "Bad Name", "etag": saved["etag"], "fields": {}}
    )
    assert refused.status_code == 400 and "not valid" in refused.json()["error"]["what"]


# -- git and templates ----------------------------------------------------------------------------
def test_git_status_diff_and_commit(console_client: tuple[Any, TestClient]) -> None:
    console, client = console_client
    root = console.root
    assert client.get("/api/git").json()["repo"] is False

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "add", "strands.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "first")
    git("config", "user.name", "Console Test")
    git("config", "user.email", "console@example.com")
    assert client.get("/api/git").json()["status"] == "clean"
    (root / "strands.yaml").write_text((root / "strands.yaml").read_text().replace("512", "1024"))
    status = client.get("/api/git").json()
    assert status["status"] == "modified" and "+    memory: 1024" in status["diff"]
    assert client.post("/api/git/commit", json={"message": ""}).status_code == 400
    done = client.post("/api/git/commit", json={"message": "More memory for support"}).json()
    assert done["status"] == "clean" and done["commit"]
    log = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%s"], capture_output=True, text=True)
    assert log.stdout.strip() == "More memory for support"


def test_templates_gallery_and_adding_a_template_agent(console_client: tuple[Any, TestClient]) -> None:
    console, client = console_client
    gallery = {t["name"]: t for t in client.get("/api/templates").json()["templates"]}
    assert {"basic", "tools", "multi-agent"} <= set(gallery)
    assert [a["name"] for a in gallery["basic"]["agents"]] == ["assistant"]
    etag = client.get("/api/config").json()["etag"]
    resp = client.post(
        "/api/config/agent-from-template",
        json={"template": "basic", "agent": "assistant", "name": "helper", "etag": etag},
    )
    assert resp.status_code == 200, resp.text
    assert (
        (console.root / "agents/helper/agent.py")
        .read_text()
        .startswith(
            (
                Path(__file__).parents[2] / "src/strands_deploy/templates/basic/agents/assistant/agent.py"
            ).read_text()[:40]
        )
    )
    assert "  helper:\n    path: agents/helper\n" in (console.root / "strands.yaml").read_text()
    assert resp.json()["problems"] == []


def test_unknown_things_are_errors_not_tracebacks(console_client: tuple[Any, TestClient]) -> None:
    _, client = console_client
    missing = client.get("/api/deploy/nope/events")
    assert missing.status_code == 400 and missing.json()["error"]["what"] == "no such deploy"
    ghost = client.get("/api/node", params={"id": "agent:ghost"}).json()
    assert ghost["resources"] == [] and ghost["config"] is None
    bad = client.post("/api/config/edit", json={"op": "explode"})
    assert bad.status_code == 400 and "unknown edit" in bad.json()["error"]["what"]
    incomplete = client.post("/api/config/edit", json={"op": "link", "agent": "support"})
    assert incomplete.status_code == 400 and "'resource'" in incomplete.json()["error"]["what"]
