"""The budget provider on a real moto server: create with alerts, read, change alerts and
subscribers, drift, find, delete (twice)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy.aws.session import AwsContext
from strands_deploy.providers.base import Props, ProviderContext
from strands_deploy.providers.registry import get_provider


@pytest.fixture
def ctx(aws: AwsContext, tmp_path: Path) -> ProviderContext:
    return ProviderContext(
        aws=aws, project="demo", environment="test", project_dir=tmp_path, cache_dir=tmp_path / ".cache"
    )


@pytest.fixture
def raw(moto: str) -> Callable[[str], Any]:
    def make(service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=moto,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


ADDR = "shared.budget"
NAME = "demo-test-monthly"
ACCOUNT = "123456789012"


def props(**overrides: Any) -> Props:
    p: Props = {
        "name": NAME,
        "limit_usd": 300.0,
        "alert_at": [50.0, 80.0, 100.0],
        "subscribers": [{"type": "EMAIL", "address": "ops@example.com"}],
    }
    p.update(overrides)
    return p


def thresholds(raw: Callable[[str], Any]) -> list[float]:
    notes = raw("budgets").describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=NAME)
    return sorted(float(n["Threshold"]) for n in notes["Notifications"])


def test_budget_lifecycle(ctx: ProviderContext, raw: Callable[[str], Any]) -> None:
    provider = get_provider("aws.budgets.budget")
    assert ctx.aws.account_id() == ACCOUNT
    created = provider.create(ctx, ADDR, props())
    assert created.physical_id == NAME
    budget = raw("budgets").describe_budget(AccountId=ACCOUNT, BudgetName=NAME)["Budget"]
    assert float(budget["BudgetLimit"]["Amount"]) == 300.0
    assert budget["TimeUnit"] == "MONTHLY" and budget["BudgetType"] == "COST"
    assert thresholds(raw) == [50.0, 80.0, 100.0]

    live = provider.read(ctx, ADDR, NAME, props())
    assert live is not None and provider.drift(props(), live) == {}
    assert live["observed"]["limit_usd"] == 300.0

    # one alert dropped, one added: only those notifications change
    new = props(alert_at=[50.0, 90.0, 100.0])
    provider.update(ctx, ADDR, NAME, props(), new, created.outputs)
    assert thresholds(raw) == [50.0, 90.0, 100.0]
    # new subscribers: every notification is made again with them
    newer = props(alert_at=[90.0], subscribers=[{"type": "EMAIL", "address": "cfo@example.com"}])
    provider.update(ctx, ADDR, NAME, new, newer, created.outputs)
    assert thresholds(raw) == [90.0]

    # someone removes an alert behind our back: drift shows it
    raw("budgets").delete_notification(
        AccountId=ACCOUNT,
        BudgetName=NAME,
        Notification={
            "NotificationType": "ACTUAL",
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": 90.0,
            "ThresholdType": "PERCENTAGE",
        },
    )
    live = provider.read(ctx, ADDR, NAME, newer)
    assert live is not None and provider.drift(newer, live) == {"alert_at": ([], [90.0])}

    found = provider.find(ctx, ADDR, newer)
    assert found is not None and found.physical_id == NAME

    provider.delete(ctx, ADDR, NAME, newer, created.outputs)
    assert provider.read(ctx, ADDR, NAME, newer) is None
    provider.delete(ctx, ADDR, NAME, newer, created.outputs)  # already gone: fine
    assert provider.find(ctx, ADDR, newer) is None


def test_budget_without_subscribers_has_no_notifications(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    provider = get_provider("aws.budgets.budget")
    provider.create(ctx, ADDR, props(subscribers=[]))
    assert thresholds(raw) == []
    live = provider.read(ctx, ADDR, NAME, props(subscribers=[]))
    assert live is not None and provider.drift(props(subscribers=[]), live) == {}


def test_bad_props_are_refused(ctx: ProviderContext) -> None:
    from strands_deploy.errors import StrandsDeployError

    with pytest.raises(StrandsDeployError, match="BudgetProps"):
        get_provider("aws.budgets.budget").create(ctx, ADDR, props(limit_usd="lots"))


def test_a_new_limit_updates_the_budget_on_the_emulator(
    ctx: ProviderContext, raw: Callable[[str], Any]
) -> None:
    # moto has no UpdateBudget: on an emulator the budget is made again, with its alerts
    provider = get_provider("aws.budgets.budget")
    created = provider.create(ctx, ADDR, props())
    notes: list[str] = []
    ctx.progress = lambda address, note: notes.append(note)
    out = provider.update(ctx, ADDR, NAME, props(), props(limit_usd=450.0), created.outputs)
    assert out["observed"]["limit_usd"] == 450.0 and notes == [
        "the emulator cannot update a budget: creating it again"
    ]
    budget = raw("budgets").describe_budget(AccountId=ACCOUNT, BudgetName=NAME)["Budget"]
    assert float(budget["BudgetLimit"]["Amount"]) == 450.0
    assert thresholds(raw) == [50.0, 80.0, 100.0]
    live = provider.read(ctx, ADDR, NAME, props(limit_usd=450.0))
    assert live is not None and provider.drift(props(limit_usd=450.0), live) == {}
    assert provider.drift(props(limit_usd=300.0), live) == {"limit_usd": (450.0, 300.0)}
    # both the limit and the alerts change at once: the new alerts are the ones made
    out = provider.update(
        ctx, ADDR, NAME, props(limit_usd=450.0), props(limit_usd=90.0, alert_at=[100.0]), out
    )
    assert out["observed"] == {"name": NAME, "limit_usd": 90.0, "alert_at": [100.0]}
