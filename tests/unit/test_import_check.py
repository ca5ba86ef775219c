"""An agent importing a package its requirements do not provide is an error before deploying
(locally it worked with the host's packages; on AWS it fails with `No module named ...`)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from strands_deploy.config.loader import load_project
from strands_deploy.packaging.imports import import_problems, iter_imports, undeclared_imports
from tests.helpers import write_project


def agent(tmp_path: Path, code: str, files: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "agent"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "agent.py").write_text(textwrap.dedent(code))
    for name, text in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def modules(problems: list) -> list[str]:  # type: ignore[type-arg]
    return [p.what.split("imports ", 1)[1].split(",", 1)[0].strip("'") for p in problems]


def test_an_empty_requirements_file_is_caught_with_file_and_line(tmp_path: Path) -> None:
    folder = agent(tmp_path, "import os\n\nfrom strands import Agent\n\nagent = Agent()\n")
    (problem,) = undeclared_imports(folder, set())
    assert problem.where == f"{folder / 'agent.py'}:3:1"
    assert "imports 'strands'" in problem.what and "strands-agents" in problem.what
    assert problem.fix and problem.fix.startswith("add strands-agents to requirements.txt")


def test_what_a_declared_package_requires_is_provided(tmp_path: Path) -> None:
    folder = agent(
        tmp_path,
        """\
        import boto3, botocore          # the Lambda runtime has them
        import pydantic                 # strands-agents requires it
        from strands import Agent
        from strands.models import BedrockModel
        agent = Agent()
        """,
    )
    assert undeclared_imports(folder, {"strands-agents"}) == []
    assert undeclared_imports(folder, {"Strands_Agents"}) == []  # names are normalized
    assert modules(undeclared_imports(folder, set())) == ["pydantic", "strands"]


def test_stdlib_local_relative_and_runtime_imports_are_fine(tmp_path: Path) -> None:
    folder = agent(
        tmp_path,
        """\
        import json, sys, asyncio, __future__
        import tools                     # tools.py next to it
        from helpers.text import clean   # a package of the agent
        from . import sibling
        from .helpers import x
        import _strands_runtime
        import dateutil, urllib3, jmespath, s3transfer, six
        """,
        {"tools.py": "X = 1\n", "helpers/__init__.py": "", "helpers/text.py": "def clean(s): return s\n"},
    )
    assert undeclared_imports(folder, set()) == []


def test_optional_and_type_checking_imports_are_not_reported(tmp_path: Path) -> None:
    folder = agent(
        tmp_path,
        """\
        from typing import TYPE_CHECKING
        import typing
        try:
            import yaml
        except ImportError:
            yaml = None
        try:
            import rich
        except (ValueError, ModuleNotFoundError):
            rich = None
        if TYPE_CHECKING:
            import pydantic
        if typing.TYPE_CHECKING:
            import pydantic_core
        else:
            import packaging
        try:
            import click
        except ValueError:
            pass
        def later():
            import werkzeug
        """,
    )
    assert modules(undeclared_imports(folder, set())) == ["packaging", "click", "werkzeug"]


def test_distribution_and_import_names_that_differ(tmp_path: Path) -> None:
    folder = agent(tmp_path, "import yaml\nimport dotenv\nfrom bs4 import BeautifulSoup\nimport PIL\n")
    assert undeclared_imports(folder, {"PyYAML", "python-dotenv", "beautifulsoup4", "pillow"}) == []
    (problem, *_) = undeclared_imports(folder, {"python-dotenv", "beautifulsoup4", "pillow"})
    assert "imports 'yaml'" in problem.what and "PyYAML" in problem.what


def test_unsure_means_no_error(tmp_path: Path) -> None:
    folder = agent(tmp_path, "import totally_unknown_module_xyz\nimport rich\n")
    # not installed anywhere and in no table: nothing can say it is missing
    assert modules(undeclared_imports(folder, set())) == ["rich"]
    # a declared package that is not installed here may bring rich along
    assert undeclared_imports(folder, {"some-internal-sdk"}) == []
    # unless the names are a lock file's complete list
    assert modules(undeclared_imports(folder, {"some-internal-sdk"}, closed=True)) == ["rich"]


def test_one_problem_per_module_at_its_first_import(tmp_path: Path) -> None:
    folder = agent(tmp_path, "import rich\n", {"lib/a.py": "import rich.console\nimport rich\n"})
    (problem,) = undeclared_imports(folder, set(), source="uv.lock")
    assert problem.where == f"{folder / 'agent.py'}:1:1"
    assert problem.fix and "uv.lock" in problem.fix
    assert [s.module for s in iter_imports(folder)] == ["rich", "rich", "rich"]


def test_files_that_do_not_parse_are_skipped(tmp_path: Path) -> None:
    folder = agent(tmp_path, "import rich\n", {"broken.py": "def broken(:\n"})
    assert modules(undeclared_imports(folder, set())) == ["rich"]


PROJECT = """\
project: acme
region: us-east-1
agents:
  good: {path: agents/good}
  bare: {path: agents/bare}
  url: {path: agents/url}
  loop: {path: agents/loop}
"""


def test_import_problems_name_the_agent(tmp_path: Path) -> None:
    code = "from strands import Agent\nagent = Agent()\n"
    root = write_project(tmp_path / "p", PROJECT, agents=dict.fromkeys(["good", "bare", "url", "loop"], code))
    (root / "agents" / "bare" / "requirements.txt").write_text("")
    # a requirement without a name may provide anything: not judged
    (root / "agents" / "url" / "requirements.txt").write_text("https://example.com/sdk.tar.gz\n")
    (root / "agents" / "loop" / "requirements.txt").write_text("-r requirements.txt\n")
    problems = import_problems(load_project(root))
    assert [p.what.split(":", 1)[0] for p in problems] == ["agent 'bare'", "agent 'loop'"]
    assert "imports 'strands'" in problems[0].what
    assert "cycle" in problems[1].what
    assert import_problems(load_project(root), ["good"]) == []
