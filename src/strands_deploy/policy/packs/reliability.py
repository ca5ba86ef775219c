"""The `reliability` pack: data that survives mistakes, failures that are seen and retried."""

from __future__ import annotations

from strands_deploy.policy.model import AgentSubject, ChangeSubject, Context, ResourceSubject, Violation
from strands_deploy.policy.packs._util import function_props
from strands_deploy.policy.registry import rule

PACK = "reliability"
HTTP_API_TIMEOUT = 30  # seconds: API Gateway HTTP APIs end an integration after 30 s
DATA_STORES = ("aws.dynamodb.table", "aws.s3.bucket")


@rule(
    "REL-001",
    "warning",
    "Table without point-in-time recovery or deletion protection",
    pack=PACK,
    types=("aws.dynamodb.table",),
    rationale="Point-in-time recovery restores a table to any second of the last 35 days after a "
    "bad write; deletion protection stops a table from being deleted by mistake.",
    fix="Keep the defaults (strands-deploy enables both on AWS); do not turn them off.",
    mappings={"fsbp": ["DynamoDB.2", "DynamoDB.6"], "nist": ["CP-9", "CP-10"], "soc2": ["A1.2"]},
)
def table_recovery(res: ResourceSubject, ctx: Context) -> Violation | None:
    missing = []
    if not res.props.get("pitr"):
        missing.append("point-in-time recovery")
    if not res.props.get("deletion_protection") and not ctx.emulated:
        missing.append("deletion protection")
    if not missing:
        return None
    return Violation(f"table {res.props.get('name')} has no {' and no '.join(missing)}", str(missing))


@rule(
    "REL-002",
    "warning",
    "Queue without a dead-letter queue",
    pack=PACK,
    types=("aws.sqs.queue",),
    rationale="Without a dead-letter queue a message that always fails is retried until it "
    "expires and is then lost, with nothing left to investigate.",
    fix="Remove `dlq: false` from the queue (a DLQ is the default).",
    mappings={"nist": ["CP-10", "SI-13"], "soc2": ["A1.2"]},
)
def queue_dlq(res: ResourceSubject) -> Violation | None:
    if res.props.get("dlq"):
        return None
    return Violation(f"queue {res.props.get('name')} has no dead-letter queue", "dlq: false")


@rule(
    "REL-003",
    "warning",
    "Alarm without actions",
    pack=PACK,
    types=("aws.cloudwatch.alarm",),
    rationale="An alarm nobody is told about is noticed only by whoever opens the console.",
    fix="Add `alarms: {notify: [{email: ...}]}` to the environment (or the agent).",
    mappings={"fsbp": ["CloudWatch.15"], "nist": ["SI-4", "IR-6"], "soc2": ["CC7.2", "CC7.3"]},
)
def alarm_actions(res: ResourceSubject) -> Violation | None:
    if res.props.get("alarm_actions"):
        return None
    return Violation(f"alarm {res.props.get('name')} notifies no one", "alarm_actions: []")


@rule(
    "REL-004",
    "warning",
    "HTTP API exposure with a timeout over 30 s",
    pack=PACK,
    subject="agent",
    rationale="API Gateway HTTP APIs end the request after 30 seconds: a longer-running agent "
    "keeps running (and costing) while the caller already got a 503.",
    fix="Set `timeout: 30` or less, or use `expose: url` (Function URLs wait up to 15 minutes).",
    mappings={"nist": ["SC-5"], "soc2": ["A1.1"]},
)
def http_timeout(agent: AgentSubject) -> Violation | None:
    timeout = function_props(agent).get("timeout") or 0
    if agent.config.expose != "http" or timeout <= HTTP_API_TIMEOUT:
        return None
    return Violation(f"agent {agent.name!r} may run {timeout} s behind the HTTP API", f"timeout: {timeout}")


@rule(
    "REL-005",
    "warning",
    "Queue-triggered agent without reserved concurrency",
    pack=PACK,
    subject="agent",
    rationale="A burst of messages scales a queue-triggered agent up to the account's concurrency "
    "limit, throttling every other function and the model quota with it.",
    fix="Set `reserved_concurrency:` on the agent.",
    mappings={"nist": ["SC-5"], "soc2": ["A1.1"]},
)
def queue_concurrency(agent: AgentSubject) -> Violation | None:
    queued = agent.config.trigger is not None or any(t.queue for t in agent.config.triggers)
    if not queued or function_props(agent).get("reserved_concurrency") is not None:
        return None
    return Violation(
        f"agent {agent.name!r} is triggered by a queue without a cap", "reserved_concurrency: none"
    )


@rule(
    "REL-006",
    "warning",
    "Plan replaces or deletes a data store",
    pack=PACK,
    subject="change",
    types=DATA_STORES,
    rationale="Replacing or deleting a table or bucket loses what it holds unless it was copied first.",
    fix="Check the change is intended (a rename replaces); back up the data before deploying.",
    mappings={"nist": ["CM-3", "CP-9"], "soc2": ["CC8.1"]},
)
def data_store_change(change: ChangeSubject) -> Violation | None:
    if change.action not in ("replace", "delete"):
        return None
    reason = f": {change.change.reason}" if change.change.reason else ""
    return Violation(f"the plan will {change.action} {change.address}{reason}", f"action: {change.action}")
