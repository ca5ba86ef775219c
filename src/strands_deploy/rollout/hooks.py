"""User hooks (``path/to/file.py:function``), called with one dict describing the rollout.

A hook that raises (or returns ``False``) stops the rollout: ``before_traffic`` before any user
traffic reaches the new version, ``after_traffic`` after promotion (then it is reported only).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from strands_deploy.errors import StrandsDeployError


def load_hook(root: Path, spec: str) -> Any:
    path_text, _, name = spec.rpartition(":")
    path = (root / path_text).resolve()
    if not path.is_file():
        raise StrandsDeployError(
            f"hook file {path_text} does not exist", spec, "fix the path in rollout.hooks"
        )
    module_name = f"_strands_hook_{abs(hash(str(path)))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise StrandsDeployError(f"cannot load hook file {path_text}", spec, "it must be a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    module_spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise StrandsDeployError(
            f"{path_text} has no function {name!r}", spec, "name a function defined in that file"
        )
    return fn


def run_hook(root: Path, spec: str, context: dict[str, Any]) -> str | None:
    """None when the hook passed; else why it failed (one line)."""
    try:
        result = load_hook(root, spec)(dict(context))
    except StrandsDeployError as e:
        return e.what
    except Exception as e:
        return f"hook {spec} raised {type(e).__name__}: {e}"
    if result is False:
        return f"hook {spec} returned False"
    return None
