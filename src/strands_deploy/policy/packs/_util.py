"""Helpers shared by the built-in packs."""

from __future__ import annotations

import ast
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from strands_deploy.policy.model import AgentSubject, Context


def statements(document: Any) -> list[dict[str, Any]]:
    """The statements of an IAM policy document (props of an aws.iam.role_policy)."""
    found = (document or {}).get("Statement", []) if isinstance(document, dict) else []
    return [s for s in ([found] if isinstance(found, dict) else found) if isinstance(s, dict)]


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def agent_config(ctx: Context, name: str | None) -> Any:
    return ctx.project.agents.get(name) if name else None


def function_props(agent: AgentSubject) -> dict[str, Any]:
    return agent.props("function")


def python_files(folder: Path, limit: int = 500) -> Iterator[Path]:
    """The agent's .py files (not in virtualenvs, caches or hidden folders), at most ``limit``."""
    if not folder.is_dir():
        return
    count = 0
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).parts
        if any(
            p.startswith(".") or p in ("__pycache__", "venv", "site-packages", "node_modules") for p in parts
        ):
            continue
        count += 1
        if count > limit:
            return
        yield path


def parse_python(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    except (SyntaxError, ValueError, OSError):
        return None
