"""The generated files (the JSON Schema of strands.yaml, docs/cli.md, docs/troubleshooting.md)
match what the code generates now, and the generators find what they should."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from strands_deploy.cli import docgen

REGENERATE = "run `make docs` (or .venv/bin/python -m strands_deploy.cli.docgen) and commit the result"


@pytest.mark.parametrize("path", list(docgen.GENERATED), ids=lambda p: p.name)
def test_generated_file_is_current(path: Path) -> None:
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    assert committed == docgen.GENERATED[path](), (
        f"{path.relative_to(docgen.REPO_ROOT)} is out of date: {REGENERATE}"
    )


def test_check_mode_names_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = dict(docgen.GENERATED)
    stale = tmp_path / "stale.md"
    stale.write_text("old\n")
    fresh = tmp_path / "fresh.md"
    fresh.write_text("new\n")
    try:
        docgen.GENERATED.clear()
        docgen.GENERATED.update({stale: lambda: "new\n", fresh: lambda: "new\n"})
        assert docgen.stale_files() == [stale]
    finally:
        docgen.GENERATED.clear()
        docgen.GENERATED.update(real)


def test_the_schema_is_the_models(tmp_path: Path) -> None:
    schema = json.loads(docgen.schema_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False and schema["required"] == ["project"]
    agent = schema["$defs"]["AgentConfig"]
    assert agent["additionalProperties"] is False
    assert set(agent["properties"]["expose"]["enum"]) == {"url", "http", "none"}
    # raw forms a `before` validator converts are accepted: `sessions: true`, `auth: NONE`
    assert {"type": ["string", "number", "boolean", "array"]} in agent["properties"]["sessions"]["anyOf"]
    link = agent["properties"]["link"]["items"]
    assert {"type": "string"} in link["anyOf"]  # `link: [tickets]` or `{to: tickets, access: read}`


def test_cli_reference_has_every_command_option_and_subcommand() -> None:
    text = docgen.cli_markdown()
    from strands_deploy.cli.main import COMMANDS

    for name in COMMANDS:
        assert f"## `strands-deploy {name}`" in text
    assert "### `strands-deploy state show`" in text
    assert "### `strands-deploy bootstrap ci-role`" in text
    assert "| `--affected` |" in text and "| `--repo TEXT` |" in text
    assert "*(not available yet)*" not in text, "every command module must import (see the list above)"


def test_error_extraction(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(
        "from strands_deploy.errors import StrandsDeployError\n"
        "def f(env_name, e):\n"
        "    raise StrandsDeployError(f'no state for {env_name}', 'somewhere', 'run ' + 'bootstrap')\n"
        "def g():\n"
        "    raise StrandsDeployError('plain', fix=f'set {e.key}')\n"
        "def h(x):\n"
        "    raise StrandsDeployError(x)  # not a literal: left out\n"
    )
    found = docgen.error_messages(tmp_path)
    assert [(m.module, m.what, m.fix) for m in found] == [
        ("strands_deploy.mod", "no state for {env_name}", "run bootstrap"),
        ("strands_deploy.mod", "plain", "set {key}"),
    ]
    real = docgen.error_messages()
    assert len(real) > 100
    assert any(m.module == "strands_deploy.cli.affected" and "needs git" in m.what for m in real)


def test_cli_reference_skips_nothing_hidden() -> None:
    group = click.Group("g")

    @group.command("shown")
    def shown() -> None:
        """Shown."""

    @group.command("secret", hidden=True)
    def secret() -> None:
        """Hidden."""

    ctx = click.Context(group, info_name="g")
    text = "\n".join(docgen._command_section(group, ctx, 2))
    assert "g shown" in text and "g secret" not in text
