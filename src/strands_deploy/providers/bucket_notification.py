"""aws.s3.notification: the Lambda entries of one bucket's notification configuration.

S3 keeps a bucket's notifications in one document (``PutBucketNotificationConfiguration``
replaces all of it), so one resource per bucket holds every agent's entries. Entries made by the
tool have ids starting with ``strands-``; everything else in the document (queue and topic
notifications, EventBridge, Lambda entries made by hand or by another tool) is read back and sent
again unchanged: a deploy never drops a notification it did not make, and delete removes only
the tool's own. Physical id: the bucket's name.

S3 checks, when the document is put, that it may invoke each function: the
``aws.lambda.permission`` resources of the bucket come first (dependencies), and a put refused
while the new statements propagate is retried.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import AwsCallError, call, error_message
from strands_deploy.aws.waiters import retry_while
from strands_deploy.providers._common import call_unless
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

OWN_PREFIX = "strands-"
_MISSING = ("NoSuchBucket",)


class LambdaNotification(PropsModel):
    id: str  # starts with OWN_PREFIX
    function_arn: str  # the alias ARN
    events: list[str]  # s3:ObjectCreated:* | s3:ObjectRemoved:*
    prefix: str = ""
    suffix: str = ""


class NotificationProps(PropsModel):
    bucket: str
    functions: list[LambdaNotification]


def _entry(n: LambdaNotification) -> dict[str, Any]:
    """One ``LambdaFunctionConfigurations`` entry, as the API takes it."""
    entry: dict[str, Any] = {"Id": n.id, "LambdaFunctionArn": n.function_arn, "Events": list(n.events)}
    rules = [
        {"Name": name, "Value": value}
        for name, value in (("prefix", n.prefix), ("suffix", n.suffix))
        if value
    ]
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return entry


def _lower_filter_names(entry: dict[str, Any]) -> None:
    """Filter rule names as S3 documents them (``prefix``/``suffix``): reads may answer
    ``Prefix``, and some implementations refuse that spelling when it is sent back."""
    for rule in ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        rule["Name"] = str(rule.get("Name", "")).lower()


def _observed(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as read back → the shape of :class:`LambdaNotification` (for drift)."""
    rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    values = {str(r.get("Name", "")).lower(): str(r.get("Value", "")) for r in rules}
    return {
        "id": entry.get("Id"),
        "function_arn": entry.get("LambdaFunctionArn"),
        "events": sorted(entry.get("Events") or []),
        "prefix": values.get("prefix", ""),
        "suffix": values.get("suffix", ""),
    }


def _not_validated(err: BaseException) -> bool:
    """S3 could not yet confirm it may invoke a destination (the permission is propagating)."""
    return (
        isinstance(err, AwsCallError)
        and err.code == "InvalidArgument"
        and ("validate" in error_message(err).lower())
    )


class NotificationProvider(Provider):
    type_name: ClassVar[str] = "aws.s3.notification"
    props_model: ClassVar[type[PropsModel]] = NotificationProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"bucket"})
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"bucket"})

    def _document(self, ctx: ProviderContext, address: str, bucket: str) -> dict[str, Any] | None:
        resp = call_unless(
            address, ctx.client("s3"), "get_bucket_notification_configuration", codes=_MISSING, Bucket=bucket
        )
        if resp is None:
            return None
        return {k: v for k, v in resp.items() if k != "ResponseMetadata"}

    def _put(self, ctx: ProviderContext, address: str, bucket: str, own: list[LambdaNotification]) -> None:
        """Our entries replace our previous ones; every other notification is sent back as it was."""
        s3 = ctx.client("s3")

        def put() -> Any:
            document = self._document(ctx, address, bucket) or {}
            kept = [
                e
                for e in document.get("LambdaFunctionConfigurations", [])
                if not str(e.get("Id", "")).startswith(OWN_PREFIX)
            ]
            for kind in ("LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations"):
                for e in kept if kind == "LambdaFunctionConfigurations" else document.get(kind, []):
                    _lower_filter_names(e)
            document["LambdaFunctionConfigurations"] = kept + [_entry(n) for n in own]
            if not document["LambdaFunctionConfigurations"]:
                del document["LambdaFunctionConfigurations"]
            return call(
                address,
                s3,
                "put_bucket_notification_configuration",
                Bucket=bucket,
                NotificationConfiguration=document,
            )

        retry_while(
            ctx,
            address,
            "s3:PutBucketNotification",
            put,
            _not_validated,
            note="waiting for the functions' permissions to reach S3",
        )

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = NotificationProps.parse(props, address)
        self._put(ctx, address, p.bucket, list(p.functions))
        outputs = self.read(ctx, address, p.bucket, props)
        return Created(p.bucket, outputs or {"bucket": p.bucket, "observed": {}})

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        document = self._document(ctx, address, physical_id)
        if document is None:  # the bucket is gone, and its notifications with it
            return None
        own = [
            _observed(e)
            for e in document.get("LambdaFunctionConfigurations", [])
            if str(e.get("Id", "")).startswith(OWN_PREFIX)
        ]
        return {"bucket": physical_id, "observed": {"bucket": physical_id, "functions": own}}

    def update(
        self, ctx: ProviderContext, address: str, physical_id: str, old: Props, new: Props, outputs: Outputs
    ) -> Outputs:
        p = NotificationProps.parse(new, address)
        self._put(ctx, address, physical_id, list(p.functions))
        return self.read(ctx, address, physical_id, new) or outputs

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        if self._document(ctx, address, physical_id) is None:
            return
        self._put(ctx, address, physical_id, [])

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        # no tags on a notification document: ours if the bucket holds entries with our prefix
        p = NotificationProps.parse(props, address)
        outputs = self.read(ctx, address, p.bucket, props)
        if outputs is None or not outputs["observed"]["functions"]:
            return None
        return Created(p.bucket, outputs)

    def drift(self, props: Props, live: Outputs) -> dict[str, tuple[Any, Any]]:
        p = NotificationProps.parse_recorded(props)
        observed = live.get("observed") or {}
        if "functions" not in observed:
            return {}
        want = [{**n.model_dump(), "events": sorted(n.events)} for n in p.functions or []]
        have = observed["functions"]
        key = lambda item: str(item.get("id"))  # noqa: E731
        if sorted(want, key=key) != sorted(have, key=key):
            return {"functions": (have, want)}
        return {}
