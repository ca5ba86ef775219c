"""IAM in the local cloud: each function's calls are checked against the function's role.

Three parts, the first two pure (no moto, no server; see tests/unit/test_local_iam.py):

* :func:`evaluate` - identity-based policy evaluation with IAM's semantics: an explicit ``Deny``
  wins, then an ``Allow``, else the implicit deny; ``Action``/``NotAction``,
  ``Resource``/``NotResource``; ``*`` and ``?`` wildcards (case-insensitive for actions,
  case-sensitive for resources); the condition operators strands-deploy's policies use
  (``String*``, ``Arn*``, ``Bool``, ``Null``, with ``...IfExists`` and ``ForAnyValue:`` /
  ``ForAllValues:``). A condition on a key this module does not know (:data:`KNOWN_KEYS`) makes
  its statement not apply (logged once per key).
* :func:`checks_for` - what a request asks for: the IAM action(s) and resource ARN(s) of a
  DynamoDB, S3, SQS, SNS, Secrets Manager, SSM, Bedrock Runtime or Lambda ``Invoke`` call.
  Other services, and operations of these the mapping does not know, are not checked.
* credentials (:func:`issue`, :func:`caller_for`): each function worker signs with an access key
  id the local cloud issued for that function (kept in this process's memory, so only the server
  that spawned the worker knows it); the server maps it back to the function, and so to its role.
  Any other key (the CLI, tests, the user's scripts) is the account's admin, as before.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree

log = logging.getLogger("strands_deploy.local.iam")

KEY_PREFIX = "ASIA"  # AWS's prefix for temporary (role session) access keys
SECRET_ACCESS_KEY = "strands-local-role-secret"  # not checked: the key id is what identifies
SESSION_TOKEN = "strands-local-role-session"

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "allow", "explicit_deny", "implicit_deny"


# -- credentials -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    """Who signed with an issued key: a function (its version) in an account and region."""

    account: str
    region: str
    function_name: str
    version: str


_lock = threading.Lock()
_by_key: dict[str, Caller] = {}
_by_caller: dict[Caller, str] = {}


def issue(account: str, region: str, function_name: str, version: str) -> dict[str, str]:
    """The credentials (environment variables) a worker of this function signs with."""
    caller = Caller(account, region, function_name, version)
    with _lock:
        key = _by_caller.get(caller)
        if key is None:
            key = KEY_PREFIX + secrets.token_hex(8).upper()
            _by_caller[caller] = key
            _by_key[key] = caller
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
    }


def caller_for(access_key: str | None) -> Caller | None:
    """The function an access key was issued to, or None (not one of ours: not checked)."""
    if not access_key:
        return None
    with _lock:
        return _by_key.get(access_key)


# -- evaluation ------------------------------------------------------------------------------------
# condition keys the request context can carry; a condition on any other key makes its statement
# not apply (rather than guessing), logged once per key
KNOWN_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:securetransport",
        "aws:requestedregion",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:userid",
        "s3:prefix",
        "s3:delimiter",
        "bedrock:inferenceprofilearn",
    }
)
_warned: set[str] = set()


def _warn_once(what: str) -> None:
    with _lock:
        if what in _warned:
            return
        _warned.add(what)
    log.warning("IAM: %s; the statement using it does not apply in the local cloud", what)


_PATTERNS: dict[tuple[str, bool], re.Pattern[str]] = {}


def wildcard_match(pattern: str, value: str, *, case: bool) -> bool:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one character, nothing else special."""
    cached = _PATTERNS.get((pattern, case))
    if cached is None:
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        cached = re.compile(f"^{regex}$", re.DOTALL if case else re.DOTALL | re.IGNORECASE)
        _PATTERNS[(pattern, case)] = cached
    return cached.match(value) is not None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _string_match(op: str, pattern: str, value: str) -> bool:
    if op in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        return pattern == value if op.startswith("String") else wildcard_match(pattern, value, case=True)
    if op in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return pattern.lower() == value.lower()
    if op in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
        return wildcard_match(pattern, value, case=True)
    if op == "Bool":
        return pattern.lower() == value.lower()
    raise KeyError(op)


_NEGATED = frozenset(
    {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
)
_OPERATORS = _NEGATED | {
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "ArnEquals",
    "ArnLike",
    "Bool",
}


def _condition_holds(
    operator: str, key: str, patterns: list[Any], context: Mapping[str, list[str]]
) -> bool | None:
    """True/False, or None if the operator or key is not supported (the statement does not apply)."""
    qualifier = ""
    op = operator
    if ":" in op:
        qualifier, op = op.split(":", 1)
        if qualifier not in ("ForAnyValue", "ForAllValues"):
            _warn_once(f"condition operator {operator!r} is not supported")
            return None
    if_exists = op.endswith("IfExists")
    if if_exists:
        op = op[: -len("IfExists")]
    lkey = key.lower()
    if lkey not in KNOWN_KEYS:
        _warn_once(f"condition key {key!r} is not supported")
        return None
    values = context.get(lkey)
    wanted = [str(p).lower() if isinstance(p, bool) else str(p) for p in patterns]
    if op == "Null":
        return (values is None) == (wanted[0].lower() == "true") if wanted else False
    if op not in _OPERATORS:
        _warn_once(f"condition operator {operator!r} is not supported")
        return None
    negated = op in _NEGATED
    if values is None:
        return if_exists or negated or qualifier == "ForAllValues"
    positive = op.replace("Not", "") if negated else op
    if qualifier == "ForAllValues":
        hits = all(any(_string_match(positive, p, v) for p in wanted) for v in values)
        return not hits if negated else hits
    hit = any(_string_match(positive, p, v) for p in wanted for v in values)
    return not hit if negated else hit


def _conditions_hold(conditions: Any, context: Mapping[str, list[str]]) -> bool | None:
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        return None
    for operator, block in conditions.items():
        if not isinstance(block, dict):
            return None
        for key, patterns in block.items():
            holds = _condition_holds(str(operator), str(key), _as_list(patterns), context)
            if holds is None:
                return None
            if not holds:
                return False
    return True


def _statement_applies(
    st: Mapping[str, Any], action: str, resource: str, context: Mapping[str, list[str]]
) -> bool:
    if "Action" in st:
        if not any(wildcard_match(str(a), action, case=False) for a in _as_list(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(wildcard_match(str(a), action, case=False) for a in _as_list(st["NotAction"])):
            return False
    else:
        return False
    if "Resource" in st:
        if not any(wildcard_match(str(r), resource, case=True) for r in _as_list(st["Resource"])):
            return False
    elif "NotResource" in st:
        if any(wildcard_match(str(r), resource, case=True) for r in _as_list(st["NotResource"])):
            return False
    else:
        return False
    return _conditions_hold(st.get("Condition"), context) is True


def statements_of(document: Any) -> list[dict[str, Any]]:
    """The statements of a policy document (a dict or its JSON text)."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(unquote(document) if isinstance(document, str) else document)
        except ValueError:
            return []
    if not isinstance(document, dict):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def evaluate(
    policies: Iterable[Any],
    action: str,
    resource: str,
    context: Mapping[str, str | list[str]] | None = None,
) -> str:
    """:data:`ALLOW`, :data:`EXPLICIT_DENY` or :data:`IMPLICIT_DENY` for ``action`` on ``resource``
    under identity-based ``policies`` (documents: dicts or JSON text). Context keys are
    case-insensitive; values are strings or lists of strings."""
    ctx = {k.lower(): [v] if isinstance(v, str) else list(v) for k, v in (context or {}).items()}
    allowed = False
    for document in policies:
        for st in statements_of(document):
            if not _statement_applies(st, action, resource, ctx):
                continue
            if st.get("Effect") == "Deny":
                return EXPLICIT_DENY
            if st.get("Effect") == "Allow":
                allowed = True
    return ALLOW if allowed else IMPLICIT_DENY


def denial_message(principal: str, action: str, resource: str, decision: str) -> str:
    """AWS's words for a refused call."""
    if decision == EXPLICIT_DENY:
        why = "with an explicit deny in an identity-based policy"
    else:
        why = f"because no identity-based policy allows the {action} action"
    return f"User: {principal} is not authorized to perform: {action} on resource: {resource} {why}"


# -- what a request asks for -----------------------------------------------------------------------
@dataclass
class Check:
    action: str
    resource: str
    context: dict[str, str | list[str]] = field(default_factory=dict)


@dataclass
class Request:
    """The parts of a signed request the mapping reads."""

    service: str  # the SigV4 scope's service: dynamodb, s3, sqs, ...
    method: str
    path: str  # unquoted PATH_INFO
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    host: str
    region: str
    account: str
    body: bytes = b""


# services whose checks need the request body (the server buffers it for these only)
BODY_SERVICES = frozenset({"dynamodb", "sqs", "sns", "secretsmanager", "ssm"})
SERVICES = BODY_SERVICES | {"s3", "bedrock", "bedrock-runtime", "lambda"}


def checks_for(req: Request, secret_arn: Callable[[str], str | None] | None = None) -> list[Check] | None:
    """The (action, resource) pairs ``req`` must be allowed, or None if it is not checked.
    ``secret_arn`` turns a secret name into its full ARN (with AWS's random suffix), if it exists."""
    handler = _HANDLERS.get(req.service)
    if handler is None:
        return None
    try:
        if req.service == "secretsmanager":
            return _secretsmanager(req, secret_arn)
        return handler(req)
    except (ValueError, KeyError, TypeError, AttributeError, ElementTree.ParseError):
        return None  # a malformed request: the service itself answers it


def _json_body(req: Request) -> dict[str, Any]:
    data = json.loads(req.body or b"{}")
    return data if isinstance(data, dict) else {}


def _target(req: Request) -> str:
    return req.headers.get("x-amz-target", "").rsplit(".", 1)[-1]


def _form(req: Request) -> dict[str, str]:
    """Query-protocol parameters: the form body and the query string."""
    out = {k: v[0] for k, v in req.query.items() if v}
    if req.body and req.method == "POST":
        out.update({k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items() if v})
    return out


# DynamoDB -----------------------------------------------------------------------------------------
_DDB_ITEM_OPS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _dynamodb(req: Request) -> list[Check] | None:
    if not req.headers.get("x-amz-target", "").startswith("DynamoDB_"):
        return None  # DynamoDB Streams and others: not checked
    op = _target(req)
    body = _json_body(req)
    base = f"arn:aws:dynamodb:{req.region}:{req.account}:table/"

    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else base + name
        return f"{arn}/index/{index}" if index else arn

    if op in ("BatchGetItem", "BatchWriteItem"):
        return [Check(f"dynamodb:{op}", table(t)) for t in body.get("RequestItems") or {}]
    if op == "TransactGetItems":
        return [
            Check("dynamodb:GetItem", table(i["Get"]["TableName"])) for i in body.get("TransactItems") or []
        ]
    if op == "TransactWriteItems":
        out = []
        for item in body.get("TransactItems") or []:
            for kind, spec in item.items():
                if kind in _DDB_ITEM_OPS:
                    out.append(Check(f"dynamodb:{_DDB_ITEM_OPS[kind]}", table(spec["TableName"])))
        return out
    if "TableName" in body:
        return [Check(f"dynamodb:{op}", table(str(body["TableName"]), body.get("IndexName")))]
    if op in ("ListTables", "DescribeLimits", "DescribeEndpoints"):
        return [Check(f"dynamodb:{op}", "*")]
    return None  # PartiQL and the like: not checked


# S3 -----------------------------------------------------------------------------------------------
def _s3_bucket_key(req: Request) -> tuple[str, str]:
    host = req.host.lower().rsplit(":", 1)[0] if not req.host.startswith("[") else req.host.lower()
    if host.endswith(".localhost"):  # virtual-host style: <bucket>.localhost
        return host[: -len(".localhost")], req.path.lstrip("/")
    bucket, _, key = req.path.lstrip("/").partition("/")
    return bucket, key


_LIST_PARAMS = frozenset(
    {
        "prefix",
        "delimiter",
        "marker",
        "max-keys",
        "encoding-type",
        "continuation-token",
        "start-after",
        "fetch-owner",
        "list-type",
    }
)


def _s3(req: Request) -> list[Check] | None:
    bucket, key = _s3_bucket_key(req)
    q = req.query
    m = req.method
    if not bucket:
        return [Check("s3:ListAllMyBuckets", "*")] if m == "GET" else None
    bucket_arn = f"arn:aws:s3:::{bucket}"
    obj = f"{bucket_arn}/{key}"
    if key:
        if "tagging" in q:
            verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(m)
            return [Check(f"s3:{verb}ObjectTagging", obj)] if verb else None
        if "acl" in q or "retention" in q or "legal-hold" in q or "attributes" in q:
            return None
        if m in ("GET", "HEAD"):
            if "uploadId" in q:
                return [Check("s3:ListMultipartUploadParts", obj)]
            return [Check("s3:GetObjectVersion" if "versionId" in q else "s3:GetObject", obj)]
        if m in ("PUT", "POST"):
            if m == "POST" and "uploadId" not in q and "uploads" not in q:
                return None  # restore / select: not checked
            checks = [Check("s3:PutObject", obj)]
            source = req.headers.get("x-amz-copy-source")
            if source and m == "PUT":
                src = unquote(source.split("?", 1)[0]).lstrip("/")
                action = "s3:GetObjectVersion" if "versionId=" in source else "s3:GetObject"
                checks.append(Check(action, f"arn:aws:s3:::{src}"))
            return checks
        if m == "DELETE":
            if "uploadId" in q:
                return [Check("s3:AbortMultipartUpload", obj)]
            return [Check("s3:DeleteObjectVersion" if "versionId" in q else "s3:DeleteObject", obj)]
        return None
    if m == "POST" and "delete" in q:  # DeleteObjects: DeleteObject on each key
        root = ElementTree.fromstring(req.body or b"<Delete/>")
        keys = [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Key"]
        return [Check("s3:DeleteObject", f"{bucket_arn}/{k}") for k in keys]
    if m in ("GET", "HEAD"):
        bucket_ops = {
            "versions": "s3:ListBucketVersions",
            "uploads": "s3:ListBucketMultipartUploads",
            "location": "s3:GetBucketLocation",
        }
        for sub, action in bucket_ops.items():
            if sub in q:
                return [Check(action, bucket_arn)]
        if m == "HEAD" or set(q) <= _LIST_PARAMS:
            context: dict[str, str | list[str]] = {}
            if "prefix" in q:
                context["s3:prefix"] = q["prefix"][0]
            if "delimiter" in q:
                context["s3:delimiter"] = q["delimiter"][0]
            return [Check("s3:ListBucket", bucket_arn, context)]
    return None  # bucket configuration: not checked


# SQS ----------------------------------------------------------------------------------------------
_SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def _queue_arn(url: str, req: Request) -> str:
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 2:
        return f"arn:aws:sqs:{req.region}:{parts[-2]}:{parts[-1]}"
    return f"arn:aws:sqs:{req.region}:{req.account}:{parts[-1] if parts else url}"


def _sqs(req: Request) -> list[Check] | None:
    if req.headers.get("x-amz-target", "").startswith("AmazonSQS."):
        op = _target(req)
        params: dict[str, Any] = _json_body(req)
    else:
        params = dict(_form(req))
        op = str(params.get("Action", ""))
    if not op:
        return None
    action = f"sqs:{_SQS_BATCH.get(op, op)}"
    if params.get("QueueUrl"):
        return [Check(action, _queue_arn(str(params["QueueUrl"]), req))]
    if req.path.strip("/") and not req.path.startswith("/?"):  # query protocol: the queue URL is the path
        parts = [p for p in req.path.split("/") if p]
        if len(parts) >= 2:
            return [Check(action, f"arn:aws:sqs:{req.region}:{parts[-2]}:{parts[-1]}")]
    if params.get("QueueName"):
        owner = str(params.get("QueueOwnerAWSAccountId") or req.account)
        return [Check(action, f"arn:aws:sqs:{req.region}:{owner}:{params['QueueName']}")]
    if op == "ListQueues":
        return [Check(action, "*")]
    return None


# SNS ----------------------------------------------------------------------------------------------
def _sns(req: Request) -> list[Check] | None:
    params = _form(req)
    op = params.get("Action", "")
    if not op:
        return None
    action = "sns:Publish" if op == "PublishBatch" else f"sns:{op}"
    arn = params.get("TopicArn") or params.get("TargetArn")
    if arn:
        return [Check(action, arn)]
    if op == "Publish" and params.get("PhoneNumber"):
        return [Check(action, "*")]
    if op in ("ListTopics", "ListSubscriptions"):
        return [Check(action, "*")]
    return None


# Secrets Manager ----------------------------------------------------------------------------------
def _secretsmanager(req: Request, secret_arn: Callable[[str], str | None] | None) -> list[Check] | None:
    op = _target(req)
    if not op:
        return None
    body = _json_body(req)
    action = f"secretsmanager:{op}"
    secret_id = body.get("SecretId") or body.get("Name")
    if secret_id:
        sid = str(secret_id)
        if sid.startswith("arn:"):
            return [Check(action, sid)]
        full = secret_arn(sid) if secret_arn else None
        return [Check(action, full or f"arn:aws:secretsmanager:{req.region}:{req.account}:secret:{sid}")]
    if op in ("ListSecrets", "GetRandomPassword", "BatchGetSecretValue"):
        return [Check(action, "*")]
    return None


# SSM ----------------------------------------------------------------------------------------------
def _parameter_arn(name: str, req: Request) -> str:
    if name.startswith("arn:"):
        return name
    name = name.split(":", 1)[0]  # a version or label selector: name:3
    return f"arn:aws:ssm:{req.region}:{req.account}:parameter/{name.lstrip('/')}"


def _ssm(req: Request) -> list[Check] | None:
    op = _target(req)
    if not req.headers.get("x-amz-target", "").startswith("AmazonSSM.") or not op:
        return None
    body = _json_body(req)
    action = f"ssm:{op}"
    if "Name" in body:
        return [Check(action, _parameter_arn(str(body["Name"]), req))]
    if "Names" in body:
        return [Check(action, _parameter_arn(str(n), req)) for n in body["Names"]]
    if "Path" in body:
        return [Check(action, _parameter_arn(str(body["Path"]), req))]
    if op == "DescribeParameters":
        return [Check(action, "*")]
    return None


# Bedrock Runtime ----------------------------------------------------------------------------------
BEDROCK_PATH = re.compile(
    r"^/model/(?P<model>.+)/(?P<op>converse|converse-stream|invoke|invoke-with-response-stream)/?$"
)
_BEDROCK_ACTIONS = {
    "converse": "bedrock:InvokeModel",
    "invoke": "bedrock:InvokeModel",
    "converse-stream": "bedrock:InvokeModelWithResponseStream",
    "invoke-with-response-stream": "bedrock:InvokeModelWithResponseStream",
}
_PROFILE_PREFIX = re.compile(r"^(us|eu|apac|us-gov|ca|jp|au|global)\.")


def model_arn(model: str, region: str, account: str) -> str:
    """The ARN a model id names: an inference profile (``eu.…``) or a foundation model."""
    if model.startswith("arn:"):
        return model
    if _PROFILE_PREFIX.match(model):
        return f"arn:aws:bedrock:{region}:{account}:inference-profile/{model}"
    return f"arn:aws:bedrock:{region}::foundation-model/{model}"


def _bedrock(req: Request) -> list[Check] | None:
    m = BEDROCK_PATH.match(req.path)
    if not m or req.method != "POST":
        return None
    return [Check(_BEDROCK_ACTIONS[m.group("op")], model_arn(m.group("model"), req.region, req.account))]


# Lambda -------------------------------------------------------------------------------------------
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>.+)/invocations/?$")


def function_arn(name: str, qualifier: str | None, region: str, account: str) -> str:
    if name.startswith("arn:"):
        base = name
    elif name.count(":") >= 2:  # partial ARN: ACCOUNT:function:NAME[:QUAL]
        base = f"arn:aws:lambda:{region}:{name}"
    else:
        base = f"arn:aws:lambda:{region}:{account}:function:{name}"
    if qualifier and base.count(":") == 6:
        base = f"{base}:{qualifier}"
    return base


def _lambda(req: Request) -> list[Check] | None:
    m = INVOKE_PATH.match(req.path)
    if not m or req.method != "POST":
        return None
    qualifier = next(iter(req.query.get("Qualifier") or []), None)
    return [Check("lambda:InvokeFunction", function_arn(m.group("name"), qualifier, req.region, req.account))]


_HANDLERS: dict[str, Callable[[Request], list[Check] | None]] = {
    "dynamodb": _dynamodb,
    "s3": _s3,
    "sqs": _sqs,
    "sns": _sns,
    "secretsmanager": lambda req: None,  # see checks_for (needs the name resolver)
    "ssm": _ssm,
    "bedrock": _bedrock,
    "bedrock-runtime": _bedrock,
    "lambda": _lambda,
}


def base_context(caller_arn: str, account: str, region: str) -> dict[str, str | list[str]]:
    """The global condition keys of a function's call."""
    return {
        "aws:SecureTransport": "true",  # the SDK talks HTTPS to AWS
        "aws:RequestedRegion": region,
        "aws:PrincipalArn": caller_arn,
        "aws:PrincipalAccount": account,
        "aws:PrincipalType": "AssumedRole",
    }


# -- the server's side: moto's IAM and the decision ------------------------------------------------
def role_policies(role_arn: str, account: str) -> list[Any]:
    """The role's inline policies and the default versions of its attached managed policies,
    read from moto's IAM backend (in this process). No role: no policies."""
    from moto.iam.models import iam_backends

    name = role_arn.rsplit("/", 1)[-1]
    try:
        backend = iam_backends[account]["aws"]
        role = backend.get_role(name)
    except Exception:
        return []
    docs: list[Any] = list(role.policies.values())
    for policy in list(role.managed_policies.values()):
        for version in getattr(policy, "versions", []):
            if getattr(version, "is_default", False):
                docs.append(version.document)
    return docs


def _function_role(caller: Caller) -> str | None:
    from moto.awslambda.models import lambda_backends

    try:
        backend = lambda_backends[caller.account][caller.region]
        qualifier = None if caller.version == "$LATEST" else caller.version
        return str(backend.get_function(caller.function_name, qualifier).role)
    except Exception:
        return None


def _secret_arn(account: str, region: str) -> Callable[[str], str | None]:
    def find(name: str) -> str | None:
        from moto.secretsmanager.models import secretsmanager_backends

        try:
            secret = secretsmanager_backends[account][region].secrets.get(name)
        except Exception:
            return None
        return str(secret.arn) if secret is not None and getattr(secret, "arn", None) else None

    return find


@dataclass
class Denial:
    action: str
    resource: str
    message: str


def authorize(caller: Caller, req: Request) -> Denial | None:
    """None if ``caller``'s role allows ``req`` (or it is not checked), else what was refused."""
    checks = checks_for(req, _secret_arn(caller.account, caller.region))
    if not checks:
        return None
    role_arn = _function_role(caller) or f"arn:aws:iam::{caller.account}:role/unknown"
    role_name = role_arn.rsplit("/", 1)[-1]
    principal = f"arn:aws:sts::{caller.account}:assumed-role/{role_name}/{caller.function_name}"
    policies = role_policies(role_arn, caller.account)
    base = base_context(role_arn, caller.account, req.region)
    for check in checks:
        decision = evaluate(policies, check.action, check.resource, {**base, **check.context})
        if decision != ALLOW:
            message = denial_message(principal, check.action, check.resource, decision)
            log.info("IAM refused: %s", message)
            return Denial(check.action, check.resource, message)
    return None
