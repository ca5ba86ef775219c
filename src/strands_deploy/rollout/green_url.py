"""Blue-green's own Function URL: with ``expose: url``, the ``…-green`` alias gets a URL of its
own (same auth and CORS as the agent's URL), so the new version can be tried over HTTP before
``promote``; the URL goes with the alias on promote or abort.

The Function URL provider does the work (its public-access statements included), so the green
URL is made exactly as the agent's own. Emulators (moto, the local cloud) keep one URL per
function whatever the qualifier: there a second URL would replace the agent's, so none is made
and the green version is reached by qualifier (``invoke --version live-green``).
"""

from __future__ import annotations

from typing import Any

from strands_deploy.providers.base import ProviderContext
from strands_deploy.providers.lambda_url import FunctionUrlProvider
from strands_deploy.rollout.record import RolloutRecord
from strands_deploy.state.model import State

EMULATOR_NOTE = (
    "; no green URL on an emulator (it keeps one Function URL per function): "
    "invoke the green version by qualifier"
)


def _address(agent: str) -> str:
    return f"agent.{agent}.url-green"


def _props(record: RolloutRecord, url_inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "function_name": record.function,
        "qualifier": record.green_alias,
        "auth": url_inputs.get("auth") or "AWS_IAM",
        "cors": url_inputs.get("cors"),
    }


def create(ctx: ProviderContext, state: State, record: RolloutRecord) -> tuple[str | None, str]:
    """(the green URL or None, a note for the event) for ``record``'s green alias."""
    url = state.resources.get(f"agent.{record.agent}.url")
    if url is None or not record.green_alias:
        return None, ""
    if ctx.aws.settings.local:
        return None, EMULATOR_NOTE
    provider, address = FunctionUrlProvider(), _address(record.agent)
    props = _props(record, dict(url.inputs))
    made = provider.find(ctx, address, props) or provider.create(ctx, address, props)
    return str(made.outputs.get("url") or ""), ""


def delete(ctx: ProviderContext, record: RolloutRecord) -> None:
    """Remove the green URL and its statements (nothing to do on an emulator, or without one).
    Tried even when the record names no URL: a run interrupted after making it still cleans up."""
    if ctx.aws.settings.local or not record.green_alias:
        return
    physical_id = f"{record.function}:{record.green_alias}"
    props = _props(record, {})
    FunctionUrlProvider().delete(ctx, _address(record.agent), physical_id, props, {})
