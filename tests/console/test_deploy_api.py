"""Plan, deploy (progress over server-sent events), chat, logs and history through the console's
API, against a real local cloud."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from tests.console.conftest import deployable, make_client


def events(client: TestClient, job: str) -> list[dict[str, Any]]:
    out = []
    with client.stream("GET", f"/api/deploy/{job}/events") as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
    return out


def test_plan_deploy_chat_logs_history(tmp_path: Path, cloud: Any) -> None:
    root = deployable(tmp_path / "p", "cons", cloud.endpoint)
    _, client = make_client(root)
    with client:
        plan = client.post("/api/plan", json={})
        assert plan.status_code == 200, plan.text
        changes = {c["address"]: c["action"] for c in plan.json()["plan"]["changes"]}
        assert changes["agent.support.function"] == "create" and changes["resource.tickets.table"] == "create"
        assert plan.json()["status"]["agent:support"] == "new"
        # the review beside the changes: the cost of each new resource and the policy findings
        review = plan.json()["plan"]["review"]
        costs = {a["key"]: a["delta_monthly_usd"] for a in review["cost"]["addresses"]}
        assert costs["agent.support.function"] > 0 and review["cost"]["delta_monthly_usd"] > 0
        assert review["policy"]["counts"]["error"] == 0 and not review["blocked"]

        job = client.post("/api/deploy", json={}).json()["job"]
        stream = events(client, job)
        rows = [e for e in stream if e["type"] == "resource"]
        assert {e["address"] for e in rows if e["kind"] == "done"} >= {
            "agent.support.function",
            "resource.tickets.table",
        }
        assert all(e["kind"] in ("start", "progress", "done") for e in rows)
        result = stream[-1]
        assert result["type"] == "result" and result["ok"], result
        # a second watcher (another tab) gets the whole run from the start
        assert events(client, job) == stream

        graph = client.get("/api/graph").json()
        assert (
            graph["status"]["agent:support"] == "deployed"
            and graph["status"]["resource:tickets"] == "deployed"
        )
        node = client.get("/api/node", params={"id": "resource:tickets"}).json()
        assert node["resources"][0]["physical_id"] == "cons-local-tickets"

        first = client.post("/api/chat", json={"agent": "support", "prompt": "Hello there"})
        assert first.status_code == 200, first.text
        answer = first.json()
        assert answer["response"] and answer["session_id"] and "usage" in answer
        again = client.post(
            "/api/chat", json={"agent": "support", "prompt": "Again", "session": answer["session_id"]}
        )
        assert again.json()["session_id"] == answer["session_id"]
        unknown = client.post("/api/chat", json={"agent": "ghost", "prompt": "hi"})
        assert unknown.status_code == 400 and "no agent named 'ghost'" in unknown.json()["error"]["what"]

        logs = client.get("/api/logs", params={"agent": "support"}).json()["events"]
        assert any("START RequestId" in e["message"] for e in logs)
        records = client.get("/api/history").json()["records"]
        assert (
            records[0]["command"] == "strands-deploy ui (deploy --env local)" and records[0]["result"] == "ok"
        )


def test_a_protected_environment_needs_its_name(tmp_path: Path, cloud: Any) -> None:
    root = deployable(tmp_path / "p", "guard", cloud.endpoint)
    _, client = make_client(root)
    with client:
        job = client.post("/api/deploy", json={"env": "prod", "confirm": "yes"}).json()["job"]
        last = events(client, job)[-1]
        assert last["type"] == "cancelled" and "protected" in last["why"]
        assert not (root / ".strands/state/prod.json").exists()
