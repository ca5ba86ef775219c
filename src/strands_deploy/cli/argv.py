"""The command line before click sees it: global flags anywhere, aliases, single-dash long options.

Terraform, Pulumi and uv accept ``--debug``, ``-q`` and ``-v`` wherever they are typed; click
only accepts a group's options before the subcommand. :func:`prepare` moves them to the front
(stopping at ``--``), expands a user-defined alias in place of the command name and refuses
``-env`` (which click would read as ``-e nv``) with a suggestion of ``--env``.

This module is on the start-up path of every command: standard library and click only; the
aliases' files are read only when the command name is not a built-in one.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from strands_deploy.errors import StrandsDeployError

# flag as typed -> flag given to the root group
GLOBAL_FLAGS = {
    "--debug": "--debug",
    "-q": "--quiet",
    "--quiet": "--quiet",
    "-v": "--verbose",
    "--verbose": "--verbose",
}
# root options that take a value (skipped when looking for the command name)
ROOT_VALUE_OPTIONS = {"-C", "--project-dir"}
SINGLE_DASH_LONG = re.compile(r"^-([A-Za-z][A-Za-z0-9-]{2,})(=.*)?$")


@dataclass
class Flags:
    """What the front end knows before the command runs."""

    debug: bool = False
    quiet: bool = False
    verbose: bool = False
    json: bool = False
    aliases: dict[str, str] = field(default_factory=dict)


def split_dashdash(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i:]
    return list(argv), []


def extract_flags(argv: list[str]) -> tuple[list[str], Flags]:
    """Remove the global flags from anywhere before ``--``; return the rest and the flags."""
    head, tail = split_dashdash(argv)
    flags = Flags(json="--json" in head)
    rest: list[str] = []
    front: list[str] = []  # -C DIR typed after the command goes before it
    i = 0
    while i < len(head):
        token = head[i]
        name = GLOBAL_FLAGS.get(token)
        if name is not None:
            setattr(flags, name.lstrip("-"), True)
        elif token in ROOT_VALUE_OPTIONS and i + 1 < len(head):
            front += head[i : i + 2]
            i += 1
        elif token.startswith("--project-dir="):
            front.append(token)
        else:
            rest.append(token)
        i += 1
    if os.environ.get("STRANDS_DEPLOY_DEBUG") == "1":
        flags.debug = True
    return front + rest + tail, flags


def command_index(argv: list[str]) -> int | None:
    """Where the command name is: the first token that is not a root option (or its value)."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            return None
        if token in ROOT_VALUE_OPTIONS:
            i += 2
            continue
        if token.startswith("-"):
            i += 1
            continue
        return i
    return None


def root_project_dir(argv: list[str]) -> Path:
    for i, token in enumerate(argv):
        if token in ROOT_VALUE_OPTIONS and i + 1 < len(argv):
            return Path(argv[i + 1])
        if token.startswith("--project-dir="):
            return Path(token.split("=", 1)[1])
    return Path(".")


def user_config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "strands-deploy" / "config.toml"


def _read_user_aliases(path: Path) -> dict[str, str]:
    import tomllib

    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise StrandsDeployError(
            f"cannot read the user configuration: {e}", str(path), "fix the TOML syntax or delete the file"
        ) from None
    return _alias_table(data.get("aliases"), str(path))


def _read_project_aliases(folder: Path) -> dict[str, str]:
    """``aliases:`` of strands.yaml, read lightly (validate reports the file's other problems)."""
    path = folder / "strands.yaml"
    if not path.is_file():
        return {}
    import yaml

    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return _alias_table(data.get("aliases") if isinstance(data, dict) else None, f"{path}: aliases")


def _alias_table(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise StrandsDeployError(
            "aliases must be a table of name = command line",
            where,
            'write e.g. aliases: {ship: "deploy --env prod --yes"}',
        )
    return {str(k): v for k, v in value.items()}


def load_aliases(folder: Path) -> dict[str, str]:
    """The user's aliases, then the project's (the project's win on a name both define)."""
    return {**_read_user_aliases(user_config_file()), **_read_project_aliases(folder)}


def expand_alias(argv: list[str], builtins: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """Replace an alias name by its command line; also return the aliases read (none when the
    command is a built-in one). Built-in names are never aliases: an alias that would shadow one
    is ignored, and said so."""
    i = command_index(argv)
    names = set(builtins)
    if i is None or argv[i] in names:
        return argv, {}
    aliases = load_aliases(root_project_dir(argv))
    usable = {k: v for k, v in aliases.items() if k not in names}
    shadowing = sorted(k for k in aliases if k in names)
    if shadowing:
        click.echo(
            f"note: alias(es) {', '.join(shadowing)} ignored: an alias cannot replace a built-in command",
            err=True,
        )
    line = usable.get(argv[i])
    if line is None:
        return argv, usable
    expansion = shlex.split(line)
    if expansion and expansion[0] == "strands-deploy":
        expansion = expansion[1:]
    if not expansion or expansion[0] == argv[i]:
        raise StrandsDeployError(
            f"alias {argv[i]!r} expands to {line!r}, which is not a command",
            "aliases",
            "make the alias start with a built-in command, e.g. deploy --env prod",
        )
    return argv[:i] + expansion + argv[i + 1 :], usable


def chain_options(group: click.Group, argv: list[str]) -> set[str]:
    """Every option name (``--env``, ``-e``, Terraform-style ``-lock``) of the command chain named
    on the line (root, command, subcommand)."""
    ctx = click.Context(group)
    options: set[str] = set()
    command: click.Command | None = group
    rest = argv
    while command is not None:
        for param in command.params:
            options.update(param.opts + param.secondary_opts)
        if not isinstance(command, click.Group):
            break
        i = command_index(rest)
        if i is None:
            break
        try:
            command = command.get_command(ctx, rest[i])
        except Exception:  # noqa: BLE001 - an import failure is reported when click runs it
            break
        rest = rest[i + 1 :]
    return options | {"--help"}


def check_single_dash(group: click.Group, argv: list[str]) -> None:
    """``-env`` is a mistyped ``--env`` (click would parse it as ``-e nv``): an error that says so.
    A command may declare a single-dash long option itself (plan's ``-lock``): that one is used."""
    head, _ = split_dashdash(argv)
    candidates = [t for t in head if SINGLE_DASH_LONG.match(t)]
    if not candidates:
        return
    known = chain_options(group, head)
    longs = sorted(o for o in known if o.startswith("--"))
    for token in candidates:
        m = SINGLE_DASH_LONG.match(token)
        assert m is not None
        if token.split("=")[0] in known:
            continue
        word = "--" + m.group(1)
        close = [word] if word in known else difflib.get_close_matches(word, longs, n=1, cutoff=0.8)
        if close:
            raise click.UsageError(
                f"{token.split('=')[0]} is not an option (a long option takes two dashes). "
                f"Did you mean {close[0]}{m.group(2) or ''}?"
            )


def prepare(group: click.Group, argv: list[str], builtins: Iterable[str]) -> tuple[list[str], Flags]:
    """The argv click should parse, and the flags the front end needs before it does."""
    expanded, aliases = expand_alias(list(argv), builtins)
    rest, flags = extract_flags(expanded)
    flags.aliases = aliases
    check_single_dash(group, rest)
    front = [f"--{name}" for name in ("debug", "quiet", "verbose") if getattr(flags, name)]
    return front + rest, flags
