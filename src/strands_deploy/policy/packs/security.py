"""The `security` pack: who can reach an agent, what it may do, where its secrets are."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from importlib import resources

from strands_deploy.config.loader import is_every_resource
from strands_deploy.policy.model import AgentSubject, Context, ResourceSubject, Severity, Violation
from strands_deploy.policy.packs._util import agent_config, as_list, entropy, function_props, statements
from strands_deploy.policy.registry import rule
from strands_deploy.synth.models import DEFAULT_MODEL_ID, models_statement

PACK = "security"
# actions AWS only grants on every resource ("*"): not a wildcard by choice
STAR_ONLY_ACTIONS = frozenset({"xray:puttracesegments", "xray:puttelemetryrecords", "xray:getsamplingrules"})
SECRET_NAME_RE = re.compile(
    r"(^|_)(KEY|API_?KEY|ACCESS_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|CREDENTIALS?|PRIVATE_?KEY)$", re.I
)
HIGH_ENTROPY_BITS = 3.5  # bits per character: random keys and tokens are above, words below
HIGH_ENTROPY_MIN_LEN = 20
NOT_SECRET_RE = re.compile(r"^([a-z][a-z0-9+.-]*://[^@\s]*$|arn:|/)", re.I)
DEPRECATION_NOTICE_DAYS = 180


@rule(
    "SEC-001",
    "error",
    "IAM policy grants wildcard actions or every resource",
    pack=PACK,
    types=("aws.iam.role_policy",),
    rationale="An execution role that may do anything, or act on every resource, turns a prompt "
    "injection or a bug in a tool into account-wide damage. Least privilege limits the blast radius.",
    fix="Grant named actions on named resources in `permissions:` (use `link:` for project "
    "resources); if a wildcard is truly needed set `allow_wildcards: true` with `wildcards_reason:`.",
    mappings={
        "fsbp": ["IAM.1", "IAM.21"],
        "cis": ["1.16"],
        "nist": ["AC-6", "AC-3"],
        "soc2": ["CC6.1", "CC6.3"],
    },
)
def wildcard_iam(res: ResourceSubject, ctx: Context) -> Iterator[Violation]:
    cfg = agent_config(ctx, res.agent)
    accepted = cfg is not None and cfg.allow_wildcards and bool(cfg.wildcards_reason)
    for st in statements(res.props.get("document")):
        if st.get("Effect") != "Allow":
            continue
        sid = st.get("Sid") or "(no Sid)"
        actions = as_list(st.get("Action"))
        if "NotAction" in st or "NotResource" in st:
            yield Violation(f"statement {sid} uses NotAction/NotResource", json.dumps(st, default=str))
            continue
        wild = [a for a in actions if a == "*" or a.endswith(":*")]
        every = [r for r in as_list(st.get("Resource")) if is_every_resource(r)]
        if every and all(a.lower() in STAR_ONLY_ACTIONS for a in actions):
            every = []
        if wild or every:
            what = ", ".join([*(f"action {a}" for a in wild), *(f"resource {r}" for r in every)])
            severity: Severity | None = "warning" if accepted else None
            note = f" (accepted: {cfg.wildcards_reason})" if accepted and cfg else ""
            yield Violation(f"statement {sid} allows {what}{note}", f"Action={actions}", severity)


@rule(
    "SEC-002",
    "error",
    "Model access wider than the declared models",
    pack=PACK,
    subject="agent",
    rationale="An agent that may invoke any model can be steered to expensive or unapproved models; "
    "its role should allow exactly the models it declares in `model:`.",
    fix="Remove bedrock:InvokeModel* grants from `permissions:` and declare the models in `model:`.",
    mappings={"nist": ["AC-6"], "soc2": ["CC6.1"]},
)
def model_access(agent: AgentSubject, ctx: Context) -> Iterator[Violation]:
    declared = models_statement(agent.config.models, ctx.region, ctx.account or "000000000000")
    allowed = set(as_list(declared["Resource"]))
    for st in statements(agent.props("policy").get("document")):
        if st.get("Effect") != "Allow":
            continue
        invokes = [
            a for a in as_list(st.get("Action")) if re.fullmatch(r"(bedrock:(invoke|\*).*|\*)", a, re.I)
        ]
        if not invokes:
            continue
        extra = [r for r in as_list(st.get("Resource")) if r not in allowed]
        if extra:
            models = ", ".join(agent.config.models or [DEFAULT_MODEL_ID])
            yield Violation(
                f"statement {st.get('Sid') or '(no Sid)'} lets it invoke {', '.join(extra)} beyond its models ({models})",
                f"Action={invokes}",
            )


@rule(
    "SEC-003",
    "warning",
    "Public endpoint without authentication",
    pack=PACK,
    subject="agent",
    rationale="`auth: none` on AWS lets anyone on the internet invoke the agent: read what it can "
    "read, call its tools, spend the model budget.",
    fix="Use `auth: iam` or `auth: jwt`; keep `auth: none` only for agents meant to be public "
    "(then suppress this rule with the reason).",
    mappings={"fsbp": ["Lambda.1"], "nist": ["AC-3", "SC-7"], "soc2": ["CC6.1", "CC6.6"]},
)
def public_without_auth(agent: AgentSubject) -> Violation | None:
    if not agent.public:
        return None
    return Violation(f"agent {agent.name!r} is public", f"expose: {agent.config.expose}, auth: none")


@rule(
    "SEC-004",
    "error",
    "Public endpoint without a concurrency cap",
    pack=PACK,
    subject="agent",
    rationale="Without reserved concurrency a public endpoint can be made to run thousands of "
    "copies at once: cost without bound, and the account's concurrency taken from other functions.",
    fix="Set `reserved_concurrency:` on the agent (or `defaults.public_concurrency`).",
    mappings={"nist": ["SC-5"], "soc2": ["A1.1"]},
)
def public_without_cap(agent: AgentSubject) -> Violation | None:
    if not agent.public or function_props(agent).get("reserved_concurrency") is not None:
        return None
    return Violation(f"public agent {agent.name!r} has no reserved concurrency", "reserved_concurrency: none")


@rule(
    "SEC-005",
    "error",
    "Unencrypted storage",
    pack=PACK,
    types=("aws.ssm.parameter", "aws.s3.bucket"),
    rationale="Data at rest must be encrypted so that storage media, snapshots and backups do not "
    "disclose it.",
    fix="Keep `secure: true` on parameters (SecureString); buckets are created with default "
    "encryption: a live bucket without it was changed outside strands-deploy (deploy restores it).",
    mappings={"fsbp": ["S3.4", "SSM.1"], "cis": ["2.1.1"], "nist": ["SC-28"], "soc2": ["CC6.1", "CC6.7"]},
)
def unencrypted(res: ResourceSubject) -> Violation | None:
    if res.type == "aws.ssm.parameter" and res.props.get("secure") is False:
        return Violation(f"parameter {res.props.get('name')} is a plain String", "secure: false")
    observed = (res.live or {}).get("observed") or {}
    if res.type == "aws.s3.bucket" and "encryption" in observed and not observed["encryption"]:
        return Violation(
            f"bucket {res.props.get('name')} has no default encryption (live)", "encryption: none"
        )
    return None


@rule(
    "SEC-006",
    "error",
    "Bucket without public-access block or TLS-only policy",
    pack=PACK,
    types=("aws.s3.bucket",),
    rationale="A bucket must refuse public access and plain-HTTP requests; the aws.s3.bucket "
    "provider applies both on every create and update, so this checks what is recorded live.",
    fix="Run `strands-deploy deploy`: it restores the public-access block and the TLS-only policy.",
    mappings={
        "fsbp": ["S3.1", "S3.5", "S3.8"],
        "cis": ["2.1.1", "2.1.4"],
        "nist": ["AC-3", "SC-8"],
        "soc2": ["CC6.6", "CC6.7"],
    },
)
def bucket_exposure(res: ResourceSubject) -> Violation | None:
    observed = (res.live or {}).get("observed") or {}
    missing = [k for k in ("public_access_block", "tls_only") if k in observed and not observed[k]]
    if missing:
        return Violation(f"bucket {res.props.get('name')} lacks {' and '.join(missing)} (live)", str(missing))
    return None


@rule(
    "SEC-007",
    "error",
    "Secret passed as a plain environment variable",
    pack=PACK,
    subject="agent",
    rationale="Environment variables are visible to anyone who can read the function's "
    "configuration, and end up in plans, state and logs. Secrets belong in Secrets Manager.",
    fix="Declare a `secret` resource (`from_env:` or `from_file:`) and `link:` it to the agent.",
    mappings={"nist": ["IA-5(7)", "SC-28"], "soc2": ["CC6.1"]},
)
def plain_secrets(agent: AgentSubject) -> Iterator[Violation]:
    for name, value in sorted(agent.config.environment.items()):
        if "${" in value:
            continue  # a reference to a resource's output, not a literal
        if NOT_SECRET_RE.match(value):
            continue  # a URL, an ARN or a path: long and varied, but not a key
        if SECRET_NAME_RE.search(name):
            yield Violation(
                f"environment variable {name} looks like a secret (by its name)", f"{name}=<redacted>"
            )
        elif len(value) >= HIGH_ENTROPY_MIN_LEN and " " not in value and entropy(value) >= HIGH_ENTROPY_BITS:
            yield Violation(
                f"environment variable {name} holds a high-entropy value (a key or token?)",
                f"{name}=<redacted, {len(value)} characters, {entropy(value):.1f} bits/char>",
            )


def deprecations() -> dict[str, dt.date]:
    text = resources.files("strands_deploy.policy").joinpath("data/runtimes.json").read_text()
    return {k: dt.date.fromisoformat(v) for k, v in json.loads(text).items() if not k.startswith("_")}


@rule(
    "SEC-008",
    "error",
    "Deprecated runtime",
    pack=PACK,
    types=("aws.lambda.function",),
    rationale="A deprecated runtime gets no security patches, and Lambda eventually refuses to "
    "create or update functions on it.",
    fix="Set `runtime:` (or `defaults.runtime`) to a supported Python version, e.g. python3.12.",
    mappings={"fsbp": ["Lambda.2"], "nist": ["SI-2", "SA-22"], "soc2": ["CC7.1"]},
)
def deprecated_runtime(res: ResourceSubject, ctx: Context) -> Violation | None:
    runtime = str(res.props.get("runtime"))
    ends = deprecations().get(runtime)
    today = ctx.today or dt.date.today()
    if ends is None:
        return None
    if ends <= today:
        return Violation(f"{runtime} was deprecated on {ends}", f"runtime: {runtime}")
    if (ends - today).days <= DEPRECATION_NOTICE_DAYS:
        return Violation(f"{runtime} is deprecated on {ends}", f"runtime: {runtime}", "warning")
    return None


@rule(
    "SEC-009",
    "warning",
    "Execution role shared across agents",
    pack=PACK,
    subject="agent",
    rationale="Agents on the shared role can use every link and permission of the others: one "
    "compromised agent reaches the data of all.",
    fix="Remove `role: shared` so the agent gets its own least-privilege role.",
    mappings={"nist": ["AC-6", "AC-5"], "soc2": ["CC6.3"]},
)
def shared_role(agent: AgentSubject) -> Violation | None:
    if agent.config.role != "shared":
        return None
    return Violation(f"agent {agent.name!r} uses the project's shared execution role", "role: shared")


@rule(
    "SEC-010",
    "warning",
    "Tracing off in production",
    pack=PACK,
    subject="agent",
    rationale="Without traces an incident in production cannot be reconstructed: which tools ran, "
    "which calls failed, how long each step took.",
    fix="Set `tracing: true` on the agent (X-Ray active tracing).",
    mappings={"fsbp": ["Lambda.7"], "nist": ["AU-2", "AU-12"], "soc2": ["CC7.2"]},
)
def tracing_in_production(agent: AgentSubject, ctx: Context) -> Violation | None:
    if not ctx.production or agent.config.tracing:
        return None
    return Violation(f"agent {agent.name!r} has tracing off on {ctx.env_name!r}", "tracing: false")


@rule(
    "SEC-011",
    "warning",
    "Static analysis finding in the agent's code (Bandit)",
    pack=PACK,
    subject="agent",
    rationale="Bandit finds common security problems in Python code: shell injection, unsafe "
    "deserialisation, hard-coded passwords, requests without timeouts or TLS checks.",
    fix="Fix the code at the line shown, or mark a reviewed false positive with `# nosec BXXX`.",
    mappings={"nist": ["SA-11", "RA-5"], "soc2": ["CC7.1", "CC8.1"]},
)
def code_scan(agent: AgentSubject) -> Iterator[Violation]:
    from strands_deploy.policy.scan import bandit_issues

    for issue in bandit_issues(agent.folder):
        if issue.severity == "LOW":
            continue
        severity: Severity | None = (
            "error" if issue.severity == "HIGH" and issue.confidence == "HIGH" else None
        )
        yield Violation(
            f"{issue.test_id} {issue.text}",
            f"{agent.config.path}/{issue.file}:{issue.line} (severity {issue.severity}, confidence {issue.confidence})",
            severity,
        )
