"""docs/tutorial.md: every command of its `console` blocks runs, in order, against the local cloud,
and prints what the tutorial says it prints (`...` stands for any text)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
BIN = Path(sys.executable).parent


def console_blocks(text: str) -> list[list[tuple[str, list[str]]]]:
    """Each ```console block as [(command, expected output lines)]."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        steps: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        blocks.append(steps)
    return blocks


def matches(expected: list[str], output: str) -> str | None:
    """None when the expected lines appear in the output in order (``...`` = any text); else why."""
    lines = output.splitlines()
    at = 0
    for want in expected:
        if want.strip() in ("", "..."):
            continue
        pattern = ".*".join(re.escape(part) for part in want.strip().split("...")) + "$"
        while at < len(lines) and not re.search(pattern, lines[at].strip()):
            at += 1
        if at == len(lines):
            return f"expected a line like {want!r}"
        at += 1
    return None


def test_the_matcher() -> None:
    assert matches(["a ...", "...", "c"], "x\na 1\nb\nc\n") is None
    assert matches(["c", "a ..."], "a 1\nc\n") is not None  # order matters
    assert matches(["deploy complete: 9 changed in ..."], "deploy complete: 2 changed in 1s") is not None
    blocks = console_blocks("```console\n$ one\nout\n$ two\n```\ntext\n```bash\n$ no\n```\n")
    assert blocks == [[("one", ["out"]), ("two", [])]]


def test_every_tutorial_command_runs(tmp_path: Path) -> None:
    blocks = console_blocks(TUTORIAL.read_text())
    commands = [c for block in blocks for c, _ in block]
    assert [c.split()[1] for c in commands if c.startswith("strands-deploy")] == [
        "init", "validate", "deploy", "invoke", "logs", "plan", "deploy", "history",
        "deploy", "rollout", "versions", "rollback", "destroy", "local",
    ]  # fmt: skip
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "STRANDS_LOCAL_PORT": "0",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    cwd = tmp_path
    try:
        for block in blocks:
            for command, expected in block:
                proc = subprocess.run(
                    ["bash", "-c", f'{command}\nstatus=$?\necho "__CWD__$PWD"\nexit $status'],
                    cwd=cwd,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=240,
                )
                output, _, where = (proc.stdout + "\n").rpartition("__CWD__")
                cwd = Path(where.strip())
                shown = output + proc.stderr
                assert proc.returncode == 0, f"`{command}` failed:\n{shown}"
                why = matches(expected, shown)
                assert why is None, f"`{command}`: {why}; it printed:\n{shown}"
    finally:
        project = tmp_path / "tutorial"
        subprocess.run(
            [str(BIN / "strands-deploy"), "-C", str(project), "local", "stop"], env=env, timeout=60
        )
        info = project / ".strands" / "local" / "endpoint.json"
        if info.exists():  # the tutorial's own `local stop` did not run: stop the server by its pid
            os.kill(int(json.loads(info.read_text())["pid"]), signal.SIGTERM)
