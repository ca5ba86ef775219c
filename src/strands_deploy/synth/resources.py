"""Project resources (`resources:` in strands.yaml) → one AWS resource each."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from strands_deploy.config.schema import ResourceConfig
from strands_deploy.providers.bucket import BucketProps
from strands_deploy.providers.parameter import ParameterProps
from strands_deploy.providers.queue import QueueProps
from strands_deploy.providers.secret import SecretProps
from strands_deploy.providers.table import TableProps
from strands_deploy.providers.topic import TopicProps
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Resource
from strands_deploy.synth.links import resource_address
from strands_deploy.synth.naming import physical_name
from strands_deploy.synth.props import build


def fingerprint(ctx: SynthContext, name: str, value: str) -> str:
    """A keyed hash of a secret value: shows that it changed, reveals nothing about it. The key is
    random and kept outside the state and plans (``state/keys.py``), so the hash cannot be tested
    against guesses by someone who has only the state or a plan."""
    message = f"{ctx.project.name}:{ctx.env}:{name}\0{value}".encode()
    return hmac.new(ctx.fingerprint_key, message, hashlib.sha256).hexdigest()


def synth_resource(ctx: SynthContext, name: str, res: ResourceConfig) -> None:
    p, env = ctx.project.name, ctx.env
    tags = ctx.tags()
    address = resource_address(name, res.type)
    props: dict[str, Any]
    if res.type == "table":
        props = build(
            TableProps,
            name=physical_name(p, env, name, "table"),
            hash_key=res.key,
            hash_key_type=res.key_type,
            range_key=res.sort_key,
            range_key_type=res.sort_key_type if res.sort_key else None,
            pitr=True,
            # destroy refuses a table holding items unless told; on AWS, DynamoDB refuses too
            retain=res.retain,
            deletion_protection=not ctx.emulated,
            tags=tags,
        )
        ctx.graph.add(Resource(address, "aws.dynamodb.table", props))
    elif res.type == "bucket":
        props = build(
            BucketProps,
            name=physical_name(p, env, f"{name}-{ctx.account}", "bucket"),
            versioning=res.versioning,
            retain=res.retain,
            tags=tags,
        )
        ctx.graph.add(Resource(address, "aws.s3.bucket", props))
    elif res.type == "queue":
        props = build(
            QueueProps,
            name=physical_name(p, env, name, "queue"),
            dlq=res.dlq,
            max_receive_count=5,
            visibility_timeout=res.visibility_timeout if res.visibility_timeout is not None else 900,
            tags=tags,
        )
        ctx.graph.add(Resource(address, "aws.sqs.queue", props))
    elif res.type == "topic":
        props = build(TopicProps, name=physical_name(p, env, name, "topic"), tags=tags)
        ctx.graph.add(Resource(address, "aws.sns.topic", props))
    elif res.type in ("secret", "parameter"):
        # the source and a keyed hash of the value: never the value itself
        source = {"env": res.from_env} if res.from_env else {"file": res.from_file or ""}
        fp = fingerprint(ctx, name, ctx.secret_value(source))
        if res.type == "parameter":
            props = build(
                ParameterProps,
                name=f"/{p}/{env}/{name}",
                source=source,
                fingerprint=fp,
                tags=tags,
                secure=res.secure,
            )
            ctx.graph.add(Resource(address, "aws.ssm.parameter", props))
        else:
            props = build(SecretProps, name=f"{p}/{env}/{name}", source=source, fingerprint=fp, tags=tags)
            ctx.graph.add(Resource(address, "aws.secretsmanager.secret", props))
