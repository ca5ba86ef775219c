from __future__ import annotations

import json
from pathlib import Path

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.planning.plan import Action, Change, Plan
from strands_deploy.planning.saved import load_plan, plan_digest, save_plan
from strands_deploy.policy.approvals import approvals_path, approve, require_approved


def _saved(tmp_path: Path, made_by: str | None = "bob") -> Path:
    plan = Plan(
        "prod", [Change("resource.t.table", "aws.dynamodb.table", Action.CREATE, props={"name": "t"})]
    )
    plan.project, plan.account, plan.region = "acme", "111122223333", "us-east-1"
    path = tmp_path / "plan.json"
    save_plan(plan, path, made_by=made_by)
    return path


def test_approved_by_another_identity(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    approval = approve(path, "alice")
    assert approval.maker == "bob" and approval.digest == plan_digest(json.loads(path.read_text()))
    recorded = json.loads(approvals_path(path).read_text())["approvals"]
    assert recorded[0]["approver"] == "alice" and recorded[0]["at"]
    assert require_approved(path, load_plan(path), "ci").approver == "alice"


def test_unapproved_is_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    with pytest.raises(StrandsDeployError) as err:
        require_approved(path, load_plan(path), "ci")
    assert "not approved" in err.value.what and "bob" in str(err.value.fix)


def test_the_maker_cannot_approve(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    with pytest.raises(StrandsDeployError) as err:
        approve(path, "bob")
    assert "cannot approve" in err.value.what
    assert not approvals_path(path).exists()


def test_a_plan_modified_after_approval_is_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    approve(path, "alice")
    doc = json.loads(path.read_text())
    doc["changes"][0]["props"]["name"] = "other"
    path.write_text(json.dumps(doc))
    with pytest.raises(StrandsDeployError) as err:
        require_approved(path, load_plan(path), "ci")
    assert "modified after it was approved" in err.value.what


def test_a_plan_without_its_maker_cannot_be_checked(tmp_path: Path) -> None:
    path = _saved(tmp_path, made_by=None)
    approve(path, "alice")
    with pytest.raises(StrandsDeployError) as err:
        require_approved(path, load_plan(path), "ci")
    assert "who made it" in err.value.what


def test_a_saved_plan_with_its_maker_still_loads(tmp_path: Path) -> None:
    assert load_plan(_saved(tmp_path)).changes[0].address == "resource.t.table"
