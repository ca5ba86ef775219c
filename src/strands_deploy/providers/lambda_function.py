"""aws.lambda.function: the agent's function (code zip + dependency layers).

- Create retries while a just-created role cannot be assumed yet (IAM propagation, bounded), then
  waits for State=Active.
- Update sends only the calls whose inputs changed: ``update_function_code`` when the code hash
  or the architecture changed, ``update_function_configuration`` with only the changed settings,
  concurrency and tag calls; each code/configuration change is awaited (LastUpdateStatus).
- The code zip goes in the request up to ``direct_upload_limit`` bytes, through the artifacts
  bucket (``artifacts_bucket``) above it (see :func:`~strands_deploy.providers.lambda_layer.code_location`).
- The ``revision`` output is a hash of the code's SHA-256 and the live configuration, so it changes
  exactly when a published version would differ (the alias publishes on a change). Lambda's own
  RevisionId is not used: it also changes when a permission is added, which is not a new version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found, is_already_exists
from strands_deploy.aws.waiters import (
    IAM_PROPAGATION_SECONDS,
    retry_while,
    role_not_ready,
    role_or_update_pending,
    update_in_progress,
    wait_function_ready,
)
from strands_deploy.packaging.limits import DIRECT_UPLOAD_LIMIT
from strands_deploy.providers._common import owned, paginate, require, tag_changes
from strands_deploy.providers.base import (
    Created,
    Outputs,
    Props,
    PropsModel,
    Provider,
    ProviderContext,
    stable_hash,
)
from strands_deploy.providers.lambda_layer import code_location
from strands_deploy.providers.role_gate import overlapping_attempts


class CodeProps(PropsModel):
    path: str  # the agent folder, relative to the project
    hash: str  # content hash of the folder: a change means new code
    entry: str | None = None  # "agent.py:agent"


class FunctionProps(PropsModel):
    name: str
    role_arn: str
    runtime: str
    handler: str
    memory: int
    timeout: int
    architecture: str = "x86_64"
    environment: dict[str, str] = {}
    layers: list[str] = []
    code: CodeProps
    reserved_concurrency: int | None = None
    tracing: str = "PassThrough"
    dead_letter_arn: str | None = None
    logging_group: str | None = None  # None: Lambda's default /aws/lambda/<name>
    description: str = ""
    tags: dict[str, str] = {}
    # Only the access the configuration declares: resource-policy statements strands-deploy did not
    # add (on the function or its `live` alias) and event source mappings not on the `live` alias
    # are drift that widens access; deploy removes them.
    exclusive_access: bool = True
    # the environment's bucket for a code zip too large to send in the request (None: emulated,
    # or code known to be small)
    artifacts_bucket: str | None = None
    direct_upload_limit: int = DIRECT_UPLOAD_LIMIT  # bytes; tests lower it to exercise the bucket


# deploy's cheap check reads at most this many ListFunctions pages (50 functions each)
CHECK_PAGES = 4

# strands-deploy's own resource-policy statements (URL, HTTP API route, SNS) all start with this
OWN_SID_PREFIX = "strands-"
LIVE = "live"


# property → UpdateFunctionConfiguration parameter
CONFIG_PROPS = (
    "role_arn",
    "runtime",
    "handler",
    "memory",
    "timeout",
    "environment",
    "layers",
    "tracing",
    "dead_letter_arn",
    "logging_group",
    "description",
)


def _default_log_group(name: str) -> str:
    return f"/aws/lambda/{name}"


def _config_param(name: str, key: str, value: Any) -> tuple[str, Any]:
    """The API parameter (name, value) for one configuration property."""
    if key == "role_arn":
        return "Role", str(value)
    if key == "runtime":
        return "Runtime", str(value)
    if key == "handler":
        return "Handler", str(value)
    if key == "memory":
        return "MemorySize", int(value)
    if key == "timeout":
        return "Timeout", int(value)
    if key == "environment":
        return "Environment", {"Variables": {str(k): str(v) for k, v in (value or {}).items()}}
    if key == "layers":
        return "Layers", [str(v) for v in value or []]
    if key == "tracing":
        return "TracingConfig", {"Mode": str(value or "PassThrough")}
    if key == "dead_letter_arn":
        # An empty TargetArn removes the dead-letter queue.
        return "DeadLetterConfig", {"TargetArn": str(value or "")}
    if key == "logging_group":
        return "LoggingConfig", {"LogFormat": "Text", "LogGroup": str(value or _default_log_group(name))}
    if key == "description":
        return "Description", str(value or "")
    raise KeyError(key)


class FunctionProvider(Provider):
    type_name: ClassVar[str] = "aws.lambda.function"
    props_model: ClassVar[type[PropsModel]] = FunctionProps
    expected_seconds: ClassVar[float] = 3.0
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    # --- create -------------------------------------------------------------------------------

    def _zip(self, ctx: ProviderContext, address: str, p: FunctionProps) -> Path:
        from strands_deploy.packaging.build import build_code_zip

        ctx.progress(address, "packaging the code")
        return build_code_zip(ctx.project_dir, p.code.path, p.code.hash, ctx.cache_dir)

    def prepare(self, ctx: ProviderContext, address: str, props: Props) -> None:
        from strands_deploy.packaging.build import build_code_zip

        code = CodeProps.model_validate(props["code"])
        build_code_zip(ctx.project_dir, code.path, code.hash, ctx.cache_dir)

    def _code(self, ctx: ProviderContext, address: str, p: FunctionProps) -> dict[str, Any]:
        """The code zip as Lambda takes it: ``ZipFile`` bytes, or ``S3Bucket``/``S3Key``."""
        return code_location(
            ctx,
            address,
            self._zip(ctx, address, p),
            bucket=p.artifacts_bucket,
            limit=p.direct_upload_limit,
            kind="code",
        )

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = FunctionProps.parse(props, address)
        lam = ctx.client("lambda")
        name = p.name
        kwargs: dict[str, Any] = {
            "FunctionName": name,
            "Code": self._code(ctx, address, p),
            "Architectures": [p.architecture or "x86_64"],
            "Publish": False,
        }
        for key in CONFIG_PROPS:
            value = getattr(p, key)
            if key in ("dead_letter_arn", "environment", "layers", "description") and not value:
                continue
            param, api_value = _config_param(name, key, value)
            kwargs[param] = api_value
        if p.tags:  # in the create call itself: an interrupted create leaves a function `find` adopts
            kwargs["Tags"] = p.tags
        ctx.progress(address, "creating the function")
        conf = self._create_when_role_usable(
            ctx,
            address,
            p.role_arn,
            lambda: call(address, lam, "create_function", resource_name=name, **kwargs),
        )
        ready = wait_function_ready(ctx, address, name)
        if p.reserved_concurrency is not None:
            call(
                address,
                lam,
                "put_function_concurrency",
                FunctionName=name,
                ReservedConcurrentExecutions=p.reserved_concurrency,
            )
        # outputs from the last readiness poll (a GetFunction): no read-back on the critical path
        outputs = _config_outputs(ready or conf)
        outputs["observed"]["reserved_concurrency"] = p.reserved_concurrency
        outputs["observed"]["tags"] = dict(p.tags)
        return Created(name, outputs)

    def _create_when_role_usable(
        self, ctx: ProviderContext, address: str, role_arn: str, create: Callable[[], Any]
    ) -> dict[str, Any]:
        """CreateFunction through the role gate (role_gate.py): the probe makes overlapping
        attempts every ~0.25 s; the others wait for it and then go, retrying (slower) if their
        role is still not usable."""
        probe = ctx.role_gate.wait_turn(role_arn, ctx.sleep)
        usable = False
        note = "waiting for the execution role to become usable by Lambda (IAM propagation)"
        noted = False

        def refused(exc: BaseException) -> bool:
            nonlocal noted
            if not role_not_ready(exc):
                return False
            if not noted:
                ctx.progress(address, note)
                noted = True
            return True

        try:
            if probe:
                resp = overlapping_attempts(
                    create, refused, is_already_exists, sleep=ctx.sleep, timeout=IAM_PROPAGATION_SECONDS
                )
            else:
                resp = retry_while(ctx, address, "lambda:CreateFunction", create, role_not_ready, note=note)
            usable = True
            return dict(resp)
        finally:
            ctx.role_gate.done(role_arn, usable)

    # --- read ---------------------------------------------------------------------------------

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        return self._describe(ctx, address, physical_id, access=True)

    def _describe(
        self, ctx: ProviderContext, address: str, physical_id: str, *, access: bool
    ) -> Outputs | None:
        """The function as AWS has it. ``access``: also list grants made outside the tool (three
        more reads: a refresh does it, read-backs after our own calls do not)."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=3) as pool:
            # the grants are read at the same time as the function: four reads, one round trip
            grants = pool.submit(self._foreign_access, ctx, address, physical_id, pool) if access else None
            resp = call_or_none(address, ctx.client("lambda"), "get_function", FunctionName=physical_id)
            foreign = grants.result() if grants is not None else []
        if resp is None:
            return None
        conf = resp["Configuration"]
        out = _config_outputs(conf)
        observed = out["observed"]
        observed["reserved_concurrency"] = (resp.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
        observed["tags"] = {k: v for k, v in (resp.get("Tags") or {}).items() if not k.startswith("aws:")}
        if access:
            observed["exclusive_access"] = not foreign
            observed["foreign_access"] = [label for label, _ in foreign]
        return out

    def check_many(
        self, ctx: ProviderContext, items: list[tuple[str, str, Props]]
    ) -> dict[str, Outputs | None] | None:
        """Deploy's cheap check: ListFunctions pages (50 functions each) carry every function's
        configuration and code hash. Pages are read until every function asked for was seen, at
        most :data:`CHECK_PAGES` of them (an account with many other functions); the rest, and
        any function not listed, are read one by one (a function missing there is gone)."""
        wanted = {pid: address for address, pid, _ in items}
        found: dict[str, Outputs | None] = {}
        pages = paginate(
            items[0][0], ctx.client("lambda"), "list_functions", PaginationConfig={"PageSize": 50}
        )
        for n, page in enumerate(pages, start=1):
            for conf in page.get("Functions", []):
                address = wanted.get(conf.get("FunctionName", ""))
                if address is not None:
                    found[address] = _config_outputs(conf)
            if len(found) == len(wanted) or n >= CHECK_PAGES:
                break
        for address, pid, _ in items:
            if address not in found:
                found[address] = self._describe(ctx, address, pid, access=False)
        return found

    def _foreign_access(
        self, ctx: ProviderContext, address: str, name: str, pool: Any = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """(label, how to remove it) of each grant strands-deploy did not make: statements on the
        function's or the `live` alias's resource policy without our Sid prefix, and event source
        mappings on anything but the `live` alias (ours always target the alias). With a
        ``pool``, the two policies are read at once."""
        lam = ctx.client("lambda")
        out: list[tuple[str, dict[str, Any]]] = []
        targets = [{"FunctionName": name, **({"Qualifier": q} if q else {})} for q in (None, LIVE)]
        if pool is not None:
            live_policy = pool.submit(call_or_none, address, lam, "get_policy", **targets[1])
        policies = [
            call_or_none(address, lam, "get_policy", **targets[0]),
            live_policy.result()
            if pool is not None
            else call_or_none(address, lam, "get_policy", **targets[1]),
        ]
        for kwargs, policy in zip(targets, policies, strict=True):
            qualifier = kwargs.get("Qualifier")
            statements = json.loads(policy["Policy"]).get("Statement", []) if policy else []
            for st in statements:
                sid = str(st.get("Sid", ""))
                if not sid.startswith(OWN_SID_PREFIX):
                    where = qualifier or "$LATEST"
                    out.append(
                        (
                            f"permission {sid!r} on {where}",
                            {"remove_permission": {**kwargs, "StatementId": sid}},
                        )
                    )
        for page in paginate(address, lam, "list_event_source_mappings", missing_ok=True, FunctionName=name):
            for mapping in page.get("EventSourceMappings", []):
                if not str(mapping.get("FunctionArn", "")).endswith(f":function:{name}:{LIVE}"):
                    label = f"event source mapping {mapping['UUID']} from {mapping.get('EventSourceArn')}"
                    out.append((label, {"delete_event_source_mapping": {"UUID": mapping["UUID"]}}))
        return out

    def _remove_foreign_access(self, ctx: ProviderContext, address: str, name: str, arn: str) -> None:
        lam = ctx.client("lambda")
        for label, removal in self._foreign_access(ctx, address, name):
            ctx.progress(address, f"removing {label} (not in the configuration)")
            for method, kwargs in removal.items():
                ignore_not_found(address, lam, method, **kwargs)

    # --- update -------------------------------------------------------------------------------

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        before, after = FunctionProps.parse_recorded(old), FunctionProps.parse(new, address)
        lam = ctx.client("lambda")
        name = physical_id
        # (an adopted resource's recorded code is unknown, None: its code is sent)
        old_hash = before.code.hash if before.code is not None else None
        code_changed = old_hash != after.code.hash or before.architecture != after.architecture
        config: dict[str, Any] = {}
        for key in CONFIG_PROPS:
            if getattr(before, key) != getattr(after, key):
                param, value = _config_param(name, key, getattr(after, key))
                config[param] = value

        if code_changed or config:
            wait_function_ready(ctx, address, name)  # an earlier update may still be in progress
        if code_changed:
            code = self._code(ctx, address, after)
            ctx.progress(address, "updating the code")
            retry_while(
                ctx,
                address,
                "lambda:UpdateFunctionCode",
                lambda: call(
                    address,
                    lam,
                    "update_function_code",
                    FunctionName=name,
                    **code,
                    Architectures=[after.architecture or "x86_64"],
                ),
                update_in_progress,
                timeout=300,
            )
            wait_function_ready(ctx, address, name)
        if config:
            ctx.progress(address, "updating the configuration")
            retry_while(
                ctx,
                address,
                "lambda:UpdateFunctionConfiguration",
                lambda: call(address, lam, "update_function_configuration", FunctionName=name, **config),
                role_or_update_pending,
                timeout=300,
            )
            wait_function_ready(ctx, address, name)

        if after.exclusive_access and not before.exclusive_access:  # drift: access granted by hand
            live = require(self._describe(ctx, address, name, access=False), address, f"function {name}")
            self._remove_foreign_access(ctx, address, name, str(live["arn"]))
        if before.reserved_concurrency != after.reserved_concurrency:
            if after.reserved_concurrency is None:
                call(address, lam, "delete_function_concurrency", FunctionName=name)
            else:
                call(
                    address,
                    lam,
                    "put_function_concurrency",
                    FunctionName=name,
                    ReservedConcurrentExecutions=after.reserved_concurrency,
                )

        to_set, to_remove = tag_changes(before.tags, after.tags)
        if to_set or to_remove:
            arn = str(outputs.get("arn") or "")
            if not arn:
                arn = str(call(address, lam, "get_function_configuration", FunctionName=name)["FunctionArn"])
            if to_set:
                call(address, lam, "tag_resource", Resource=arn, Tags=to_set)
            if to_remove:
                call(address, lam, "untag_resource", Resource=arn, TagKeys=to_remove)
        return require(self._describe(ctx, address, name, access=False), address, f"function {name}")

    # --- delete / find / drift ----------------------------------------------------------------

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        lam = ctx.client("lambda")
        retry_while(
            ctx,
            address,
            "lambda:DeleteFunction",
            lambda: call_or_none(address, lam, "delete_function", FunctionName=physical_id),
            update_in_progress,
            timeout=300,
        )

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = FunctionProps.parse(props, address)
        name = p.name
        outputs = self._describe(ctx, address, name, access=False)
        if outputs is None or not owned(ctx, p.tags, outputs["observed"]["tags"]):
            return None
        wait_function_ready(ctx, address, name)
        want = p.reserved_concurrency
        if want is not None and outputs["observed"].get("reserved_concurrency") != want:
            # An interrupted create may have stopped before setting the concurrency.
            call(
                address,
                ctx.client("lambda"),
                "put_function_concurrency",
                FunctionName=name,
                ReservedConcurrentExecutions=want,
            )
        return Created(
            name, require(self._describe(ctx, address, name, access=False), address, f"function {name}")
        )

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = FunctionProps.parse_recorded(props)
        want = dict(props)
        want["environment"] = dict(p.environment)
        want["layers"] = list(p.layers)
        want["logging_group"] = p.logging_group or _default_log_group(p.name)
        want["tracing"] = p.tracing or "PassThrough"
        want["description"] = p.description
        want["tags"] = dict(p.tags)
        want["exclusive_access"] = p.exclusive_access
        return super().drift(want, live)


def _config_outputs(conf: dict[str, Any]) -> Outputs:
    """Outputs from a FunctionConfiguration (GetFunction's, or one entry of ListFunctions): the
    ``revision`` and ``observed`` settings; concurrency, tags and grants are not in it."""
    observed: dict[str, Any] = {
        "name": conf["FunctionName"],
        "role_arn": conf.get("Role"),
        "runtime": conf.get("Runtime"),
        "handler": conf.get("Handler"),
        "memory": conf.get("MemorySize"),
        "timeout": conf.get("Timeout"),
        "architecture": (conf.get("Architectures") or ["x86_64"])[0],
        "environment": dict((conf.get("Environment") or {}).get("Variables") or {}),
        "layers": [layer["Arn"] for layer in conf.get("Layers") or []],
        "tracing": (conf.get("TracingConfig") or {}).get("Mode", "PassThrough"),
        "description": conf.get("Description", ""),
    }
    # Reported only by services that support them (moto omits both): absent means "unknown".
    if conf.get("DeadLetterConfig", {}).get("TargetArn"):
        observed["dead_letter_arn"] = conf["DeadLetterConfig"]["TargetArn"]
    if (conf.get("LoggingConfig") or {}).get("LogGroup"):
        observed["logging_group"] = conf["LoggingConfig"]["LogGroup"]
    revision = stable_hash({"code": conf.get("CodeSha256"), **observed}, 16)
    return {
        "arn": conf["FunctionArn"],
        "name": conf["FunctionName"],
        "revision": revision,
        "code_sha256": conf.get("CodeSha256"),
        "observed": observed,
    }
