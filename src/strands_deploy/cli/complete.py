"""Shell-completion callbacks: agent names, environment names, resource addresses, output names.

They run on every Tab press, so they read strands.yaml and the local state file directly and
quietly (a missing or broken file completes nothing; never an error, never the network).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem


def _root_dir(ctx: click.Context) -> Path:
    root = ctx.find_root()
    value = root.params.get("project_dir") or (root.obj or {}).get("project_dir") or "."
    folder = Path(str(value)).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / "strands.yaml").is_file():
            return candidate
    return folder


def _config(ctx: click.Context) -> dict[str, Any]:
    path = _root_dir(ctx) / "strands.yaml"
    try:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - completion must never fail
        return {}
    return data if isinstance(data, dict) else {}


def _names(section: Any) -> list[str]:
    return sorted(str(k) for k in section) if isinstance(section, dict) else []


def _env(ctx: click.Context) -> str:
    return str(ctx.params.get("env_name") or "local")


def _state_resources(ctx: click.Context) -> dict[str, Any]:
    path = _root_dir(ctx) / ".strands" / "state" / f"{_env(ctx)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - no local state (or a remote backend): nothing to complete
        return {}
    resources = data.get("resources") if isinstance(data, dict) else None
    return resources if isinstance(resources, dict) else {}


def _items(values: list[str], incomplete: str, help: dict[str, str] | None = None) -> list[CompletionItem]:
    return [CompletionItem(v, help=(help or {}).get(v)) for v in values if v.startswith(incomplete)]


def agents(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return _items(_names(_config(ctx).get("agents")), incomplete)


def environments(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    names = _names(_config(ctx).get("environments"))
    return _items(sorted({"local", *names}), incomplete)


def addresses(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    resources = _state_resources(ctx)
    types = {a: str((r or {}).get("type", "")) for a, r in resources.items() if isinstance(r, dict)}
    return _items(sorted(resources), incomplete, types)


def outputs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``agent.support.url`` style names of the recorded outputs."""
    from strands_deploy.cli.output_cmd import flatten_outputs

    class _Record:
        def __init__(self, outputs: Any) -> None:
            self.outputs = outputs if isinstance(outputs, dict) else {}

    class _State:
        resources = {
            a: _Record((r or {}).get("outputs"))
            for a, r in _state_resources(ctx).items()
            if isinstance(r, dict)
        }

    return _items(sorted(flatten_outputs(_State())), incomplete)
