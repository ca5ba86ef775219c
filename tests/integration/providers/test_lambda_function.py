from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.registry import get_provider
from tests.integration.providers.conftest import Notes
from tests.integration.providers.helpers import TAGS, function_props, make_agent, make_role

ADDR = "agent.support.function"
NAME = "demo-test-support"


def test_function_lifecycle(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path, api_calls: Callable[[str], list[str]]
) -> None:
    role = make_role(raw)
    folder = make_agent(tmp_path)
    provider = get_provider("aws.lambda.function")
    lam = raw("lambda")
    props = function_props(role, folder, reserved_concurrency=5)

    created = provider.create(ctx, ADDR, props)
    assert created.physical_id == NAME
    assert created.outputs["arn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{NAME}"
    conf = lam.get_function_configuration(FunctionName=NAME)
    assert conf["MemorySize"] == 512 and conf["Timeout"] == 60
    assert conf["Architectures"] == ["arm64"]
    assert conf["Handler"] == "_strands_runtime.handler"
    assert conf["Environment"]["Variables"]["STRANDS_ENTRY"] == "agent.py:agent"
    assert lam.get_function_concurrency(FunctionName=NAME)["ReservedConcurrentExecutions"] == 5
    assert lam.list_tags(Resource=created.outputs["arn"])["Tags"]["strands:agent"] == "support"
    # the package is the agent folder plus the runtime adapter
    assert created.outputs["code_sha256"] == conf["CodeSha256"]

    live = provider.read(ctx, ADDR, NAME, props)
    assert live is not None
    assert live["observed"]["memory"] == 512
    assert live["observed"]["runtime"] == "python3.12"
    assert live["observed"]["reserved_concurrency"] == 5
    assert live["revision"] == created.outputs["revision"]  # stable across reads
    assert provider.drift(props, live) == {}

    # configuration only: the code is not sent again
    new = {**props, "memory": 1024, "environment": {**props["environment"], "MODE": "fast"}}
    calls = api_calls("lambda")
    out = provider.update(ctx, ADDR, NAME, props, new, created.outputs)
    assert "UpdateFunctionConfiguration" in calls and "UpdateFunctionCode" not in calls
    assert "PutFunctionConcurrency" not in calls and "TagResource" not in calls
    assert out["code_sha256"] == created.outputs["code_sha256"]
    assert out["revision"] != created.outputs["revision"]
    live = provider.read(ctx, ADDR, NAME, new)
    assert live is not None
    assert live["observed"]["memory"] == 1024
    assert live["observed"]["environment"]["MODE"] == "fast"
    assert lam.get_function_configuration(FunctionName=NAME)["MemorySize"] == 1024

    # code only: a new hash and new files give a new CodeSha256 and revision
    make_agent(tmp_path, folder, body="from strands import Agent\n\nagent = Agent(name='v2')\n")
    newer = {**new, "code": {**new["code"], "hash": "hash-2"}, "reserved_concurrency": None}
    calls.clear()
    out2 = provider.update(ctx, ADDR, NAME, new, newer, out)
    assert "UpdateFunctionCode" in calls and "UpdateFunctionConfiguration" not in calls
    assert "DeleteFunctionConcurrency" in calls
    assert out2["code_sha256"] != out["code_sha256"]
    assert out2["revision"] != out["revision"]
    assert out2["observed"]["memory"] == 1024
    assert out2["observed"]["reserved_concurrency"] is None

    provider.delete(ctx, ADDR, NAME, newer, out2)
    assert provider.read(ctx, ADDR, NAME, newer) is None
    provider.delete(ctx, ADDR, NAME, newer, out2)


def test_function_update_sends_only_what_changed(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path, api_calls: Callable[[str], list[str]]
) -> None:
    provider = get_provider("aws.lambda.function")
    props = function_props(make_role(raw), make_agent(tmp_path))
    created = provider.create(ctx, ADDR, props)
    calls = api_calls("lambda")
    out = provider.update(ctx, ADDR, NAME, props, dict(props), created.outputs)
    assert calls == ["GetFunction"]  # nothing changed: only the read-back
    assert out["revision"] == created.outputs["revision"]

    calls.clear()
    retagged = {**props, "tags": {**props["tags"], "team": "core"}}
    out = provider.update(ctx, ADDR, NAME, props, retagged, out)
    assert calls == ["TagResource", "GetFunction"]
    assert out["observed"]["tags"]["team"] == "core"
    assert out["revision"] == created.outputs["revision"]  # tags are not part of a version


def test_function_deleted_behind_our_back(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    provider = get_provider("aws.lambda.function")
    props = function_props(make_role(raw), make_agent(tmp_path))
    created = provider.create(ctx, ADDR, props)
    raw("lambda").delete_function(FunctionName=NAME)
    assert provider.read(ctx, ADDR, created.physical_id, props) is None


def test_function_drift_shows_a_manual_change(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    provider = get_provider("aws.lambda.function")
    props = function_props(make_role(raw), make_agent(tmp_path))
    created = provider.create(ctx, ADDR, props)
    raw("lambda").update_function_configuration(FunctionName=NAME, Timeout=3)
    live = provider.read(ctx, ADDR, created.physical_id, props)
    assert live is not None
    assert provider.drift(props, live) == {"timeout": (3, 60)}
    assert live["revision"] != created.outputs["revision"]


def test_function_find_adopts_our_function(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    provider = get_provider("aws.lambda.function")
    props = function_props(make_role(raw), make_agent(tmp_path), reserved_concurrency=3)
    assert provider.find(ctx, ADDR, props) is None
    # an interrupted create: the function exists, tagged, but the concurrency was never set
    raw("lambda").create_function(
        FunctionName=NAME,
        Role=props["role_arn"],
        Runtime="python3.12",
        Handler="_strands_runtime.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Tags=props["tags"],
    )
    found = provider.find(ctx, ADDR, props)
    assert found is not None
    assert found.physical_id == NAME
    assert found.outputs["arn"].endswith(f":function:{NAME}")
    assert found.outputs["observed"]["reserved_concurrency"] == 3


def test_function_find_ignores_a_function_of_another_environment(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    provider = get_provider("aws.lambda.function")
    props = function_props(make_role(raw), make_agent(tmp_path))
    raw("lambda").create_function(
        FunctionName=NAME,
        Role=props["role_arn"],
        Runtime="python3.12",
        Handler="h.h",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Tags={**TAGS, "strands:environment": "prod"},
    )
    assert provider.find(ctx, ADDR, props) is None
    with pytest.raises(StrandsDeployError) as info:
        provider.create(ctx, ADDR, props)
    assert "lambda:CreateFunction" in info.value.what
    assert info.value.fix is not None and "already exists" in info.value.fix


def test_function_create_waits_for_a_new_role(
    ctx: ProviderContext, raw: Callable[[str], Any], tmp_path: Path, notes: Notes
) -> None:
    """IAM propagation: Lambda cannot assume a role at first; the create is retried until it can."""
    role_arn = "arn:aws:iam::123456789012:role/demo-test-role"
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:  # the role "propagates" after a few retries
            make_role(raw)

    slow_ctx = dataclasses.replace(ctx, sleep=sleep)
    created = get_provider("aws.lambda.function").create(
        slow_ctx, ADDR, function_props(role_arn, make_agent(tmp_path))
    )
    assert created.physical_id == NAME
    assert len(sleeps) == 3
    assert any("IAM propagation" in note for _, note in notes.notes)


def test_function_create_gives_up_on_a_role_that_never_appears(
    ctx: ProviderContext, tmp_path: Path, notes: Notes
) -> None:
    role_arn = "arn:aws:iam::123456789012:role/never-created"
    with pytest.raises(StrandsDeployError) as info:
        get_provider("aws.lambda.function").create(ctx, ADDR, function_props(role_arn, make_agent(tmp_path)))
    err = info.value
    assert err.where == ADDR
    assert "lambda:CreateFunction" in err.what and "cannot be assumed" in err.what
    assert 80 <= sum(notes.slept) <= 91  # bounded: ~90 s of backoff, then give up
