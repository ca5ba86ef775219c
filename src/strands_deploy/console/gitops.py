"""git status, diff and commit of ``strands.yaml`` (git run as a subprocess, never a shell)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from strands_deploy.errors import StrandsDeployError

FILE = "strands.yaml"


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("git")
    if exe is None:
        raise StrandsDeployError("git is not installed", fix="install git to see and commit changes")
    return subprocess.run(  # noqa: S603  (fixed arguments, no shell)
        [exe, "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=False
    )


def status(root: Path) -> dict[str, Any]:
    """``{"repo": bool, "status": "modified"|"untracked"|"clean"|..., "diff": text}``."""
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return {"repo": False, "status": "not a git repository", "diff": ""}
    short = _git(root, "status", "--porcelain", "--", FILE).stdout
    code = short[:2].strip()
    word = {"": "clean", "M": "modified", "??": "untracked", "A": "added", "AM": "added", "D": "deleted"}.get(
        code, code
    )
    diff = _git(root, "diff", "HEAD", "--", FILE).stdout if word != "untracked" else ""
    if word in ("untracked", "added") or (not diff and word != "clean"):
        diff = diff or _git(root, "diff", "--no-index", "--", "/dev/null", FILE).stdout
    return {"repo": True, "status": word, "diff": diff}


def commit(root: Path, message: str) -> dict[str, Any]:
    """Commit ``strands.yaml`` alone (other staged changes stay staged, not committed)."""
    if not message.strip():
        raise StrandsDeployError("the commit message is empty", fix="write what the change is for")
    if not status(root)["repo"]:
        raise StrandsDeployError(
            f"{root} is not a git repository", fix="run `git init` in the project folder"
        )
    add = _git(root, "add", "--", FILE)
    done = _git(root, "commit", "-m", message, "--only", "--", FILE) if add.returncode == 0 else add
    if done.returncode != 0:
        raise StrandsDeployError(
            "git commit failed: " + (done.stderr or done.stdout).strip(),
            str(root / FILE),
            "check `git status` in the project folder",
        )
    head = _git(root, "rev-parse", "--short", "HEAD").stdout.strip()
    return {"commit": head, **status(root)}
