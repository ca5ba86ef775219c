"""Generated documentation: the JSON Schema of strands.yaml, ``docs/cli.md`` and
``docs/troubleshooting.md``, each made from the code itself so it cannot drift.

``python -m strands_deploy.cli.docgen`` rewrites all three (``make docs``); ``--check`` exits 1
naming each file that is out of date (the tests run the same check).
"""

from __future__ import annotations

import ast
import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # src/strands_deploy
REPO_ROOT = PACKAGE_ROOT.parents[1]
SCHEMA_PATH = PACKAGE_ROOT / "schema" / "strands.schema.json"
CLI_DOC = REPO_ROOT / "docs" / "cli.md"
TROUBLESHOOTING_DOC = REPO_ROOT / "docs" / "troubleshooting.md"
REGENERATE = "make docs  (or: .venv/bin/python -m strands_deploy.cli.docgen)"
# where editors fetch the schema from: the file of the released version's tag (see
# docs/configuration.md, "Editor support"); the installed copy is the same file
SCHEMA_URL = (
    "https://raw.githubusercontent.com/strands-deploy/strands-deploy/main/"
    "src/strands_deploy/schema/strands.schema.json"
)
HELP_WIDTH = 100


# -- JSON Schema ----------------------------------------------------------------------------------
def json_schema() -> dict[str, Any]:
    """The JSON Schema of strands.yaml, from the pydantic models (validation mode)."""
    from strands_deploy.config.schema import ProjectConfig

    schema = ProjectConfig.model_json_schema(mode="validation")
    _widen_before_validated(schema, ProjectConfig)
    head: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URL,
        "title": "strands.yaml",
        "description": "A strands-deploy project: agents, resources and environments. "
        "Generated from strands_deploy.config.schema; do not edit.",
    }
    schema.pop("title", None)
    return {**head, **schema}


# what a `mode="before"` validator may turn into the field's type: scalars and lists (``true`` for
# `sessions:`, ``NONE`` for `auth:`, ``"5m"`` for a duration, ``"10%"`` for a fraction...)
RAW_FORMS: dict[str, Any] = {"type": ["string", "number", "boolean", "array"]}


def _models(root: type[Any]) -> dict[str, type[Any]]:
    """Every pydantic model reachable from ``root``'s fields, by class name (the $defs names)."""
    from typing import get_args

    from pydantic import BaseModel

    found: dict[str, type[Any]] = {}
    todo: list[Any] = [root]
    while todo:
        item = todo.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item.__name__ in found:
                continue
            found[item.__name__] = item
            todo.extend(f.annotation for f in item.model_fields.values())
        todo.extend(get_args(item))
    return found


def _widen_before_validated(schema: dict[str, Any], root: type[Any]) -> None:
    """Accept, in the schema, the raw forms that ``before`` validators convert: the JSON Schema
    of a field is that of its *converted* type, and an editor must not flag what the tool takes."""
    defs = schema.get("$defs", {})
    shorthand: set[str] = set()
    for name, model in _models(root).items():
        decorators = model.__pydantic_decorators__
        node = schema if model is root else defs.get(name)
        if node is None:
            continue
        for dec in decorators.field_validators.values():
            if dec.info.mode != "before":
                continue
            for field in dec.info.fields:
                prop = node.get("properties", {}).get(field)
                if prop is not None:
                    extra = {k: prop.pop(k) for k in ("default", "title", "description") if k in prop}
                    node["properties"][field] = {"anyOf": [dict(prop), RAW_FORMS], **extra}
        if any(d.info.mode == "before" for d in decorators.model_validators.values()):
            shorthand.add(f"#/$defs/{name}")
    if shorthand:
        _widen_refs(schema, shorthand)


def _widen_refs(node: Any, refs: set[str]) -> None:
    """Each ``{"$ref": R}`` with R in ``refs`` also takes a scalar (a model's shorthand form)."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, dict) and value.get("$ref") in refs and len(value) == 1:
                node[key] = {"anyOf": [value, {"type": ["string", "number", "boolean"]}]}
            else:
                _widen_refs(value, refs)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, dict) and value.get("$ref") in refs and len(value) == 1:
                node[i] = {"anyOf": [value, {"type": ["string", "number", "boolean"]}]}
            else:
                _widen_refs(value, refs)


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


# -- docs/cli.md ----------------------------------------------------------------------------------
def _load_commands() -> tuple[click.Group, list[tuple[str, click.Command | None, str]]]:
    """(root group, [(name, command or None when its module does not import, one-line help)])."""
    from strands_deploy.cli.main import COMMANDS, cli

    out: list[tuple[str, click.Command | None, str]] = []
    for name, (module, short) in COMMANDS.items():
        try:
            command = importlib.import_module(module).command
        except ImportError:
            command = None
        out.append((name, command, short))
    return cli, out


def _options(cmd: click.Command, ctx: click.Context) -> list[tuple[str, str]]:
    rows = []
    for param in cmd.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None:
            rows.append((record[0], " ".join(record[1].split())))
    return rows


def _command_section(cmd: click.Command, ctx: click.Context, depth: int) -> list[str]:
    path = ctx.command_path
    lines = [f"{'#' * depth} `{path}`", ""]
    text = (cmd.help or cmd.short_help or "").strip()
    if text:
        lines += [click.unstyle(p.strip()) for p in _paragraphs(text)]
    pieces = cmd.collect_usage_pieces(ctx)
    lines += ["```", f"{path} {' '.join(pieces)}".rstrip(), "```", ""]
    rows = _options(cmd, ctx)
    if rows:
        lines += ["| Option | Description |", "| --- | --- |"]
        lines += [f"| `{_cell(opt)}` | {_cell(desc)} |" for opt, desc in rows]
        lines.append("")
    if isinstance(cmd, click.Group):
        for sub_name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, sub_name)
            if sub is not None and not sub.hidden:
                sub_ctx = click.Context(sub, info_name=sub_name, parent=ctx, terminal_width=HELP_WIDTH)
                lines += _command_section(sub, sub_ctx, depth + 1)
    return lines


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for block in text.split("\n\n"):
        block = block.replace("\b\n", "")
        out += [" ".join(block.split()), ""]
    return out


def _cell(text: str) -> str:
    """Text for a Markdown table cell: ``|`` escaped, and ``<`` outside code spans (not a tag)."""
    parts = text.replace("|", "\\|").split("`")
    return "`".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(parts))


def cli_markdown() -> str:
    root, commands = _load_commands()
    settings = {**root.context_settings, "terminal_width": HELP_WIDTH}
    root_ctx = click.Context(root, info_name="strands-deploy", **settings)
    lines = [
        "# Command reference",
        "",
        "<!-- Generated from the CLI by `python -m strands_deploy.cli.docgen`; do not edit. -->",
        "",
        "Every command and option of `strands-deploy`, as `--help` shows them. The global options",
        "go before the command: `strands-deploy -C path/to/project --debug deploy`.",
        "",
    ]
    rows = _options(root, root_ctx)
    lines += ["| Global option | Description |", "| --- | --- |"]
    lines += [f"| `{_cell(opt)}` | {_cell(desc)} |" for opt, desc in rows]
    lines += ["", "| Command | What it does |", "| --- | --- |"]
    lines += [f"| [`{name}`](#strands-deploy-{name}) | {short} |" for name, _, short in commands]
    lines.append("")
    for name, command, short in commands:
        if command is None:
            lines += [f"## `strands-deploy {name}`", "", f"{short}", "", "*(not available yet)*", ""]
            continue
        ctx = click.Context(command, info_name=name, parent=root_ctx, terminal_width=HELP_WIDTH)
        lines += _command_section(command, ctx, 2)
    return "\n".join(lines).rstrip() + "\n"


# -- docs/troubleshooting.md ----------------------------------------------------------------------
ERROR_TYPES = {
    "StrandsDeployError",
    "AwsCallError",
    "StateWriteError",
    "StateConflictError",
    "LockLostError",
    "LockedError",
    "StoreError",
}


@dataclass(frozen=True)
class ErrorMessage:
    module: str
    line: int
    what: str
    fix: str | None


def _text(node: ast.expr | None) -> str | None:
    """A string literal or f-string as text, each ``{expression}`` as a placeholder."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                parts.append(_placeholder(value.value))
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is not None or right is not None:
            return (left if left is not None else _placeholder(node.left)) + (
                right if right is not None else _placeholder(node.right)
            )
    return None


def _placeholder(node: ast.expr) -> str:
    """A name or attribute as a placeholder (``self.env_name`` -> ``{env_name}``); anything more
    complex as ``{…}``. Never ``<...>``: Markdown would read it as an HTML tag."""
    if isinstance(node, ast.Attribute):
        name = node.attr
    elif isinstance(node, ast.Name):
        name = node.id
    else:
        return "{…}"
    return "{" + (name.strip("_") or "…") + "}"


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def error_messages(root: Path = PACKAGE_ROOT) -> list[ErrorMessage]:
    """Every error the source raises with a literal message: what and fix, by module."""
    found: list[ErrorMessage] = []
    for path in sorted(root.rglob("*.py")):
        if "templates" in path.relative_to(root).parts:
            continue
        module = ".".join(("strands_deploy", *path.relative_to(root).with_suffix("").parts))
        module = module.removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _call_name(node) not in ERROR_TYPES:
                continue
            args = node.args
            kwargs = {k.arg: k.value for k in node.keywords if k.arg}
            what = _text(args[0] if args else kwargs.get("what"))
            fix = _text(args[2] if len(args) > 2 else kwargs.get("fix"))
            if what:
                found.append(ErrorMessage(module, node.lineno, what, fix))
    return found


MARKER = "<!-- Everything below is generated from the source by `python -m strands_deploy.cli.docgen`. -->"


def troubleshooting_markdown() -> str:
    """The hand-written part of docs/troubleshooting.md (above the marker) and, below it, every
    error message of the source."""
    current = TROUBLESHOOTING_DOC.read_text(encoding="utf-8") if TROUBLESHOOTING_DOC.exists() else ""
    intro = current.split(MARKER)[0].rstrip() or "# Troubleshooting"
    by_module: dict[str, list[ErrorMessage]] = {}
    for message in error_messages():
        by_module.setdefault(message.module, []).append(message)
    lines = [intro, "", MARKER, "", "## Every error message, by where it comes from", ""]
    for module in sorted(by_module):
        lines += [f"### `{module}`", "", "| Error | Fix |", "| --- | --- |"]
        seen: set[tuple[str, str | None]] = set()
        for m in sorted(by_module[module], key=lambda m: m.line):
            if (m.what, m.fix) in seen:
                continue
            seen.add((m.what, m.fix))
            lines.append(f"| {_cell(_inline(m.what))} | {_cell(_inline(m.fix or '—'))} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _inline(text: str) -> str:
    return " ".join(text.split())


# -- command line ---------------------------------------------------------------------------------
GENERATED: dict[Path, Callable[[], str]] = {
    SCHEMA_PATH: schema_text,
    CLI_DOC: cli_markdown,
    TROUBLESHOOTING_DOC: troubleshooting_markdown,
}


def stale_files() -> list[Path]:
    """The generated files whose committed text differs from what the code generates now."""
    stale = []
    for path, make in GENERATED.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != make():
            stale.append(path)
    return stale


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        stale = stale_files()
        for path in stale:
            print(f"{path.relative_to(REPO_ROOT)} is out of date: run {REGENERATE}", file=sys.stderr)
        return 1 if stale else 0
    for path, make in GENERATED.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make(), encoding="utf-8")
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
