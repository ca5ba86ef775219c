"""aws.sns.subscription: one endpoint subscribed to a topic (alarm notifications).

``protocol`` is ``email`` (AWS mails a confirmation link; the subscription is pending until it is
clicked) or ``lambda`` (a function, e.g. the webhook forwarder; the function's resource policy
gets a statement letting this topic invoke it, unless ``grant`` is false: an agent's topic trigger
has that statement as its own ``aws.lambda.permission`` resource, with the same Sid). Subscribe is idempotent for the same topic,
protocol and endpoint, so a lost response never leaves a duplicate. Physical id: the
subscription ARN (``ReturnSubscriptionArn`` gives it even while an email is pending).
Every property is fixed: a change subscribes anew and unsubscribes the old one.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from strands_deploy.aws.errors import AwsCallError, call, call_or_none, ignore_not_found
from strands_deploy.providers._common import function_name_of, paginate
from strands_deploy.providers.base import (
    Created,
    Outputs,
    Props,
    PropsModel,
    Provider,
    ProviderContext,
    stable_hash,
)


class SubscriptionProps(PropsModel):
    topic_arn: str
    protocol: Literal["email", "lambda"]
    endpoint: str  # an email address, or a function (alias) ARN
    grant: bool = True  # lambda: add the statement letting the topic invoke the function


def statement_id(topic_arn: str) -> str:
    return f"strands-sns-{stable_hash(topic_arn, 12)}"


class SubscriptionProvider(Provider):
    type_name: ClassVar[str] = "aws.sns.subscription"
    props_model: ClassVar[type[PropsModel]] = SubscriptionProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"topic_arn", "protocol", "endpoint"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"arn"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = SubscriptionProps.parse(props, address)
        if p.protocol == "lambda" and p.grant:
            self._allow_topic(ctx, address, p)
        resp = call(
            address,
            ctx.client("sns"),
            "subscribe",
            TopicArn=p.topic_arn,
            Protocol=p.protocol,
            Endpoint=p.endpoint,
            ReturnSubscriptionArn=True,
        )
        arn = str(resp["SubscriptionArn"])
        return Created(arn, {"arn": arn, "observed": {**p.model_dump(), "pending": False}})

    def _allow_topic(self, ctx: ProviderContext, address: str, p: SubscriptionProps) -> None:
        """Let the topic invoke the function (a statement scoped to this topic by SourceArn)."""
        kwargs: dict[str, Any] = {
            "FunctionName": function_name_of(p.endpoint),
            "StatementId": statement_id(p.topic_arn),
            "Action": "lambda:InvokeFunction",
            "Principal": "sns.amazonaws.com",
            "SourceArn": p.topic_arn,
        }
        parts = p.endpoint.split(":")
        if p.endpoint.startswith("arn:") and len(parts) > 7:  # an alias ARN: the statement goes there
            kwargs["Qualifier"] = parts[7]
        try:
            call(address, ctx.client("lambda"), "add_permission", **kwargs)
        except AwsCallError as e:
            if e.code != "ResourceConflictException":  # the statement exists already
                raise

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        resp = call_or_none(
            address, ctx.client("sns"), "get_subscription_attributes", SubscriptionArn=physical_id
        )
        if resp is None:
            return None
        attrs = resp.get("Attributes") or {}
        return {
            "arn": physical_id,
            "observed": {
                "topic_arn": attrs.get("TopicArn"),
                "protocol": attrs.get("Protocol"),
                "endpoint": attrs.get("Endpoint"),
                "pending": attrs.get("PendingConfirmation") == "true",
            },
        }

    def update(
        self, ctx: ProviderContext, address: str, physical_id: str, old: Props, new: Props, outputs: Outputs
    ) -> Outputs:
        # every property is in replace_on: an update only ever restores a deleted permission
        p = SubscriptionProps.parse(new, address)
        if p.protocol == "lambda" and p.grant:
            self._allow_topic(ctx, address, p)
        live = self.read(ctx, address, physical_id, new)
        return live if live is not None else outputs

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        if physical_id.startswith("arn:"):
            ignore_not_found(address, ctx.client("sns"), "unsubscribe", SubscriptionArn=physical_id)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = SubscriptionProps.parse(props, address)
        sns = ctx.client("sns")
        for page in paginate(
            address, sns, "list_subscriptions_by_topic", missing_ok=True, TopicArn=p.topic_arn
        ):
            for sub in page.get("Subscriptions", []):
                if sub.get("Protocol") == p.protocol and sub.get("Endpoint") == p.endpoint:
                    arn = str(sub["SubscriptionArn"])
                    if not arn.startswith("arn:"):  # "PendingConfirmation": not addressable yet
                        return None
                    outputs = self.read(ctx, address, arn, props)
                    return Created(arn, outputs) if outputs is not None else None
        return None

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        observed = live.get("observed") or {}
        want = SubscriptionProps.parse_recorded(props).model_dump(exclude={"grant"})
        return {k: (observed.get(k), v) for k, v in want.items() if k in observed and observed[k] != v}
