"""`approve` without --as records the caller's AWS identity (STS on the moto server), and the
compliance report reads the approval back from the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from strands_deploy import services as svc
from strands_deploy.errors import StrandsDeployError
from strands_deploy.planning.plan import Action, Change, Plan
from strands_deploy.planning.saved import load_plan, save_plan
from strands_deploy.policy.approvals import require_approved
from tests.unit.policy.helpers import write


def test_approve_records_the_sts_identity(tmp_path: Path, moto: str) -> None:
    root = write(
        tmp_path / "p",
        {
            "environments": {
                "staging": {"endpoint": moto, "account": "123456789012", "require_approval": True}
            }
        },
    )
    services = svc.open_services(root, "staging", start_local=False)
    plan = Plan(
        "staging",
        [Change("resource.tickets.table", "aws.dynamodb.table", Action.CREATE, props={"name": "t"})],
    )
    path = root / "plan.json"
    save_plan(plan, path, made_by="arn:aws:iam::123456789012:user/bob")
    with pytest.raises(StrandsDeployError):
        require_approved(path, load_plan(path), None)
    approval = svc.approve_plan(services, path, None)
    assert approval.approver.startswith("arn:aws:") and approval.approver != approval.maker
    assert require_approved(path, load_plan(path), "ci").approver == approval.approver
    extra = svc.compliance_data(services)
    assert [(a["approver"], a["digest"], a["maker"]) for a in extra["approvals"]] == [
        (approval.approver, approval.digest, "arn:aws:iam::123456789012:user/bob")
    ]
