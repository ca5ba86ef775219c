"""Where strands-deploy keeps per-user files: one place every layer asks."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV_VAR = "STRANDS_DEPLOY_CACHE_DIR"
APP = "strands-deploy"


def shared_cache_dir() -> Path:
    """The user cache directory of strands-deploy (not created here): ``$STRANDS_DEPLOY_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/strands-deploy``, else ``~/.cache/strands-deploy``."""
    override = os.environ.get(CACHE_ENV_VAR)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP
    return Path.home() / ".cache" / APP
