from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent / "strands-deploy"


class Cli:
    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1", "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
        self.env.pop("AWS_PROFILE", None)

    def __call__(self, *args: str, input: str | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN), "-C", str(self.root), *args], capture_output=True, text=True,
                              env=self.env, input=input, timeout=timeout)

    def json(self, *args: str) -> Any:
        proc = self(*args, "--json")
        assert proc.returncode in (0, 2), proc.stderr + proc.stdout
        return json.loads(proc.stdout)


@pytest.fixture
def cli_factory() -> Any:
    return Cli
