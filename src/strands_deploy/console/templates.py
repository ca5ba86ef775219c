"""The `init` templates as a gallery: each one's description and strands.yaml, and adding one of
its agents (folder and configuration) to the open project."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from strands_deploy.errors import StrandsDeployError

SKIP = {"__pycache__", ".pytest_cache"}


def _root() -> Traversable:
    return files("strands_deploy") / "templates"


def gallery() -> list[dict[str, Any]]:
    from ruamel.yaml import YAML

    out = []
    for item in sorted(_root().iterdir(), key=lambda c: c.name):
        if item.name.startswith("_") or not item.is_dir():
            continue
        text = (item / "strands.yaml").read_text(encoding="utf-8")
        data = YAML(typ="safe").load(text.replace("{{project}}", "example")) or {}
        agents = data.get("agents") or {}
        out.append(
            {
                "name": item.name,
                "yaml": text,
                "agents": [
                    {"name": n, "description": (a or {}).get("description", "")} for n, a in agents.items()
                ],
            }
        )
    return out


def agent_from(template: str, agent: str, root: Path, new_name: str) -> dict[str, Any]:
    """Copy the template agent's folder to ``agents/NEW_NAME`` (never over an existing folder)
    and return its configuration entry (with ``path`` pointing at the copy)."""
    from ruamel.yaml import YAML

    base = _root() / template
    if template.startswith("_") or not base.is_dir():
        raise StrandsDeployError(f"no template named {template!r}")
    data = YAML(typ="safe").load(
        (base / "strands.yaml").read_text(encoding="utf-8").replace("{{project}}", "x")
    )
    entry = dict(((data or {}).get("agents") or {}).get(agent) or {})
    if not entry:
        raise StrandsDeployError(f"template {template!r} has no agent {agent!r}")
    source = base / entry["path"]
    dest = root / "agents" / new_name
    if dest.exists():
        raise StrandsDeployError(f"{dest} already exists", fix="pick another agent name")
    _copy(source, dest)
    entry["path"] = f"agents/{new_name}"
    entry.pop("link", None)  # the template's resources are not in this project
    entry.pop("trigger", None)
    entry.pop("triggers", None)
    return entry


def _copy(source: Traversable, dest: Path) -> None:
    dest.mkdir(parents=True)
    for child in source.iterdir():
        if child.name in SKIP or child.name.endswith(".pyc"):
            continue
        if child.is_dir():
            _copy(child, dest / child.name)
        else:
            (dest / child.name).write_bytes(child.read_bytes())
