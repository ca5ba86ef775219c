"""aws.sns.topic: a topic encrypted with the AWS-managed SNS key. Physical id: the topic ARN."""

from __future__ import annotations

from typing import Any, ClassVar

from strands_deploy.aws.errors import call, call_or_none, ignore_not_found
from strands_deploy.providers._common import owned, paginate, require, tag_changes, tag_dict, tag_list
from strands_deploy.providers.base import Created, Outputs, Props, PropsModel, Provider, ProviderContext

KMS_KEY = "alias/aws/sns"


class TopicProps(PropsModel):
    name: str
    tags: dict[str, str] = {}


class TopicProvider(Provider):
    type_name: ClassVar[str] = "aws.sns.topic"
    props_model: ClassVar[type[PropsModel]] = TopicProps
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    def create(self, ctx: ProviderContext, address: str, props: Props) -> Created:
        p = TopicProps.parse(props, address)
        name = p.name
        attrs = {"KmsMasterKeyId": KMS_KEY}
        if name.endswith(".fifo"):
            attrs["FifoTopic"] = "true"
        kwargs: dict[str, Any] = {"Name": name, "Attributes": attrs}
        if p.tags:  # in the create call itself: an interrupted create leaves a topic `find` adopts
            kwargs["Tags"] = tag_list(p.tags)
        arn = str(call(address, ctx.client("sns"), "create_topic", resource_name=name, **kwargs)["TopicArn"])
        return Created(arn, require(self.read(ctx, address, arn, props), address, f"topic {name}"))

    def read(self, ctx: ProviderContext, address: str, physical_id: str, props: Props) -> Outputs | None:
        sns = ctx.client("sns")
        resp = call_or_none(address, sns, "get_topic_attributes", TopicArn=physical_id)
        if resp is None:
            return None
        attrs = resp.get("Attributes") or {}
        tags = call_or_none(address, sns, "list_tags_for_resource", ResourceArn=physical_id) or {}
        name = physical_id.rsplit(":", 1)[-1]
        return {
            "arn": physical_id,
            "name": name,
            "observed": {
                "name": name,
                "kms_key": attrs.get("KmsMasterKeyId"),
                "tags": tag_dict(tags.get("Tags")),
            },
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
        before, after = TopicProps.parse_recorded(old), TopicProps.parse(new, address)
        sns = ctx.client("sns")
        to_set, to_remove = tag_changes(before.tags, after.tags)
        if to_set:
            call(address, sns, "tag_resource", ResourceArn=physical_id, Tags=tag_list(to_set))
        if to_remove:
            call(address, sns, "untag_resource", ResourceArn=physical_id, TagKeys=to_remove)
        return require(self.read(ctx, address, physical_id, new), address, f"topic {physical_id}")

    def delete(
        self, ctx: ProviderContext, address: str, physical_id: str, props: Props, outputs: Outputs
    ) -> None:
        # DeleteTopic succeeds for a topic that does not exist.
        ignore_not_found(address, ctx.client("sns"), "delete_topic", TopicArn=physical_id)

    def find(self, ctx: ProviderContext, address: str, props: Props) -> Created | None:
        p = TopicProps.parse(props, address)
        for page in paginate(address, ctx.client("sns"), "list_topics"):
            for topic in page.get("Topics", []):
                arn = str(topic["TopicArn"])
                if arn.rsplit(":", 1)[-1] != p.name:
                    continue
                outputs = self.read(ctx, address, arn, props)
                if outputs is not None and owned(ctx, p.tags, outputs["observed"]["tags"]):
                    return Created(arn, outputs)
                return None
        return None
