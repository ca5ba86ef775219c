"""The environment a dev worker gets: the deployed function's contract, pointed at the environment."""

from __future__ import annotations

from pathlib import Path

from strands_deploy.aws.session import AwsSettings
from strands_deploy.config.schema import AgentConfig
from strands_deploy.dev.env import worker_env
from strands_deploy.state.model import ResourceState


def record(outputs: dict[str, str], inputs: dict[str, object] | None = None) -> ResourceState:
    return ResourceState(type="t", physical_id="p", inputs=inputs or {}, outputs=outputs)


BASE = {
    "PATH": "/usr/bin",
    "AWS_PROFILE": "developer",
    "AWS_SESSION_TOKEN": "tok",
    "STRANDS_LINK_STALE_NAME": "old",
    "STRANDS_ENTRY": "other.py:x",
}


def test_local_environment_points_at_the_local_cloud(tmp_path: Path) -> None:
    agent = AgentConfig(path="agents/a", environment={"TONE": "dry"}, link=["tickets", "jobs"])
    resources = {
        "resource.tickets.table": record({"name": "p-local-tickets", "arn": "arn:table"}),
        "resource.jobs.queue": record({"url": "http://q", "arn": "arn:queue", "name": "jobs"}),
    }
    env = worker_env(
        project_root=tmp_path,
        name="a",
        agent=agent,
        base=BASE,
        aws=AwsSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:4566", local=True),
        resources=resources,
        resource_types={"tickets": "table", "jobs": "queue"},
    )
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_ACCESS_KEY_ID"] == "testing" and env["AWS_REGION"] == "eu-west-1"
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert env["STRANDS_LINK_TICKETS_TABLE"] == "p-local-tickets"
    assert env["STRANDS_LINK_TICKETS_ARN"] == "arn:table"
    assert env["STRANDS_LINK_JOBS_QUEUE_URL"] == "http://q"
    assert "STRANDS_LINK_STALE_NAME" not in env
    assert env["STRANDS_ENTRY"] == "agent.py:agent" and env["STRANDS_AGENT_NAME"] == "a"
    assert env["TONE"] == "dry" and env["PATH"] == "/usr/bin"
    assert "STRANDS_SESSIONS_DIR" not in env and "STRANDS_SESSIONS_BUCKET" not in env


def test_sessions_use_the_deployed_bucket_or_a_local_folder(tmp_path: Path) -> None:
    agent = AgentConfig(path="agents/a", sessions=True)
    fn = record(
        {"name": "fn"},
        inputs={
            "environment": {"STRANDS_SESSIONS_BUCKET": "b", "STRANDS_SESSIONS_PREFIX": "a/", "TONE": "x"}
        },
    )
    deployed = worker_env(
        project_root=tmp_path, name="a", agent=agent, base={}, resources={"agent.a.function": fn}
    )
    assert (deployed["STRANDS_SESSIONS_BUCKET"], deployed["STRANDS_SESSIONS_PREFIX"]) == ("b", "a/")
    assert "TONE" not in deployed  # only the agent's own `environment` is taken from config

    fresh = worker_env(project_root=tmp_path, name="a", agent=agent, base={})
    assert fresh["STRANDS_SESSIONS_DIR"] == str(tmp_path / ".strands" / "dev" / "sessions" / "a")


def test_a_profile_environment_keeps_no_other_identity(tmp_path: Path) -> None:
    env = worker_env(
        project_root=tmp_path,
        name="a",
        agent=AgentConfig(path="agents/a"),
        base=BASE,
        aws=AwsSettings(region="us-west-2", profile="prod"),
    )
    assert env["AWS_PROFILE"] == "prod" and "AWS_SESSION_TOKEN" not in env
    assert "AWS_ENDPOINT_URL" not in env and "AWS_ACCESS_KEY_ID" not in env
