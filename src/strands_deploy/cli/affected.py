"""`--affected [--base REF]`: the agents a change touches, from git.

An agent is affected when, since the merge base of ``REF`` and ``HEAD`` (committed, staged,
unstaged or untracked):

- a file in its folder changed (its code, its requirements, its ``strands.agent.yaml``), or its
  requirements file outside the folder;
- its entry in ``strands.yaml`` changed (or the environment's override of it);
- a shared resource it uses changed in ``strands.yaml`` (linked, a trigger's source, or named in a
  ``${resource.NAME...}`` reference);
- a project-wide setting changed (``region``, ``defaults``, ``tags``, the environment's settings):
  then every agent is.

Agents removed from the configuration are not selected (``plan`` without ``--affected`` shows
their deletion).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strands_deploy.errors import StrandsDeployError

if TYPE_CHECKING:
    from strands_deploy.config.loader import Project
    from strands_deploy.config.schema import AgentConfig

PROJECT_WIDE = ("project", "region", "defaults", "tags")


@dataclass
class Affected:
    base: str
    agents: dict[str, str] = field(default_factory=dict)  # agent -> why (the first reason found)

    def add(self, agent: str, why: str) -> None:
        self.agents.setdefault(agent, why)

    @property
    def names(self) -> list[str]:
        return sorted(self.agents)


def git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise StrandsDeployError(
            "--affected needs git, which is not installed", fix="install git, or select with --agent"
        ) from None
    if proc.returncode != 0:
        message = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        raise StrandsDeployError(
            f"git {args[0]} failed: {message}",
            str(root),
            "run inside a git repository, and fetch the base first (e.g. `git fetch origin main`; "
            "in CI check out with full history: fetch-depth: 0)",
        )
    return proc.stdout


def changed_files(root: Path, base: str) -> tuple[Path, str, set[Path]]:
    """(repository top, merge base commit, absolute paths changed since it, untracked included)."""
    top = Path(git(root, "rev-parse", "--show-toplevel").strip()).resolve()
    merge_base = git(root, "merge-base", base, "HEAD").strip()
    names = git(root, "diff", "--name-only", "-z", merge_base, "--").split("\0")
    names += git(root, "ls-files", "--others", "--exclude-standard", "-z", "--full-name").split("\0")
    return top, merge_base, {(top / n).resolve() for n in names if n}


def old_config(top: Path, merge_base: str, source: Path) -> dict[str, Any] | None:
    """strands.yaml as it was at the merge base (None when it did not exist)."""
    import yaml

    rel = source.resolve().relative_to(top).as_posix()
    proc = subprocess.run(
        ["git", "-C", str(top), "show", f"{merge_base}:{rel}"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return None
    try:
        loaded = yaml.safe_load(proc.stdout)
    except yaml.YAMLError:
        return None
    return loaded if isinstance(loaded, dict) else None


def affected_agents(project: Project, env_name: str, base: str = "origin/main") -> Affected:
    """The agents of ``project`` that the changes since ``base`` touch, each with a reason."""
    import yaml

    result = Affected(base)
    top, merge_base, changed = changed_files(project.root, base)
    agents = project.agents
    before = old_config(top, merge_base, project.source)
    now = yaml.safe_load(project.source.read_text(encoding="utf-8")) or {}
    if before is None:
        for name in agents:
            result.add(name, f"{project.source.name} is new since {base}")
        return result
    wide = [k for k in PROJECT_WIDE if before.get(k) != now.get(k)]
    env_before = _section(before, "environments").get(env_name) or {}
    env_now = _section(now, "environments").get(env_name) or {}
    if _without(env_before, "agents", "resources") != _without(env_now, "agents", "resources"):
        wide.append(f"environments.{env_name}")
    if wide:
        for name in agents:
            result.add(name, f"{', '.join(wide)} changed")
        return result
    _config_changes(result, before, now, env_before, env_now, agents)
    for name, agent in agents.items():
        folder = (project.root / agent.path).resolve()
        requirements = (folder / agent.requirements).resolve()
        for path in sorted(changed):
            if path == requirements or path.is_relative_to(folder):
                result.add(name, f"{path.relative_to(top).as_posix()} changed")
                break
    return result


def _config_changes(
    result: Affected,
    before: dict[str, Any],
    now: dict[str, Any],
    env_before: dict[str, Any],
    env_now: dict[str, Any],
    agents: dict[str, AgentConfig],
) -> None:
    for name in agents:
        if _section(before, "agents").get(name) != _section(now, "agents").get(name):
            result.add(name, f"agents.{name} changed in strands.yaml")
        elif _section(env_before, "agents").get(name) != _section(env_now, "agents").get(name):
            result.add(name, "its override in the environment changed in strands.yaml")
    resources_before = {**_section(before, "resources")}
    resources_now = {**_section(now, "resources")}
    changed_resources = {
        r
        for r in set(resources_before) | set(resources_now)
        if resources_before.get(r) != resources_now.get(r)
        or _section(env_before, "resources").get(r) != _section(env_now, "resources").get(r)
    }
    for name, agent in agents.items():
        for resource in sorted(uses(agent) & changed_resources):
            result.add(name, f"it uses resource {resource}, which changed in strands.yaml")
            break


def uses(agent: AgentConfig) -> set[str]:
    """The shared resources an agent depends on: links, trigger sources, ${resource.X} references."""
    from strands_deploy.config.loader import Reference, ReferenceSyntaxError, parse_references

    names = {str(link) for link in agent.link}
    if agent.trigger:
        names.add(agent.trigger)
    for trigger in agent.triggers:
        if trigger.kind in ("queue", "topic", "bucket", "table"):
            names.add(str(trigger.source))
    for value in agent.environment.values():
        try:
            parts = parse_references(value)
        except ReferenceSyntaxError:
            continue
        names.update(p.name for p in parts if isinstance(p, Reference) and p.kind == "resource" and p.name)
    return names


def _section(doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def _without(doc: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in keys}


def select(
    root: Path, env_name: str, base: str, agents: tuple[str, ...], targets: tuple[str, ...]
) -> tuple[str, ...]:
    """The ``--agent`` selection ``--affected`` stands for; says on stderr which agents and why,
    and ends the command (exit 0) when no agent is affected."""
    import click

    from strands_deploy.cli.common import err_console
    from strands_deploy.config.loader import load_project

    if agents or targets:
        raise click.UsageError("--affected selects the agents itself: leave out --agent and --target")
    found = affected_agents(load_project(root).for_environment(env_name), env_name, base)
    con = err_console()
    if not found.agents:
        con.print(f"No agent changed since {base}: nothing to do.", highlight=False)
        raise click.exceptions.Exit(0)
    con.print(f"Affected since {base}: {', '.join(found.names)}", highlight=False)
    for name in found.names:
        con.print(f"  [dim]{name}: {found.agents[name]}[/dim]", highlight=False)
    return tuple(found.names)
