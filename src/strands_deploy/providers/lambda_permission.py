"""aws.lambda.permission: one statement on a function's (alias's) resource policy letting an AWS
service invoke it for one source: SNS for a topic, S3 for a bucket, EventBridge for a rule.

The statement is ``lambda:InvokeFunction`` for ``principal`` (``sns.amazonaws.com``...), scoped by
``SourceArn`` (and ``SourceAccount`` where given, which S3 needs: bucket ARNs carry no account).
Its Sid is derived from the principal and the source ARN and starts with the tool's prefix
(``strands-``), so the function provider's ``exclusive_access`` keeps it; for SNS it is the Sid the
subscription provider uses, so the two never make two statements for one topic.

Physical id: ``function:qualifier:sid``. The statement cannot be edited: an update removes it and
adds it again with the same Sid (between the two the source cannot invoke; AWS offers no
atomic replace).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from strands_deploy.aws.errors import AwsCallError, call, call_or_none, error_message, ignore_not_found
from strands_deploy.aws.waiters import retry_while, update_in_progress
from strands_deploy.providers._common import function_name_of
from strands_deploy.providers.base import (
    Created,
    Outputs,
    Props,
    PropsModel,
    Provider,
    ProviderContext,
    stable_hash,
)


class PermissionProps(PropsModel):
    function_name: str  # the alias ARN (or a function name, with ``qualifier``)
    qualifier: str | None = None  # None: taken from an alias ARN, else the unqualified function
    principal: str  # sns.amazonaws.com | s3.amazonaws.com | events.amazonaws.com
    source_arn: str
    source_account: str | None = None


def statement_id(principal: str, source_arn: str) -> str:
    """``strands-<service>-<hash of the source>``: the prefix marks the statement as the tool's."""
    return f"strands-{principal.split('.')[0]}-{stable_hash(source_arn, 12)}"


def target(p: PermissionProps) -> tuple[str, str | None]:
    """(function name, qualifier) of the policy the statement goes on."""
    qualifier = p.qualifier
    parts = p.function_name.split(":")
    if qualifier is None and p.function_name.startswith("arn:") and len(parts) > 7:
        qualifier = parts[7]
    return function_name_of(p.function_name), qualifier


def _split(physical_id: str) -> tuple[str, str | None, str]:
    function_name, qualifier, sid = physical_id.split(":", 2)
    return function_name, qualifier or None, sid


def _exists(err: BaseException) -> bool:
    """AddPermission's answer when a statement with this Sid is there already."""
    return (
        isinstance(err, AwsCallError)
        and err.code == "ResourceConflictException"
        and ("already exists" in error_message(err))
    )


def _condition(statement: dict[str, Any], key: str) -> str | None:
    for test in (statement.get("Condition") or {}).values():
        if isinstance(test, dict):
            for k, v in test.items():
                if k.lower() == key.lower():
                    return str(v[0] if isinstance(v, list) else v)
    return None


class PermissionProvider(Provider):
    type_name: ClassVar[str] = "aws.lambda.permission"
    props_model: ClassVar[type[PropsModel]] = PermissionProps
    replace_on: ClassVar[frozenset[str]] = frozenset(
        {"function_name", "qualifier", "principal", "source_arn"}
    )
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"statement_id"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = PermissionProps.parse(props, address)
        function_name, qualifier = target(p)
        sid = statement_id(p.principal, p.source_arn)
        self._put(ctx, address, p, function_name, qualifier, sid)
        physical_id = f"{function_name}:{qualifier or ''}:{sid}"
        outputs = self.read(ctx, address, physical_id, props)
        return Created(physical_id, outputs or {"statement_id": sid, "observed": self._want(p)})

    def _put(
        self,
        ctx: ProviderContext,
        address: str,
        p: PermissionProps,
        function_name: str,
        qualifier: str | None,
        sid: str,
    ) -> None:
        """Add the statement; if one with this Sid exists already, replace it."""
        lam = ctx.client("lambda")
        where: dict[str, Any] = {"FunctionName": function_name, "StatementId": sid}
        if qualifier:
            where["Qualifier"] = qualifier
        kwargs: dict[str, Any] = {
            **where,
            "Action": "lambda:InvokeFunction",
            "Principal": p.principal,
            "SourceArn": p.source_arn,
        }
        if p.source_account:
            kwargs["SourceAccount"] = p.source_account

        def add() -> Any:
            try:
                return call(address, lam, "add_permission", **kwargs)
            except AwsCallError as err:
                if not _exists(err):
                    raise
                ignore_not_found(address, lam, "remove_permission", **where)
                return call(address, lam, "add_permission", **kwargs)

        # A statement with this Sid may be there already (a create whose response was lost, an
        # update): replaced, so there is one, as wanted. AWS refuses a second one with the same
        # Sid, but not every implementation does, hence the read first.
        physical_id = f"{function_name}:{qualifier or ''}:{sid}"
        live = self.read(ctx, address, physical_id, {})
        if live is not None:
            if live["observed"] == self._want(p):
                return
            ignore_not_found(address, lam, "remove_permission", **where)
        # a just-published alias may still be updating: Lambda answers a conflict, briefly
        retry_while(
            ctx, address, "lambda:AddPermission", add, lambda e: update_in_progress(e) and not _exists(e)
        )

    @staticmethod
    def _want(p: PermissionProps) -> dict[str, Any]:
        return {"principal": p.principal, "source_arn": p.source_arn, "source_account": p.source_account}

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        function_name, qualifier, sid = _split(physical_id)
        kwargs: dict[str, Any] = {"FunctionName": function_name}
        if qualifier:
            kwargs["Qualifier"] = qualifier
        policy = call_or_none(address, ctx.client("lambda"), "get_policy", **kwargs)
        statements = json.loads(policy["Policy"]).get("Statement", []) if policy else []
        for st in statements:
            if st.get("Sid") != sid:
                continue
            principal = st.get("Principal")
            service = principal.get("Service") if isinstance(principal, dict) else principal
            return {
                "statement_id": sid,
                "observed": {
                    "principal": service,
                    "source_arn": _condition(st, "AWS:SourceArn"),
                    "source_account": _condition(st, "AWS:SourceAccount"),
                },
            }
        return None

    def update(
        self, ctx: ProviderContext, address: str, physical_id: str, old: Props, new: Props, outputs: Outputs
    ) -> Outputs:
        # only source_account can change in place (or a statement removed by hand comes back)
        p = PermissionProps.parse(new, address)
        function_name, qualifier, sid = _split(physical_id)
        self._put(ctx, address, p, function_name, qualifier, sid)
        return self.read(ctx, address, physical_id, new) or {"statement_id": sid, "observed": self._want(p)}

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        function_name, qualifier, sid = _split(physical_id)
        kwargs: dict[str, Any] = {"FunctionName": function_name, "StatementId": sid}
        if qualifier:
            kwargs["Qualifier"] = qualifier
        ignore_not_found(address, ctx.client("lambda"), "remove_permission", **kwargs)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        # statements carry no tags: found by their deterministic Sid on the deterministic function
        p = PermissionProps.parse(props, address)
        function_name, qualifier = target(p)
        physical_id = f"{function_name}:{qualifier or ''}:{statement_id(p.principal, p.source_arn)}"
        outputs = self.read(ctx, address, physical_id, props)
        return Created(physical_id, outputs) if outputs is not None else None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        want = self._want(PermissionProps.parse_recorded(props))
        observed = live.get("observed") or {}
        return {k: (observed.get(k), v) for k, v in want.items() if observed.get(k) != v}
