"""Project resources (`resources:` in strands.yaml) → one AWS resource each."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from strands_deploy.config.schema import ResourceConfig
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Resource
from strands_deploy.synth.links import resource_address
from strands_deploy.synth.naming import physical_name


def fingerprint(ctx: SynthContext, name: str, value: str) -> str:
    """A keyed hash of a secret value: shows that it changed, reveals nothing about it."""
    key = f"strands-deploy:{ctx.project.name}:{ctx.env}:{name}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


def synth_resource(ctx: SynthContext, name: str, res: ResourceConfig) -> None:
    p, env = ctx.project.name, ctx.env
    tags = ctx.tags()
    address = resource_address(name, res.type)
    props: dict[str, Any]
    if res.type == "table":
        props = {
            "name": physical_name(p, env, name, "table"),
            "hash_key": res.key,
            "hash_key_type": res.key_type,
            "range_key": res.sort_key,
            "range_key_type": res.sort_key_type if res.sort_key else None,
            "pitr": True,
            "tags": tags,
        }
        ctx.graph.add(Resource(address, "aws.dynamodb.table", props))
    elif res.type == "bucket":
        props = {
            "name": physical_name(p, env, f"{name}-{ctx.account}", "bucket"),
            "versioning": res.versioning,
            "retain": res.retain,
            "tags": tags,
        }
        ctx.graph.add(Resource(address, "aws.s3.bucket", props))
    elif res.type == "queue":
        props = {
            "name": physical_name(p, env, name, "queue"),
            "dlq": res.dlq,
            "max_receive_count": 5,
            "visibility_timeout": res.visibility_timeout if res.visibility_timeout is not None else 900,
            "tags": tags,
        }
        ctx.graph.add(Resource(address, "aws.sqs.queue", props))
    elif res.type == "topic":
        ctx.graph.add(
            Resource(address, "aws.sns.topic", {"name": physical_name(p, env, name, "topic"), "tags": tags})
        )
    elif res.type in ("secret", "parameter"):
        source = {"env": res.from_env} if res.from_env else {"file": res.from_file or ""}
        value = ctx.secret_value(source)
        props = {
            "name": f"/{p}/{env}/{name}" if res.type == "parameter" else f"{p}/{env}/{name}",
            "source": source,
            "fingerprint": fingerprint(ctx, name, value),
            "tags": tags,
        }
        if res.type == "parameter":
            props["secure"] = res.secure
            ctx.graph.add(Resource(address, "aws.ssm.parameter", props))
        else:
            ctx.graph.add(Resource(address, "aws.secretsmanager.secret", props))
