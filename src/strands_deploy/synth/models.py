"""Model access: the Bedrock ARNs an agent may invoke, from the model ids it declares.

An agent's `model:` is a foundation-model id (``anthropic.claude-...``), an inference profile id
(``us.anthropic.claude-...``: a geography prefix, then the model id) or an ARN (granted as
written: an application inference profile, provisioned throughput). Each gets
``bedrock:InvokeModel*`` on exactly:

- a foundation-model id: ``arn:<p>:bedrock:<region>::foundation-model/<id>`` in the deployment
  region;
- an inference profile id: the profile, ``arn:<p>:bedrock:<region>:<account>:inference-profile/<id>``
  in the deployment region and account, plus the underlying foundation model in every region
  the profile may route a request to (:data:`PROFILE_REGIONS`);
- a ``global.`` profile: the foundation model in region ``*``. A global profile routes to any
  commercial region, including ones added after this release, and Bedrock checks the model ARN
  of the region that serves the request (for some requests with no region at all:
  ``arn:aws:bedrock:::foundation-model/<id>``). This is the only wildcard region we grant, and
  only for the one declared model.
"""

from __future__ import annotations

from strands_deploy.synth.links import partition

# The Strands SDK's default (strands.models.bedrock.DEFAULT_BEDROCK_MODEL_ID), used when an agent
# declares no model: an agent built with `Agent()` invokes it. Kept as a constant so the package
# never imports strands; a unit test checks it against the installed SDK.
DEFAULT_MODEL_ID = "global.anthropic.claude-sonnet-4-6"

# Geography prefix of a cross-region inference profile → the regions it may send a request to
# (the union over the models of that geography in the Bedrock documentation). Listing a region
# a given profile does not use grants the same model there, never another model.
PROFILE_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2"),
    "us-gov": ("us-gov-east-1", "us-gov-west-1"),
    "eu": ("eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3"),
    "apac": (
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-4",
    ),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
    "global": ("*",),
}

MODEL_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]


def split_profile(model_id: str) -> tuple[str | None, str]:
    """(geography prefix, foundation-model id) of an inference profile id; (None, id) otherwise."""
    prefix, dot, rest = model_id.partition(".")
    if dot and prefix in PROFILE_REGIONS and rest:
        return prefix, rest
    return None, model_id


def model_arns(model_id: str, region: str, account: str) -> list[str]:
    """The ARNs ``bedrock:InvokeModel*`` must allow to invoke ``model_id`` from ``region``."""
    if model_id.startswith("arn:"):
        return [model_id]
    p = partition(region)
    prefix, base = split_profile(model_id)
    if prefix is None:
        return [f"arn:{p}:bedrock:{region}::foundation-model/{model_id}"]
    arns = [f"arn:{p}:bedrock:{region}:{account}:inference-profile/{model_id}"]
    arns += [f"arn:{p}:bedrock:{r}::foundation-model/{base}" for r in PROFILE_REGIONS[prefix]]
    return arns


def models_statement(model_ids: list[str], region: str, account: str) -> dict[str, object]:
    """The ``Models`` statement: invoking the declared models (or the SDK default), nothing else."""
    arns: list[str] = []
    for model_id in model_ids or [DEFAULT_MODEL_ID]:
        arns += [a for a in model_arns(model_id, region, account) if a not in arns]
    return {"Sid": "Models", "Effect": "Allow", "Action": list(MODEL_ACTIONS), "Resource": arns}
