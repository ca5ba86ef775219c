"""aws.lambda.provisioned_concurrency: instances of an agent kept initialised on its ``live`` alias
(``provisioned_concurrency: N`` in strands.yaml; priced in docs/cost.md).

Physical id: ``function:alias``. Create and update are one PutProvisionedConcurrencyConfig (it
replaces the count), retried while a function update is in progress. The call returns at once
with ``IN_PROGRESS``: initialising the instances takes a few minutes, during which the alias
serves requests on demand, so a deploy does not wait; a ``FAILED`` allocation is an error with
Lambda's reason. When the alias moves to a new version, Lambda moves the provisioned instances
itself: nothing here depends on the version.

Emulators: moto has no provisioned concurrency API, so synthesis leaves this resource out of
emulated environments (``local``, ``endpoint:``): there is no cold start worth paying for there.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from strands_deploy.aws.errors import call, call_or_none, error_code
from strands_deploy.aws.waiters import retry_while, update_in_progress
from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers._common import function_name_of, require
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

NOT_CONFIGURED = "ProvisionedConcurrencyConfigNotFoundException"


class ProvisionedProps(PropsModel):
    function_name: str  # a name or (qualified) ARN
    qualifier: str = "live"  # the alias
    count: int = Field(ge=1)


def _split(physical_id: str) -> tuple[str, str]:
    function, _, qualifier = physical_id.rpartition(":")
    return function, qualifier


class ProvisionedConcurrencyProvider(Provider):
    type_name: ClassVar[str] = "aws.lambda.provisioned_concurrency"
    props_model: ClassVar[type[PropsModel]] = ProvisionedProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"function_name", "qualifier"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"function_name", "qualifier"})

    def _put(self, ctx: ProviderContext, address: str, function: str, qualifier: str, count: int) -> None:
        lam = ctx.client("lambda")
        resp = retry_while(
            ctx,
            address,
            "lambda:PutProvisionedConcurrencyConfig",
            lambda: call(
                address,
                lam,
                "put_provisioned_concurrency_config",
                FunctionName=function,
                Qualifier=qualifier,
                ProvisionedConcurrentExecutions=count,
            ),
            update_in_progress,
            timeout=300,
        )
        _refuse_failed(address, resp)

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = ProvisionedProps.parse(props, address)
        function = function_name_of(p.function_name)
        self._put(ctx, address, function, p.qualifier, p.count)
        pid = f"{function}:{p.qualifier}"
        return Created(
            pid, require(self.read(ctx, address, pid, props), address, f"provisioned concurrency {pid}")
        )

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        function, qualifier = _split(physical_id)
        try:
            resp = call_or_none(
                address,
                ctx.client("lambda"),
                "get_provisioned_concurrency_config",
                FunctionName=function,
                Qualifier=qualifier,
            )
        except StrandsDeployError as err:
            if error_code(err) == NOT_CONFIGURED:
                return None
            raise
        if resp is None:
            return None
        requested = int(resp.get("RequestedProvisionedConcurrentExecutions") or 0)
        return {
            "function_name": function,
            "qualifier": qualifier,
            "allocated": int(resp.get("AllocatedProvisionedConcurrentExecutions") or 0),
            "status": resp.get("Status"),
            "observed": {"function_name": function, "qualifier": qualifier, "count": requested},
        }

    def update(
        self,
        ctx: ProviderContext,
        address: str,
        physical_id: str,
        old: Props,
        new: Props,
        outputs: Outputs,
    ) -> Outputs:
        p = ProvisionedProps.parse(new, address)
        function, qualifier = _split(physical_id)
        self._put(ctx, address, function, qualifier, p.count)
        return require(
            self.read(ctx, address, physical_id, new), address, f"provisioned concurrency {physical_id}"
        )

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        function, qualifier = _split(physical_id)
        try:
            call_or_none(
                address,
                ctx.client("lambda"),
                "delete_provisioned_concurrency_config",
                FunctionName=function,
                Qualifier=qualifier,
            )
        except StrandsDeployError as err:
            if error_code(err) != NOT_CONFIGURED:
                raise

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        # no tags and no name: found by its natural key (function, alias)
        p = ProvisionedProps.parse(props, address)
        pid = f"{function_name_of(p.function_name)}:{p.qualifier}"
        outputs = self.read(ctx, address, pid, props)
        return Created(pid, outputs) if outputs is not None else None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = ProvisionedProps.parse_recorded(props)
        have = live.get("observed", {}).get("count")
        return {"count": (have, p.count)} if have is not None and have != p.count else {}


def _refuse_failed(address: str, resp: dict[str, Any]) -> None:
    if resp.get("Status") == "FAILED":
        raise StrandsDeployError(
            f"Lambda could not provision the instances: {resp.get('StatusReason') or 'no reason given'}",
            address,
            "lower provisioned_concurrency, or ask AWS for a higher concurrency quota in this region",
        )
