"""Issue 11's 'done when': the IAM of a 3-agent project with mixed links, evaluated statement by
statement. No agent reaches a resource it is not linked to, read links cannot write, no wildcard
action, and no wildcard resource but log-stream suffixes, object / index suffixes of linked data
and the declared models.

The expectations below are written out by hand (what each access level means is the contract in
docs/configuration.md); they do not reuse synth.links, so a change there that widens access fails
here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from strands_deploy.config.loader import load_project
from strands_deploy.synth import synthesize
from strands_deploy.synth.graph import Graph, Ref, resolve
from tests.helpers import write_project

ACCOUNT = "111122223333"
REGION = "eu-west-1"

PROJECT = f"""\
project: acme
region: us-east-1
agents:
  reader:
    path: agents/reader
    sessions: true
    model: eu.anthropic.claude-sonnet-4-20250514-v1:0
    link: [{{to: tickets, access: read}}]
  writer:
    path: agents/writer
    model: anthropic.claude-3-haiku-20240307-v1:0
    expose: http
    auth: iam
    link: [{{to: jobs, access: write}}, docs]
  keeper:
    path: agents/keeper
    expose: url
    auth: iam
    link: [api-key, {{to: docs, access: read}}]
resources:
  tickets: {{type: table, key: id}}
  jobs: {{type: queue}}
  docs: {{type: bucket}}
  api-key: {{type: secret, from_env: API_KEY}}
  unlinked-table: {{type: table, key: id}}
  unlinked-topic: {{type: topic}}
  unlinked-param: {{type: parameter, from_env: P}}
environments:
  prod: {{region: {REGION}, account: "{ACCOUNT}"}}
"""

AGENTS = ("reader", "writer", "keeper")

# --- what each resource type can be asked to do ---------------------------------------------------

TABLE_READ = {
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
}
TABLE_WRITE = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DescribeTable",
}
TABLE_ADMIN = {
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
    "dynamodb:CreateBackup",
    "dynamodb:RestoreTableFromBackup",
}
OBJECT_READ = {"s3:GetObject"}
OBJECT_WRITE = {"s3:PutObject", "s3:DeleteObject"}
OBJECT_ADMIN = {"s3:PutObjectAcl", "s3:GetObjectAcl", "s3:DeleteObjectVersion"}
BUCKET_READ = {"s3:ListBucket"}
BUCKET_ADMIN = {
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:ListBucketVersions",
}
QUEUE_READ = {
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}
QUEUE_WRITE = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
QUEUE_ADMIN = {"sqs:PurgeQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes"}
TOPIC_ALL = {"sns:Publish", "sns:Subscribe", "sns:DeleteTopic"}
SECRET_READ = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
SECRET_WRITE = {"secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"}
SECRET_ADMIN = {
    "secretsmanager:DeleteSecret",
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:RotateSecret",
}
PARAMETER_ALL = {"ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter", "ssm:DeleteParameter"}
LOGS_WRITE = {"logs:CreateLogStream", "logs:PutLogEvents"}
LOGS_ADMIN = {"logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:GetLogEvents"}
INVOKE = {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}
MODEL_ADMIN = {"bedrock:CreateModelCustomizationJob", "bedrock:DeleteCustomModel"}

SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET46 = "anthropic.claude-sonnet-4-6"
OPUS = "anthropic.claude-opus-4-20250514-v1:0"


def fm(region: str, model: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model}"


def profile(model: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:bedrock:{region}:{account}:inference-profile/{model}"


DECLARED = {"reader": f"eu.{SONNET4}", "writer": HAIKU, "keeper": f"global.{SONNET46}"}

# every model ARN probed, and who may invoke it
MODEL_TARGETS: dict[str, set[str]] = {
    profile(f"eu.{SONNET4}"): {"reader"},
    fm("eu-west-1", SONNET4): {"reader"},
    fm("eu-central-1", SONNET4): {"reader"},
    fm("eu-west-3", SONNET4): {"reader"},
    fm("eu-north-1", SONNET4): {"reader"},
    fm("us-east-1", SONNET4): set(),  # outside the eu profile's regions
    profile(f"us.{SONNET4}", "us-east-1"): set(),
    profile(f"eu.{SONNET4}", account="999999999999"): set(),  # another account's profile
    fm("eu-west-1", HAIKU): {"writer"},
    fm("us-east-1", HAIKU): set(),
    profile(f"global.{SONNET46}"): {"keeper"},  # the SDK default
    fm("us-east-1", SONNET46): {"keeper"},
    fm("ap-southeast-2", SONNET46): {"keeper"},
    "arn:aws:bedrock:::foundation-model/" + SONNET46: {"keeper"},  # global requests name no region
    profile(f"global.{SONNET4}"): set(),
    fm("eu-west-1", OPUS): set(),  # nobody declared it
}

# --- a small IAM evaluator -------------------------------------------------------------------------


def glob(pattern: str, text: str, *, case: bool) -> bool:
    """IAM matching: ``*`` any run of characters, ``?`` exactly one; actions ignore case."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, 0 if case else re.IGNORECASE) is not None


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statement_matches(st: dict[str, Any], action: str, resource: str) -> bool:
    if "Action" in st:
        action_ok = any(glob(a, action, case=False) for a in as_list(st["Action"]))
    else:
        action_ok = not any(glob(a, action, case=False) for a in as_list(st["NotAction"]))
    if "Resource" in st:
        resource_ok = any(glob(r, resource, case=True) for r in as_list(st["Resource"]))
    else:
        resource_ok = not any(glob(r, resource, case=True) for r in as_list(st["NotResource"]))
    return action_ok and resource_ok


def allowed(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Explicit Deny wins, then any Allow; nothing else is allowed. Conditions must be the
    sessions-list one (checked on its own in the test), which is treated here as satisfied: the
    widest reading, so the assertions that something is *not* reachable are the strict ones."""
    matching = [st for st in statements if statement_matches(st, action, resource)]
    if any(st.get("Effect") == "Deny" for st in matching):
        return False
    return any(st.get("Effect", "Allow") == "Allow" for st in matching)


# --- the project, synthesised and resolved ---------------------------------------------------------


def synthesised(tmp_path: Path) -> Graph:
    root = write_project(tmp_path / "p", PROJECT, agents={a: "agent = 1\n" for a in AGENTS})
    return synthesize(
        load_project(root),
        "prod",
        target="aws",
        account=ACCOUNT,
        secret_value=lambda s: "v",
        fingerprint_key=b"k" * 32,
    )


def arn_of(g: Graph, address: str) -> str:
    """What the engine fills a policy's references with: the resource's real ARN."""
    props = g.resources[address].props
    kind = g.resources[address].type
    if kind == "aws.logs.log_group":
        return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{props['name']}"
    if kind == "aws.secretsmanager.secret":
        return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{props['name']}-AbC123"
    if kind == "aws.s3.bucket":
        return f"arn:aws:s3:::{props['name']}"
    if kind == "aws.dynamodb.table":
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{props['name']}"
    if kind == "aws.sqs.queue":
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{props['name']}"
    if kind == "aws.sns.topic":
        return f"arn:aws:sns:{REGION}:{ACCOUNT}:{props['name']}"
    if kind == "aws.ssm.parameter":
        return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{props['name']}"
    raise AssertionError(f"a policy references {address}, which has no ARN here")


def policies(g: Graph) -> dict[str, list[dict[str, Any]]]:
    def lookup(ref: Ref) -> str:
        assert ref.attr == "arn", ref
        return arn_of(g, ref.address)

    out = {}
    for agent in AGENTS:
        doc = resolve(g.resources[f"agent.{agent}.policy"].props["document"], lookup)
        out[agent] = doc["Statement"]
    return out


def targets(g: Graph) -> dict[tuple[str, str], set[str]]:
    """(action, resource ARN) → the agents that must be able to do it. Every other agent must not.
    Every resource of the graph with an ARN is probed with every action of its type."""
    t: dict[tuple[str, str], set[str]] = {}

    def probe(actions: set[str], arns: list[str], who: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        for action in actions:
            for arn in arns:
                t[(action, arn)] = set(who)

    tickets = arn_of(g, "resource.tickets.table")
    probe(TABLE_READ | TABLE_WRITE | TABLE_ADMIN, [tickets, f"{tickets}/index/by-date"])
    probe(TABLE_READ, [tickets, f"{tickets}/index/by-date"], {"reader"})  # read only
    other_table = arn_of(g, "resource.unlinked-table.table")
    probe(TABLE_READ | TABLE_WRITE | TABLE_ADMIN, [other_table, f"{other_table}/index/by-date"])

    jobs = arn_of(g, "resource.jobs.queue")
    probe(QUEUE_READ | QUEUE_WRITE | QUEUE_ADMIN, [jobs])
    probe(QUEUE_WRITE, [jobs], {"writer"})  # write only: it cannot consume

    docs = arn_of(g, "resource.docs.bucket")
    objects = [f"{docs}/notes.txt", f"{docs}/sessions/x"]
    probe(OBJECT_READ | OBJECT_WRITE | OBJECT_ADMIN, objects)
    probe(BUCKET_READ | BUCKET_ADMIN, [docs])
    probe(OBJECT_READ, objects, {"writer", "keeper"})  # readwrite and read
    probe(OBJECT_WRITE, objects, {"writer"})
    probe(BUCKET_READ, [docs], {"writer", "keeper"})

    sessions = arn_of(g, "shared.sessions")
    own, others = [f"{sessions}/reader/s1.json"], [f"{sessions}/writer/s1.json", f"{sessions}/x.json"]
    probe(OBJECT_READ | OBJECT_WRITE | OBJECT_ADMIN, own + others)
    probe(OBJECT_READ | OBJECT_WRITE, own, {"reader"})  # its own prefix only
    probe(BUCKET_READ | BUCKET_ADMIN, [sessions])
    probe(BUCKET_READ, [sessions], {"reader"})  # with the prefix condition, checked separately

    secret = arn_of(g, "resource.api-key.secret")
    probe(SECRET_READ | SECRET_WRITE | SECRET_ADMIN, [secret])
    probe(SECRET_READ | SECRET_WRITE, [secret], {"keeper"})  # linked to keeper only

    probe(TOPIC_ALL, [arn_of(g, "resource.unlinked-topic.topic")])
    probe(PARAMETER_ALL, [arn_of(g, "resource.unlinked-param.parameter")])

    for agent in AGENTS:
        group = arn_of(g, f"agent.{agent}.logs")
        probe(LOGS_WRITE | LOGS_ADMIN, [group, f"{group}:log-stream:2024/01/01/abc"])
        probe(LOGS_WRITE, [group, f"{group}:log-stream:2024/01/01/abc"], {agent})

    for arn, who in MODEL_TARGETS.items():
        probe(INVOKE | MODEL_ADMIN, [arn])
        probe(INVOKE, [arn], who)
    return t


def test_no_agent_reaches_what_it_is_not_linked_to(tmp_path: Path) -> None:
    g = synthesised(tmp_path)
    docs = policies(g)
    wrong = []
    for (action, arn), who in sorted(targets(g).items()):
        for agent in AGENTS:
            if allowed(docs[agent], action, arn) != (agent in who):
                wrong.append(f"{agent} {'can' if agent not in who else 'cannot'} {action} on {arn}")
    assert not wrong, "\n".join(wrong)


def test_read_links_cannot_write(tmp_path: Path) -> None:
    g = synthesised(tmp_path)
    docs = policies(g)
    tickets = arn_of(g, "resource.tickets.table")
    docs_bucket = arn_of(g, "resource.docs.bucket")
    assert allowed(docs["reader"], "dynamodb:GetItem", tickets)
    for action in TABLE_WRITE - {"dynamodb:DescribeTable"}:
        assert not allowed(docs["reader"], action, tickets)
        assert not allowed(docs["reader"], action.lower(), tickets)  # case does not open a door
    assert allowed(docs["keeper"], "s3:GetObject", f"{docs_bucket}/a")
    assert not allowed(docs["keeper"], "s3:PutObject", f"{docs_bucket}/a")
    assert not allowed(docs["writer"], "sqs:ReceiveMessage", arn_of(g, "resource.jobs.queue"))


def test_no_wildcard_action_and_only_the_allowed_wildcard_resources(tmp_path: Path) -> None:
    g = synthesised(tmp_path)
    linked_data = {
        arn_of(g, a)
        for a in ("resource.tickets.table", "resource.docs.bucket", "shared.sessions", "resource.jobs.queue")
    }
    for agent, statements in policies(g).items():
        group = arn_of(g, f"agent.{agent}.logs")
        for st in statements:
            assert st["Effect"] == "Allow" and "NotAction" not in st and "NotResource" not in st, st
            for action in as_list(st["Action"]):
                assert "*" not in action and "?" not in action, (agent, st)
            for resource in as_list(st["Resource"]):
                if "*" not in resource and "?" not in resource:
                    continue
                allowed_wildcard = (
                    resource == f"{group}:*"  # its log streams
                    or (
                        resource.endswith("/*") and resource[:-2] in linked_data
                    )  # objects of a linked bucket
                    or (resource.endswith("/index/*") and resource[: -len("/index/*")] in linked_data)
                    or (
                        resource.startswith(arn_of(g, "shared.sessions") + f"/{agent}/")
                        and resource.endswith("/*")
                    )
                    or resource == fm("*", SONNET46)  # the declared global model, any region
                )
                assert allowed_wildcard, (agent, resource)
                assert resource != "*"
            if st.get("Sid") == "Models":  # only the agent's declared model, as profile or model
                model = DECLARED[agent]
                base = model.split(".", 1)[1] if model.startswith(("eu.", "global.")) else model
                for resource in as_list(st["Resource"]):
                    _, _, service, region, account, name = resource.split(":", 5)
                    assert service == "bedrock" and account in ("", ACCOUNT), resource
                    assert name in (f"inference-profile/{model}", f"foundation-model/{base}"), resource
                    assert region != "*" or model.startswith("global."), resource


def test_the_sessions_list_condition_is_the_agents_own_prefix(tmp_path: Path) -> None:
    g = synthesised(tmp_path)
    for agent, statements in policies(g).items():
        with_conditions = [st for st in statements if "Condition" in st]
        if agent != "reader":
            assert with_conditions == []
            continue
        [st] = with_conditions  # the evaluator may ignore conditions only because there is this one
        assert st["Action"] == ["s3:ListBucket"] and st["Resource"] == [arn_of(g, "shared.sessions")]
        assert st["Condition"] == {"StringLike": {"s3:prefix": ["reader/*"]}}


def test_each_agent_policy_is_attached_to_its_own_role(tmp_path: Path) -> None:
    g = synthesised(tmp_path)
    roles = set()
    for agent in AGENTS:
        role = f"agent.{agent}.role"
        assert g.resources[role].type == "aws.iam.role"
        assert g.resources[f"agent.{agent}.policy"].props["role_name"] == Ref(role, "name")
        assert g.resources[f"agent.{agent}.function"].props["role_arn"] == Ref(role, "arn")
        roles.add(g.resources[role].props["name"])
    assert len(roles) == 3 and "shared.execution-role" not in g.resources
    policies_on = [r.props["role_name"] for r in g if r.type == "aws.iam.role_policy"]
    assert len(policies_on) == len(set(policies_on)) == 3  # one policy per role, no other
