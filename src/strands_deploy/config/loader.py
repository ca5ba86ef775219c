"""Load strands.yaml (+ discovered agents) into a validated :class:`Project`.

Every problem is collected and reported at once, each with file:line:column and a suggestion
where one fits; nothing here raises a traceback at the user. The semantic checks (links,
triggers, folders) also run on what validates of a configuration with schema errors, so one run
shows every problem.

``load_project`` reads configuration only: it checks that each agent's entry file exists but does
not parse agent code, so commands that read what is deployed work while an agent's code is
broken. :func:`code_problems` checks the code (syntax, entry symbol) where it matters: ``validate``,
and before planning or deploying.
"""

from __future__ import annotations

import ast
import difflib
import functools
import os
import re
import stat
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from strands_deploy.config.schema import (
    FIX_MARK,
    NAME_RE,
    AgentConfig,
    AgentFileConfig,
    AlarmsConfig,
    Cors,
    Defaults,
    EnvironmentConfig,
    JwtConfig,
    LinkEntry,
    ProjectConfig,
    ResourceConfig,
    SessionsConfig,
    StateConfig,
)
from strands_deploy.config.yamlpos import Located, Mark, YamlSyntaxError, load_located
from strands_deploy.errors import ConfigError, StrandsDeployError

CONFIG_FILE = "strands.yaml"
AGENT_FILE = "strands.agent.yaml"
LOCAL_ENV = "local"

# matched against the lower-cased action (IAM action names are case-insensitive)
WRITE_ACTION_RE = re.compile(
    r"(^\*$|:\*$|:(put|create|delete|update|write|send|publish|attach|detach|modify|set|tag|untag|remove|add|invoke|pass|batchwrite|restore|start|stop|terminate)[a-z0-9]*$)"
)
# Actions that hand out identities or keys: on a wildcard resource they need `allow_wildcards`
# *and* `wildcards_reason`. A pattern of the user's counts when it can match one of them.
SENSITIVE_ACTIONS = ("iam:PassRole", "iam:*", "sts:AssumeRole", "kms:*")


@dataclass
class Project:
    root: Path
    source: Path
    config: ProjectConfig
    agents: dict[str, AgentConfig]
    agent_files: dict[str, Path] = field(default_factory=dict)
    # where each agent's `entry` is written (file:line:col), for code_problems' messages
    entry_marks: dict[str, str] = field(default_factory=dict)
    # where each agent is declared (file:line:col), for problems found at synthesis
    agent_marks: dict[str, str] = field(default_factory=dict)
    # valid, but worth a second look (a shared role...): `validate` prints them, exit code 0.
    # The project as loaded holds those of every environment's overrides too; the project of one
    # environment (:meth:`for_environment`) only its own.
    warnings: list[StrandsDeployError] = field(default_factory=list)
    # the agents and resources of each environment with `agents:`/`resources:` overrides, merged
    overridden: dict[str, EnvironmentSettings] = field(default_factory=dict)
    # the project as loaded, when this is the project of one environment (see for_environment)
    base: Project | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.config.project

    def for_environment(self, env: str) -> Project:
        """The project as environment ``env`` deploys it: its ``agents``, ``config.agents`` and
        ``config.resources`` with the environment's overrides merged in (see :func:`merge_settings`).
        Other environments are unaffected; without overrides anywhere this is the project itself."""
        base = self.base or self
        if not base.overridden:
            return base
        others = {id(w) for name, s in base.overridden.items() if name != env for w in s.warnings}
        warnings = [w for w in base.warnings if id(w) not in others]
        settings = base.overridden.get(env)
        if settings is None:
            return replace(base, warnings=warnings, base=base)
        config = base.config.model_copy(
            update={"agents": settings.config_agents, "resources": settings.resources}
        )
        return replace(base, config=config, agents=settings.agents, warnings=warnings, base=base)

    def environment_names(self) -> list[str]:
        names = list(self.config.environments)
        if LOCAL_ENV not in names:
            names.insert(0, LOCAL_ENV)
        return names

    def environment(self, name: str) -> EnvironmentConfig:
        if name in self.config.environments:
            return self.config.environments[name]
        if name == LOCAL_ENV:
            return EnvironmentConfig()
        raise StrandsDeployError(
            f"unknown environment {name!r}",
            where=str(self.source),
            fix=_suggest(name, self.environment_names(), "add it under `environments:` in strands.yaml"),
        )

    def region(self, env: str) -> str:
        return self.environment(env).region or self.config.region

    def is_emulated(self, env: str) -> bool:
        """``local``, or an environment sending every call to an ``endpoint:`` (moto, LocalStack):
        not reachable from the internet, and nothing in it is real data."""
        declared = self.config.environments.get(env)
        return env == LOCAL_ENV or (declared is not None and declared.endpoint is not None)


@dataclass(frozen=True)
class EnvironmentSettings:
    """One environment's agents and resources with its overrides merged over the top-level ones."""

    config_agents: dict[str, AgentConfig]  # those declared in strands.yaml (ProjectConfig.agents)
    agents: dict[str, AgentConfig]  # every agent (with the discovered ones), as Project.agents
    resources: dict[str, ResourceConfig]
    warnings: list[StrandsDeployError] = field(default_factory=list)  # this environment's own


def _suggest(word: str, options: list[str] | set[str], otherwise: str) -> str:
    close = difflib.get_close_matches(str(word), sorted(options), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return otherwise


def _fields_for(loc: tuple[Any, ...]) -> set[str]:
    """The field names allowed at the mapping that holds ``loc`` (for 'did you mean')."""
    models: dict[tuple[Any, ...], type[BaseModel]] = {
        (): ProjectConfig,
        ("defaults",): Defaults,
        ("agents", "*"): AgentConfig,
        ("agents", "*", "cors"): Cors,
        ("agents", "*", "jwt"): JwtConfig,
        ("agents", "*", "sessions"): SessionsConfig,
        ("agents", "*", "link", "*"): LinkEntry,
        ("resources", "*"): ResourceConfig,
        ("environments", "*"): EnvironmentConfig,
        ("environments", "*", "state"): StateConfig,
    }
    parent = tuple(loc[:-1])
    pattern = tuple(
        "*"
        if isinstance(p, int) or (i == 1 and parent and parent[0] in ("agents", "resources", "environments"))
        else p
        for i, p in enumerate(parent)
    )
    model = models.get(pattern)
    return set(model.model_fields) if model else set()


def _pydantic_problems(
    err: ValidationError,
    located: Located,
    prefix: tuple[Any, ...] = (),
    fields_prefix: tuple[Any, ...] | None = None,
) -> list[StrandsDeployError]:
    """``prefix``: where the validated mapping is in ``located``; ``fields_prefix``: where a mapping
    of that model sits in strands.yaml, for the 'did you mean' of unknown keys (default: the
    project's own layout, ``prefix`` left out)."""
    problems = []
    for e in err.errors():
        loc = (*prefix, *e["loc"])
        kind = e["type"]
        msg = str(e["msg"]).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            key = loc[-1]
            mark = located.where(loc, key=True)
            own = tuple(e["loc"])
            allowed = _fields_for((*fields_prefix, *own) if fields_prefix is not None else own)
            hint = _suggest(str(key), allowed, f"remove it; allowed here: {', '.join(sorted(allowed))}")
            problems.append(StrandsDeployError(f"unknown key {key!r}", str(mark), hint))
            continue
        mark = located.where(loc)
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        fix: str | None = None
        if kind == "missing":
            mark = located.where(loc[:-1])
            fix = f"add `{loc[-1]}:`"
            msg = f"missing required key {loc[-1]!r}"
        elif kind == "value_error" and FIX_MARK in msg:
            msg, fix = msg.split(FIX_MARK, 1)
        elif kind == "literal_error":
            expected = (e.get("ctx") or {}).get("expected", "")
            options = re.findall(r"'([^']*)'", str(expected))
            fix = _suggest(str(e.get("input")), options, f"use one of: {', '.join(options)}")
        problems.append(StrandsDeployError(f"{dotted}: {msg}", str(mark), fix))
    return problems


def find_project_root(start: Path) -> Path:
    try:
        start = Path(os.path.realpath(start))
        for d in (start, *start.parents):
            if (d / CONFIG_FILE).exists():
                return d
    except OSError as e:
        raise StrandsDeployError(
            f"cannot look for {CONFIG_FILE} in {start}: {e.strerror}",
            str(start),
            "pass an existing project folder with -C <folder>",
        ) from None
    raise StrandsDeployError(
        f"no {CONFIG_FILE} in {start} or any parent folder",
        fix="run `strands-deploy init` to create a project, or pass -C <project folder>",
    )


def load_project(start: Path) -> Project:
    """The validated project (configuration only: agent code is checked by :func:`code_problems`)."""
    project, problems, _ = _load(start)
    if problems:
        raise ConfigError(sorted(problems, key=_problem_order))
    return project


def validate_project(start: Path) -> Project:
    """Like :func:`load_project`, and also checks every agent's code: all problems in one ConfigError.

    The code of agents whose configuration is (partly) invalid is checked too, as far as their
    folder and entry file are known, so one run shows configuration and code problems together.
    """
    project, problems, unchecked = _load(start)
    checkable = [
        name
        for name, agent in sorted(project.agents.items())
        if name not in unchecked
        and _inside(project.root / agent.path, project.root)
        and _is_file(project.root / agent.path / agent.entry.partition(":")[0])
    ]
    problems = problems + code_problems(project, checkable)
    # an environment whose overrides move an agent's code (`path`, `entry`) runs other code
    for env_name, settings in project.overridden.items():
        moved = [
            name
            for name, agent in sorted(settings.agents.items())
            if (agent.path, agent.entry) != (project.agents[name].path, project.agents[name].entry)
            and _inside(project.root / agent.path, project.root)
            and _is_file(project.root / agent.path / agent.entry.partition(":")[0])
        ]
        problems += [
            StrandsDeployError(f"environment {env_name!r}: {p.what}", p.where, p.fix)
            for p in code_problems(project.for_environment(env_name), moved)
        ]
    if problems:
        raise ConfigError(sorted(problems, key=_problem_order))
    return project


def _load(start: Path) -> tuple[Project, list[StrandsDeployError], set[str]]:
    """The project (its config partial when there are problems), the problems, and the agents
    whose `path` is invalid."""
    root = find_project_root(start)
    source = root / CONFIG_FILE
    problems: list[StrandsDeployError] = []
    located = _read_yaml(source)
    raw = located.data
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            [
                StrandsDeployError(
                    "strands.yaml must be a mapping (key: value)",
                    f"{source}:1:1",
                    "start with `project: <name>`",
                )
            ]
        )
    for path, first, second in located.duplicates:
        problems.append(
            StrandsDeployError(
                f"duplicate key {path[-1]!r} (first defined at line {first.line})",
                str(second),
                "remove or rename one of them",
            )
        )
    config: ProjectConfig | None = None
    unchecked: set[str] = set()  # agents whose `path` is invalid: their folder is not checked
    # ("agents" | "resources", name) of those with problems of their own: not merged with overrides
    broken: set[tuple[str, str]] = set()
    try:
        config = ProjectConfig.model_validate(raw)
    except ValidationError as e:
        problems.extend(_pydantic_problems(e, located))
        broken.update(
            (str(err["loc"][0]), str(err["loc"][1]))
            for err in e.errors()
            if len(err["loc"]) >= 2 and err["loc"][0] in ("agents", "resources")
        )

    partial = config or _partial_config(raw, unchecked)
    agents: dict[str, AgentConfig] = dict(partial.agents)
    agent_files: dict[str, Path] = {name: source for name in agents}
    agent_marks: dict[str, Mark] = {name: located.where(("agents", name), key=True) for name in agents}
    # where each `environment` value of a discovered agent is written (in its strands.agent.yaml)
    value_marks: dict[tuple[str, str], Mark] = {}
    # Discovered agents: agents/<folder>/strands.agent.yaml joins the project (monorepo use).
    for file in _discovered_agent_files(root):
        sub = _read_yaml(file, problems)
        data = sub.data or {}
        if not isinstance(data, dict):
            problems.append(StrandsDeployError(f"{AGENT_FILE} must be a mapping", f"{file}:1:1"))
            continue
        for path, first, second in sub.duplicates:
            problems.append(
                StrandsDeployError(
                    f"duplicate key {path[-1]!r} (first defined at line {first.line})",
                    str(second),
                    "remove or rename one of them",
                )
            )
        try:
            agent = AgentFileConfig.model_validate(data)
        except ValidationError as e:
            problems.extend(_pydantic_problems(e, sub))
            broken.add(("agents", str(data.get("name") or file.parent.name)))
            continue
        name = agent.name or file.parent.name
        rel = (
            Path(os.path.realpath(file.parent / agent.path)).relative_to(os.path.realpath(root)).as_posix()
            if _inside(file.parent / agent.path, root)
            else agent.path
        )
        if name in agents:
            problems.append(
                StrandsDeployError(
                    f"duplicate agent name {name!r}: also defined in {agent_files[name].name} ({agent_marks[name]})",
                    f"{file}:1:1",
                    "rename one of the agents (`name:` in strands.agent.yaml)",
                )
            )
            continue
        fields = agent.model_dump(exclude={"name"}, exclude_unset=False)
        fields["path"] = rel
        agents[name] = AgentConfig.model_validate(fields)
        agent_files[name] = file
        agent_marks[name] = Mark(str(file), 1, 1)
        value_marks.update({(name, key): sub.where(("environment", key)) for key in agent.environment})

    warnings: list[StrandsDeployError] = []
    base_problems = _semantic_problems(
        root, partial, agents, agent_marks, located, unchecked, warnings, value_marks
    )
    problems.extend(base_problems)
    overridden, override_problems = _environment_overrides(
        root, partial, agents, agent_marks, located, unchecked, broken, value_marks, base_problems, warnings
    )
    problems.extend(override_problems)
    entry_marks = {
        name: str(located.where(("agents", name, "entry")) if name in partial.agents else agent_marks[name])
        for name in agents
    }
    project = Project(
        root=root,
        source=source,
        config=config or partial,
        agents=agents,
        agent_files=agent_files,
        entry_marks=entry_marks,
        agent_marks={
            name: str(
                located.where(("agents", name), key=True) if name in partial.agents else agent_marks[name]
            )
            for name in agents
        },
        warnings=sorted(
            [*warnings, *(w for s in overridden.values() for w in s.warnings)], key=_problem_order
        ),
        overridden=overridden,
    )
    return project, problems, unchecked


def _discovered_agent_files(root: Path) -> list[Path]:
    """agents/<folder>/strands.agent.yaml, one level deep (a symlink loop is simply not a folder)."""
    found: list[Path] = []
    try:
        with os.scandir(root / "agents") as entries:
            names = sorted(e.name for e in entries)
    except OSError:  # no agents/ folder (or not a folder)
        return found
    for name in names:
        file = root / "agents" / name / AGENT_FILE
        try:
            if os.path.isfile(file):
                found.append(file)
        except (OSError, ValueError):
            continue
    return found


def _problem_order(p: StrandsDeployError) -> tuple[str, int, int]:
    parts = (p.where or "").rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return (parts[0], int(parts[1]), int(parts[2]))
    return (p.where or "", 0, 0)


def _salvage(model: type[BaseModel], value: Any) -> tuple[BaseModel | None, set[str]]:
    """What validates of one item: the model with its invalid fields left at their defaults, and
    the names of those fields. None when even that fails (the item is not a mapping, or a
    required field is missing or invalid)."""
    if not isinstance(value, dict):
        return None, set()
    data = dict(value)
    dropped: set[str] = set()
    for _ in range(len(data) + 1):
        try:
            return model.model_validate(data), dropped
        except ValidationError as e:
            bad = {str(err["loc"][0]) for err in e.errors() if err["loc"]} & set(data)
            if not bad:
                break
            dropped |= bad
            for key in bad:
                del data[key]
    return None, dropped


def _partial_config(raw: dict[str, Any], unchecked: set[str]) -> ProjectConfig:
    """What validates of a configuration that has errors, so semantic checks still run on it.

    An agent with an invalid field keeps its valid ones (its links and trigger are still checked);
    an agent whose `path` is invalid is checked with a placeholder path and named in
    ``unchecked`` so that its folder is not. A resource that fails keeps its name (links to it are
    not reported as unknown) with what validates of it.
    """
    agents: dict[str, AgentConfig] = {}
    raw_agents = raw.get("agents")
    for name, value in raw_agents.items() if isinstance(raw_agents, dict) else []:
        agent, dropped = _salvage(AgentConfig, value)
        if agent is None and isinstance(value, dict):
            agent, dropped = _salvage(AgentConfig, {**value, "path": "."})
            dropped.add("path")
        if isinstance(agent, AgentConfig):
            agents[str(name)] = agent
            if "path" in dropped:
                unchecked.add(str(name))
    resources: dict[str, ResourceConfig] = {}
    raw_resources = raw.get("resources")
    for name, value in raw_resources.items() if isinstance(raw_resources, dict) else []:
        resource, _ = _salvage(ResourceConfig, value)
        if not isinstance(resource, ResourceConfig):
            kind = value.get("type") if isinstance(value, dict) else None
            # declared, but not valid: kept by name (its own problem is reported by the schema)
            resource = ResourceConfig.model_construct(type=kind if isinstance(kind, str) else "?")
        resources[str(name)] = resource
    environments: dict[str, EnvironmentConfig] = {}
    raw_envs = raw.get("environments")
    for name, value in raw_envs.items() if isinstance(raw_envs, dict) else []:
        env, _ = _salvage(EnvironmentConfig, value)
        if isinstance(env, EnvironmentConfig):
            environments[str(name)] = env

    region = raw.get("region") if isinstance(raw.get("region"), str) else "us-east-1"
    return ProjectConfig.model_construct(
        project=str(raw.get("project", "")),
        region=region,
        defaults=Defaults(),  # type: ignore[call-arg]
        tags={},
        agents=agents,
        resources=resources,
        environments=environments,
    )


_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def read_text_file(path: Path, what: str = "") -> str:
    """A UTF-8 text file's content, or a StrandsDeployError naming the file (and line) saying why not.

    Never blocks on a FIFO or a device: only a regular file is read. ``what`` names the kind of
    file in messages ("entry file").
    """
    label = f"{what} {path.name}" if what else path.name
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise StrandsDeployError(
            f"cannot read {label}: {e.strerror}",
            str(path),
            "check the file's name and permissions",
        ) from None
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise StrandsDeployError(
                    f"{label} is not a regular file", str(path), "replace it with a text file"
                )
            raw = fh.read()
    except OSError as e:
        raise StrandsDeployError(
            f"cannot read {label}: {e.strerror}", str(path), "check the file's permissions"
        ) from None
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            raise StrandsDeployError(
                f"{label} is not UTF-8 text (it looks like {encoding})",
                f"{path}:1:1",
                "save it as UTF-8",
            )
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, col = _byte_position(raw, nul)
        raise StrandsDeployError(
            f"{label} contains a NUL byte (is it a text file?)",
            f"{path}:{line}:{col}",
            "remove the NUL bytes, or save the file as UTF-8 text",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line, col = _byte_position(raw, e.start)
        raise StrandsDeployError(
            f"{label} is not UTF-8 text (invalid byte 0x{raw[e.start]:02x})",
            f"{path}:{line}:{col}",
            "save it as UTF-8",
        ) from None


def _byte_position(raw: bytes, index: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, index) + 1
    return line, index - (raw.rfind(b"\n", 0, index) + 1) + 1


def _read_yaml(path: Path, problems: list[StrandsDeployError] | None = None) -> Located:
    """The file's YAML with positions; a problem (unreadable, not UTF-8, bad YAML) is appended to
    ``problems`` (then the file reads as empty), or raised as a ConfigError without a list."""
    try:
        return load_located(read_text_file(path), str(path))
    except YamlSyntaxError as e:
        err = StrandsDeployError(
            e.problem, str(e.mark), e.fix or "fix the YAML syntax (indentation, quotes, colons)"
        )
    except StrandsDeployError as e:
        err = e
    if problems is None:
        raise ConfigError([err]) from None
    problems.append(err)
    return Located({}, str(path))


def _inside(path: Path, root: Path) -> bool:
    # os.path.realpath, not Path.resolve: a symlink loop resolves to itself instead of raising
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
        return True
    except (ValueError, OSError):
        return False


def _semantic_problems(
    root: Path,
    config: ProjectConfig,
    agents: dict[str, AgentConfig],
    agent_marks: dict[str, Mark],
    located: Located,
    unchecked: Collection[str] = (),
    warnings: list[StrandsDeployError] | None = None,
    value_marks: Mapping[tuple[str, str], Mark] | None = None,
) -> list[StrandsDeployError]:
    """The problems; what is valid but risky is appended to ``warnings``. ``value_marks``: where
    the `environment` values of agents not declared in strands.yaml are written."""
    problems: list[StrandsDeployError] = []
    if warnings is None:
        warnings = []

    def at(*path: Any, key: bool = False) -> str:
        return str(located.where(path, key=key))

    resources = config.resources
    for name in resources:
        if not NAME_RE.match(name):
            problems.append(
                StrandsDeployError(
                    f"resource name {name!r} is not valid",
                    at("resources", name, key=True),
                    "use lowercase letters, digits and '-', starting with a letter (at most 40 characters)",
                )
            )
    for name, agent in agents.items():
        where = str(agent_marks.get(name)) if name not in config.agents else at("agents", name, key=True)

        def field_at(f: str, *rest: Any, _name: str = name, _where: str = where) -> str:
            if _name in config.agents:
                return at("agents", _name, f, *rest)
            return _where

        if not NAME_RE.match(name):
            problems.append(
                StrandsDeployError(
                    f"agent name {name!r} is not valid",
                    where,
                    "use lowercase letters, digits and '-', starting with a letter (at most 40 characters)",
                )
            )
        if name not in unchecked:
            problems.extend(_folder_problems(root, name, agent, where, field_at))
        seen_links: set[str] = set()
        for i, link in enumerate(agent.link):
            to = str(link)
            if to not in resources:
                problems.append(
                    StrandsDeployError(
                        f"agent {name!r} links to unknown resource {to!r}",
                        field_at("link", i),
                        _suggest(to, set(resources), "declare it under `resources:` or remove the link"),
                    )
                )
            elif resources[to].type == "topic" and link.access == "read":
                problems.append(
                    StrandsDeployError(
                        f"agent {name!r}: link to {to!r} with access: read: a topic can only be written "
                        "(published) to",
                        field_at("link", i),
                        f"use `{{to: {to}, access: write}}` (or just `{to}`)",
                    )
                )
            if to in seen_links:
                problems.append(
                    StrandsDeployError(
                        f"agent {name!r} links to {to!r} twice",
                        field_at("link", i),
                        "keep one entry, with the access it needs (read, write or readwrite)",
                    )
                )
            seen_links.add(to)
        problems.extend(_auth_problems(name, agent, field_at, warnings))
        if agent.role == "shared":
            warnings.append(
                StrandsDeployError(
                    f"agent {name!r} uses the shared execution role: it can reach every resource "
                    "linked to any agent on that role, and they can reach its links",
                    field_at("role"),
                    "remove `role: shared` (each agent gets its own role, with only its own links)",
                )
            )
        if agent.wildcards_reason and not agent.allow_wildcards:
            warnings.append(
                StrandsDeployError(
                    f"agent {name!r}: wildcards_reason has no effect without `allow_wildcards: true`",
                    field_at("wildcards_reason"),
                    "remove it",
                )
            )
        aws_envs = [e for e, cfg in config.environments.items() if e != LOCAL_ENV and cfg.endpoint is None]
        if agent.expose != "none" and agent.auth is None and aws_envs:
            warnings.append(
                StrandsDeployError(
                    f"agent {name!r} has an endpoint (expose: {agent.expose}) but no `auth:`: "
                    f"planning or deploying environment {', '.join(repr(e) for e in aws_envs)} refuses it",
                    field_at("expose"),
                    AUTH_FIX,
                )
            )
        problems.extend(_trigger_problems(name, agent, resources, field_at))
        for i, statement in enumerate(agent.permissions):
            problems.extend(_check_statement(statement, agent, name, field_at("permissions", i)))

    def value_at(agent: str, key: str) -> str:
        path = ("agents", agent, "environment", key)
        if agent in config.agents or (isinstance(located, _EnvironmentView) and located.writes(path)):
            return at(*path)
        return str((value_marks or {}).get((agent, key)) or agent_marks.get(agent) or located.file)

    problems.extend(_reference_problems(config, agents, value_at))
    for env_name, env in config.environments.items():
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,15}", env_name):
            problems.append(
                StrandsDeployError(
                    f"environment name {env_name!r} is not valid",
                    at("environments", env_name, key=True),
                    "use 1-16 lowercase letters, digits and '-', starting with a letter",
                )
            )
        if env.model_script and not _is_file(root / env.model_script):
            problems.append(
                StrandsDeployError(
                    f"environment {env_name!r}: model_script {env.model_script!r} does not exist",
                    at("environments", env_name, "model_script"),
                    "create the file or remove the key",
                )
            )
    problems.extend(_check_regions(config, located))
    problems.extend(_notify_problems(config, agents, located))
    problems.extend(_state_problems(config, at))
    return problems


def state_key(config: ProjectConfig, env_name: str) -> str:
    """The object key of an environment's remote state: its own, or ``<project>/<env>.json``."""
    env = config.environments.get(env_name)
    return (env.state.key if env and env.state.key else None) or f"{config.project}/{env_name}.json"


def _state_problems(config: ProjectConfig, at: Any) -> list[StrandsDeployError]:
    """Remote state: never for the embedded local cloud, and never two environments on one key."""
    problems = []
    seen: dict[tuple[str, str], str] = {}
    for env_name, env in config.environments.items():
        st = env.state
        if st.backend == "s3" and env_name == LOCAL_ENV and env.endpoint is None:
            problems.append(
                StrandsDeployError(
                    "the `local` environment runs on the embedded local cloud: its state stays on this machine",
                    at("environments", env_name, "state", "backend"),
                    "remove `state:` from the local environment; use `backend: s3` on AWS environments",
                )
            )
        if not st.bucket:
            continue
        where = (st.bucket, state_key(config, env_name))
        if where in seen:
            problems.append(
                StrandsDeployError(
                    f"environments {seen[where]!r} and {env_name!r} would share the state "
                    f"s3://{where[0]}/{where[1]}",
                    at("environments", env_name, "state", "key"),
                    "give each environment its own `key:` (or remove `key:` to use <project>/<env>.json)",
                )
            )
        seen.setdefault(where, env_name)
    return problems


def _notify_problems(
    config: ProjectConfig, agents: dict[str, AgentConfig], located: Located
) -> list[StrandsDeployError]:
    """A webhook's URL must come from a declared `secret` resource (it is a credential)."""
    secrets = {n for n, r in config.resources.items() if r.type == "secret"}
    places: list[tuple[tuple[Any, ...], Any]] = [
        (("environments", n, "alarms"), e.alarms) for n, e in config.environments.items()
    ]
    places += [(("agents", n, "alarms"), a.alarms) for n, a in agents.items() if n in config.agents]
    problems = []
    for path, alarms in places:
        if not isinstance(alarms, AlarmsConfig):
            continue
        for i, target in enumerate(alarms.notify):
            if target.webhook is not None and target.webhook.secret not in secrets:
                problems.append(
                    StrandsDeployError(
                        f"webhook secret {target.webhook.secret!r} is not a declared secret",
                        str(located.where((*path, "notify", i, "webhook", "secret"))),
                        _suggest(
                            target.webhook.secret,
                            secrets,
                            "declare it under `resources:` as `{type: secret, from_env: VAR}` holding the webhook URL",
                        ),
                    )
                )
    return problems


_RESOURCE_TYPES = frozenset(("table", "bucket", "queue", "topic", "secret", "parameter"))


_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")


def _trigger_problems(
    name: str, agent: AgentConfig, resources: dict[str, Any], field_at: Any
) -> list[StrandsDeployError]:
    """`trigger:` and `triggers:`: each names a declared resource of its kind's type (a queue, a
    topic, a bucket, a table), a schedule AWS accepts, a non-empty pattern; one source once."""
    problems: list[StrandsDeployError] = []
    entries: list[tuple[str, str, Any, str]] = []  # (kind, source, value, where)
    if agent.trigger is not None:
        entries.append(("queue", agent.trigger, agent.trigger, field_at("trigger")))
    for i, t in enumerate(agent.triggers):
        entries.append((t.kind, str(t.source), t.source, field_at("triggers", i, t.kind)))
    seen: set[tuple[str, str]] = set()
    for kind, source, value, where in entries:
        if kind == "schedule":
            problems.extend(_schedule_problems(name, str(value), where))
            continue
        if kind == "pattern":
            if not isinstance(value, dict) or not value:
                problems.append(
                    StrandsDeployError(
                        f"agent {name!r}: an event pattern trigger needs a non-empty pattern",
                        where,
                        'match some events, e.g. `pattern: {source: ["my.app"], detail-type: ["order"]}`',
                    )
                )
            continue
        label = "trigger" if where == field_at("trigger") else f"{kind} trigger"
        res = resources.get(source)
        same_type = {r for r, cfg in resources.items() if cfg.type == kind}
        if res is None:
            problems.append(
                StrandsDeployError(
                    f"agent {name!r}: {label} {source!r} is not a declared resource",
                    where,
                    _suggest(source, same_type or set(resources), f"declare a {kind} under `resources:`"),
                )
            )
        elif res.type != kind and res.type in _RESOURCE_TYPES:
            problems.append(
                StrandsDeployError(
                    f"agent {name!r}: {label} {source!r} is a {res.type}, not a {kind}",
                    where,
                    _suggest(source, same_type, f"a `{kind}:` trigger names a {kind} resource"),
                )
            )
        elif kind in ("queue", "topic", "table") and (kind, source) in seen:
            problems.append(
                StrandsDeployError(
                    f"agent {name!r} is triggered by {kind} {source!r} twice",
                    where,
                    "keep one trigger per queue, topic or table (`trigger:` is `triggers: [{queue: ...}]`)",
                )
            )
        seen.add((kind, source))
    return problems


def _schedule_problems(name: str, schedule: str, where: str) -> list[StrandsDeployError]:
    """A rate needs a positive count with its unit (singular for 1); a cron, six fields."""
    text = schedule.strip()
    fix = "use `rate(1 hour)`, `rate(5 minutes)` or `cron(0 9 * * ? *)` (min hour day month weekday year)"
    if text.startswith("rate("):
        m = _RATE.fullmatch(text)
        count = int(m.group(1)) if m else 0
        if m is None or count < 1 or (count == 1) != (not m.group(2).endswith("s")):
            return [StrandsDeployError(f"agent {name!r}: {schedule!r} is not a valid rate", where, fix)]
    elif len(text[len("cron(") : -1].split()) != 6:
        return [StrandsDeployError(f"agent {name!r}: {schedule!r} needs six cron fields", where, fix)]
    return []


AUTH_FIX = "add `auth: iam` (signed requests), `auth: jwt` or `auth: none` (public)"


def _auth_problems(
    name: str, agent: AgentConfig, field_at: Any, warnings: list[StrandsDeployError]
) -> list[StrandsDeployError]:
    """`auth` and `jwt` against `expose`: an auth an exposure cannot honour is an error, never
    dropped."""
    problems: list[StrandsDeployError] = []
    if agent.auth == "jwt" and agent.jwt is None:
        problems.append(
            StrandsDeployError(
                f"agent {name!r}: auth: jwt needs the token issuer and audience",
                field_at("auth"),
                "add `jwt: {issuer: https://..., audience: [my-client-id]}`",
            )
        )
    if agent.jwt is not None and agent.auth != "jwt":
        problems.append(
            StrandsDeployError(
                f"agent {name!r}: `jwt:` applies only with `auth: jwt` (auth is {agent.auth or 'not set'})",
                field_at("jwt"),
                "set `auth: jwt`, or remove `jwt:`",
            )
        )
    if agent.auth == "jwt" and agent.expose == "url":
        problems.append(
            StrandsDeployError(
                f"agent {name!r}: a Function URL (expose: url) cannot check JWTs",
                field_at("auth"),
                "use `expose: http` (an HTTP API route with a JWT authorizer), or `auth: iam`",
            )
        )
    if agent.auth is not None and agent.expose == "none":
        warnings.append(
            StrandsDeployError(
                f"agent {name!r}: auth: {agent.auth} has no effect: the agent has no endpoint (expose: none)",
                field_at("auth"),
                "set `expose: url` or `expose: http`, or remove `auth:`",
            )
        )
    return problems


def _folder_problems(
    root: Path, name: str, agent: AgentConfig, where: str, field_at: Any
) -> list[StrandsDeployError]:
    """The agent's folder, entry file and requirements file exist (nothing here parses code)."""
    folder = root / agent.path
    if not _inside(folder, root):
        return [
            StrandsDeployError(
                f"agent {name!r}: path {agent.path!r} is outside the project folder",
                field_at("path"),
                "keep agent code inside the project (e.g. agents/<name>)",
            )
        ]
    try:
        is_dir = folder.is_dir()
    except OSError as e:  # a name too long, a symlink loop...
        return [
            StrandsDeployError(
                f"agent {name!r}: cannot use folder {agent.path!r}: {e.strerror}",
                field_at("path"),
                "fix `path`",
            )
        ]
    if not is_dir:
        return [
            StrandsDeployError(
                f"agent {name!r}: folder {agent.path!r} does not exist",
                field_at("path"),
                f"create {agent.path}/ with an agent.py, or fix `path`",
            )
        ]
    problems: list[StrandsDeployError] = []
    file = agent.entry.partition(":")[0]
    if not _is_file(folder / file):
        problems.append(
            StrandsDeployError(
                f"agent {name!r}: entry file {agent.path}/{file} does not exist",
                field_at("entry"),
                "fix `entry` (file.py:name) or create the file",
            )
        )
    if not _is_file(folder / agent.requirements) and not (
        agent.requirements == "requirements.txt"
        and (_is_file(folder / "uv.lock") or _has_project_table(folder / "pyproject.toml"))
    ):
        problems.append(
            StrandsDeployError(
                f"agent {name!r}: requirements file {agent.path}/{agent.requirements} does not exist",
                where,
                f"create {agent.path}/{agent.requirements} listing strands-agents (and any other packages)",
            )
        )
    return problems


def _has_project_table(path: Path) -> bool:
    """A pyproject.toml with a PEP 621 ``[project]`` table (its dependencies are the agent's)."""
    import tomllib

    try:
        return isinstance(tomllib.loads(path.read_text(encoding="utf-8")).get("project"), dict)
    except (OSError, ValueError, UnicodeDecodeError):
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def code_problems(project: Project, agents: list[str] | None = None) -> list[StrandsDeployError]:
    """Problems in the agents' code (all of them, or those named): an entry file that is missing,
    unreadable or not UTF-8, a syntax error, no such entry symbol. Empty when the code is fine.

    Kept out of :func:`load_project` so that commands reading what is deployed work while an
    agent's code is broken; ``validate``, ``plan`` and ``deploy`` call this.
    """
    problems: list[StrandsDeployError] = []
    for name in agents if agents is not None else sorted(project.agents):
        agent = project.agents.get(name)
        if agent is None:
            problems.append(
                StrandsDeployError(
                    f"unknown agent {name!r}",
                    str(project.source),
                    _suggest(name, set(project.agents), "check the agent names in strands.yaml"),
                )
            )
            continue
        file, _, symbol = agent.entry.partition(":")
        entry_file = project.root / agent.path / file
        where = project.entry_marks.get(name) or str(project.agent_files.get(name, project.source))
        if not _is_file(entry_file):
            problems.append(
                StrandsDeployError(
                    f"agent {name!r}: entry file {agent.path}/{file} does not exist",
                    where,
                    "fix `entry` (file.py:name) or create the file",
                )
            )
            continue
        problems.extend(_check_entry(entry_file, symbol, name, where))
    return problems


def _check_entry(entry_file: Path, symbol: str, agent: str, where: str) -> list[StrandsDeployError]:
    try:
        source = read_text_file(entry_file, "entry file")
    except StrandsDeployError as e:
        return [StrandsDeployError(f"agent {agent!r}: {e.what}", e.where, e.fix)]
    try:
        tree = ast.parse(source, filename=str(entry_file))
    except RecursionError:
        return [
            StrandsDeployError(
                f"agent {agent!r}: {entry_file.name} is nested too deeply to parse",
                str(entry_file),
                "simplify the deeply nested expression",
            )
        ]
    except (SyntaxError, ValueError) as e:
        if not isinstance(e, SyntaxError):
            return [
                StrandsDeployError(
                    f"agent {agent!r}: {entry_file.name}: {e}", str(entry_file), "fix the file"
                )
            ]
        return [
            StrandsDeployError(
                f"agent {agent!r}: syntax error in {entry_file.name}: {e.msg}",
                f"{entry_file}:{e.lineno or 1}:{e.offset or 1}",
                "fix the Python syntax",
            )
        ]
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    names.add(t.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    if symbol not in names:
        return [
            StrandsDeployError(
                f"agent {agent!r}: {entry_file.name} defines no {symbol!r}",
                where,
                _suggest(
                    symbol, names, f"define `{symbol} = Agent(...)` in {entry_file.name} or fix `entry`"
                ),
            )
        ]
    return []


def _as_list(value: Any) -> list[str]:
    return [str(value)] if isinstance(value, str) else [str(v) for v in value or []]


def _glob(pattern: str, text: str) -> bool:
    """IAM-style match: ``*`` any run of characters, ``?`` one character, case-insensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.fullmatch(regex, text.lower(), re.DOTALL) is not None


def _is_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def is_sensitive_action(action: str) -> bool:
    """``action`` (a pattern) can grant one of :data:`SENSITIVE_ACTIONS`: it falls under one
    (``kms:Decrypt`` under ``kms:*``) or covers one (``iam:Pass*``, ``*:PassRole``, ``*``)."""
    return any(_glob(s, action) or _glob(action, s) for s in SENSITIVE_ACTIONS)


def is_every_resource(resource: str) -> bool:
    """``*``, or an ARN whose resource part is only wildcards: ``arn:aws:s3:::*``,
    ``arn:aws:dynamodb:*:*:table/*`` (every table of every account)."""
    if resource.strip() == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return False
    service, name = parts[2], parts[5]
    if _is_wildcard(service) and not service.strip("*?"):
        return True
    if service.lower() != "s3":  # s3 has no type prefix: the name starts with the bucket
        name = re.sub(r"^[A-Za-z-]+[/:]", "", name)
    return not name.replace("*", "").replace("?", "").replace("/", "").replace(":", "")


def _check_statement(
    statement: dict[str, Any], agent_cfg: AgentConfig, agent: str, where: str
) -> list[StrandsDeployError]:
    """An IAM statement of ``permissions:``. An Allow may not grant, unless the agent sets
    ``allow_wildcards: true``: every action (``*``), a wildcard action or a write on every
    resource, NotAction or NotResource (an Allow of everything but a few). Actions that hand out
    identities or keys (:data:`SENSITIVE_ACTIONS`) on a wildcard resource also need a
    ``wildcards_reason``. Action names are compared without case, as IAM does."""
    problems = []
    unknown = set(statement) - {
        "Sid",
        "Effect",
        "Action",
        "Resource",
        "Condition",
        "NotAction",
        "NotResource",
    }
    if unknown:
        problems.append(
            StrandsDeployError(
                f"agent {agent!r}: unknown key(s) in IAM statement: {', '.join(sorted(unknown))}",
                where,
                "use Effect, Action, Resource and Condition",
            )
        )
    effect = statement.get("Effect", "Allow")
    if effect not in ("Allow", "Deny"):
        problems.append(StrandsDeployError(f"agent {agent!r}: Effect must be Allow or Deny", where))
    for key in ("Action", "Resource"):
        if key in statement and f"Not{key}" in statement:
            problems.append(
                StrandsDeployError(
                    f"agent {agent!r}: an IAM statement has both {key} and Not{key}", where, f"keep {key}"
                )
            )
    actions = statement.get("Action", statement.get("NotAction"))
    resources = statement.get("Resource", statement.get("NotResource"))
    if not actions or not resources:
        problems.append(
            StrandsDeployError(
                f"agent {agent!r}: an IAM statement needs Action and Resource",
                where,
                'e.g. {Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::bucket/*"]}',
            )
        )
        return problems
    if effect != "Allow":
        return problems  # a Deny only takes away
    fix = (
        "name the exact actions and resource ARNs, or set `allow_wildcards: true` on the agent if you mean it"
    )
    if "NotAction" in statement or "NotResource" in statement:
        key = "NotAction" if "NotAction" in statement else "NotResource"
        if not agent_cfg.allow_wildcards:
            problems.append(
                StrandsDeployError(
                    f"agent {agent!r}: an Allow with {key} grants everything it does not name "
                    f"({key}: {', '.join(_as_list(statement[key]))})",
                    where,
                    "use Action and Resource with exact names, or set `allow_wildcards: true` if you mean it",
                )
            )
        elif not (agent_cfg.wildcards_reason or "").strip():
            problems.append(_reason_missing(agent, where, f"an Allow with {key}"))
        return problems
    actions_l, resources_l = _as_list(actions), _as_list(resources)
    every = [r for r in resources_l if is_every_resource(r)]
    broad = [
        a
        for a in actions_l
        if a.strip() == "*" or (every and (_is_wildcard(a) or WRITE_ACTION_RE.search(a.lower())))
    ]
    wild_resources = [r for r in resources_l if _is_wildcard(r)]
    sensitive = [a for a in actions_l if is_sensitive_action(a)] if wild_resources else []
    on = "every resource" if "*" in resources_l else ", ".join(every or wild_resources)
    if broad and not agent_cfg.allow_wildcards:
        what = "all actions" if any(a.strip() == "*" for a in broad) else ", ".join(broad)
        problems.append(
            StrandsDeployError(f"agent {agent!r}: IAM statement grants {what} on {on}", where, fix)
        )
    if sensitive:
        grants = f"{', '.join(sensitive)} on {'every resource' if '*' in resources_l else ', '.join(wild_resources)}"
        if not agent_cfg.allow_wildcards:
            if not broad:
                problems.append(
                    StrandsDeployError(
                        f"agent {agent!r}: IAM statement grants {grants}, which can hand out "
                        "roles or keys (iam:PassRole, iam:*, sts:AssumeRole, kms:*)",
                        where,
                        "name the exact resource ARNs, or set `allow_wildcards: true` and "
                        "`wildcards_reason: <why>` on the agent",
                    )
                )
            elif problems:
                last = problems[-1]
                problems[-1] = StrandsDeployError(
                    last.what,
                    last.where,
                    f"{last.fix}; {', '.join(sensitive)} on a wildcard also needs `wildcards_reason: <why>`",
                )
        elif not (agent_cfg.wildcards_reason or "").strip():
            problems.append(_reason_missing(agent, where, grants))
    return problems


def _reason_missing(agent: str, where: str, grants: str) -> StrandsDeployError:
    return StrandsDeployError(
        f"agent {agent!r}: IAM statement grants {grants}; `allow_wildcards: true` needs a reason for it",
        where,
        "add `wildcards_reason: <why the agent needs it>` to the agent (it is shown in reviews), "
        "or name the exact resource ARNs",
    )


def _check_regions(config: ProjectConfig, located: Located) -> list[StrandsDeployError]:
    wanted: list[tuple[str, tuple[Any, ...]]] = [(config.region, ("region",))]
    wanted += [(e.region, ("environments", n, "region")) for n, e in config.environments.items() if e.region]
    wanted += [
        (e.state.region, ("environments", n, "state", "region"))
        for n, e in config.environments.items()
        if e.state.region
    ]
    known = known_regions()
    problems = []
    for region, path in wanted:
        if region not in known:
            problems.append(
                StrandsDeployError(
                    f"unknown AWS region {region!r}",
                    str(located.where(path)),
                    _suggest(region, known, "use a region code such as us-east-1 or eu-west-1"),
                )
            )
    return problems


def known_regions() -> set[str]:
    """Regions botocore knows (from its bundled endpoint data; no network)."""
    return set(_botocore_regions())


@functools.cache
def _botocore_regions() -> frozenset[str]:
    # read once per process: the checks run again for each environment with overrides
    import importlib.util
    import json

    # botocore's partitions.json (7 KB) lists every region; read as a file, found without
    # importing botocore (its loader module alone took ~0.09 s to import; endpoints.json, 1.2 MB,
    # another ~0.1 s to parse)
    spec = importlib.util.find_spec("botocore")
    origin = spec.origin if spec is not None else None
    try:
        data = json.loads((Path(str(origin)).parent / "data" / "partitions.json").read_text())
    except (OSError, ValueError):
        from botocore.loaders import create_loader

        data = create_loader().load_data("partitions")
    regions: set[str] = set()
    for partition in data.get("partitions", []):
        regions.update(r for r in partition.get("regions", {}) if not r.endswith("-global"))
    return frozenset(regions)


# --- references in environment values ------------------------------------------------------------
#
# An agent's `environment` values may hold references, resolved at synthesis (synth/refs.py):
# ${env} ${region} ${account} ${project}, ${resource.NAME.ATTR}, ${agent.NAME.ATTR}. `$$` is a
# literal `$`; any other `$` is itself.

CONTEXT_REFERENCES = ("env", "region", "account", "project")
REFERENCE_KINDS = (*CONTEXT_REFERENCES, "resource", "agent")
# the attributes a reference may name, per resource type (the outputs of its provider)
RESOURCE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "table": ("name", "arn"),
    "bucket": ("name", "arn"),
    "queue": ("name", "url", "arn"),
    "topic": ("name", "arn"),
    "secret": ("name", "arn"),
    "parameter": ("name", "arn"),
}
AGENT_ATTRIBUTES = ("url", "function_name", "function_arn", "alias_arn")
REFERENCE_FORMS = (
    "${env}, ${region}, ${account}, ${project}, ${resource.NAME.ATTR} or ${agent.NAME.ATTR} "
    "(write $$ for a literal $)"
)
_REFERENCE_TOKEN = re.compile(r"\$\$|\$\{([^}]*)\}|\$\{")


@dataclass(frozen=True)
class Reference:
    """One ``${...}`` of an environment value: ``kind`` is one of :data:`REFERENCE_KINDS`; ``name``
    and ``attr`` are set for ``resource`` and ``agent``."""

    kind: str
    name: str = ""
    attr: str = ""

    def __str__(self) -> str:
        return "${" + ".".join(p for p in (self.kind, self.name, self.attr) if p) + "}"


class ReferenceSyntaxError(ValueError):
    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix


def parse_references(value: str) -> list[str | Reference]:
    """``value`` as literal text and references, in order (adjacent text joined; ``$$`` is ``$``).
    Raises :class:`ReferenceSyntaxError` for a reference that is not one of the forms."""
    parts: list[str | Reference] = []

    def text(s: str) -> None:
        if not s:
            return
        if parts and isinstance(parts[-1], str):
            parts[-1] += s
        else:
            parts.append(s)

    pos = 0
    for m in _REFERENCE_TOKEN.finditer(value):
        text(value[pos : m.start()])
        pos = m.end()
        token = m.group(0)
        if token == "$$":
            text("$")
        elif token == "${":
            raise ReferenceSyntaxError(
                f"unterminated reference {value[m.start() :]!r}",
                "close it with `}`, or write $${ for a literal ${",
            )
        else:
            parts.append(_reference(m.group(1), token))
    text(value[pos:])
    return parts


def _reference(inner: str, written: str) -> Reference:
    words = [w.strip() for w in inner.split(".")]
    kind = words[0]
    if not inner.strip():
        raise ReferenceSyntaxError("empty reference ${}", f"use {REFERENCE_FORMS}")
    if kind in CONTEXT_REFERENCES:
        if len(words) != 1:
            raise ReferenceSyntaxError(f"{written} takes no attribute", f"write ${{{kind}}}")
        return Reference(kind)
    if kind in ("resource", "agent"):
        if len(words) != 3 or not all(words):
            attrs = "name, arn, ..." if kind == "resource" else ", ".join(AGENT_ATTRIBUTES)
            raise ReferenceSyntaxError(
                f"{written} is not a reference to a{'n' if kind == 'agent' else ''} {kind}",
                f"write ${{{kind}.NAME.ATTR}} (ATTR: {attrs})",
            )
        return Reference(kind, words[1], words[2])
    # suggest a kind of the same shape: ${env} for ${ENV}, ${resource.x.y} for ${resources.x.y}
    shaped = CONTEXT_REFERENCES if len(words) == 1 else ("resource", "agent") if len(words) == 3 else ()
    close = difflib.get_close_matches(kind.lower(), shaped, n=1, cutoff=0.6)
    fix = (
        f"did you mean ${{{'.'.join([close[0], *words[1:]])}}}? (write $$ for a literal $)"
        if close
        else f"use {REFERENCE_FORMS}"
    )
    raise ReferenceSyntaxError(f"unknown reference {written}", fix)


def _reference_problems(
    config: ProjectConfig, agents: Mapping[str, AgentConfig], value_at: Callable[[str, str], str]
) -> list[StrandsDeployError]:
    """Each reference in the agents' `environment` values names something that exists and an
    attribute it has; ``${agent.X.url}`` needs an endpoint on X and no cycle of URLs."""
    problems: list[StrandsDeployError] = []
    # agent -> {agent whose url its environment needs: where}
    url_refs: dict[str, dict[str, str]] = {}
    for name, agent in agents.items():
        for key, value in agent.environment.items():
            where = value_at(name, key)
            label = f"agent {name!r}: environment variable {key}"
            try:
                parts = parse_references(value)
            except ReferenceSyntaxError as e:
                problems.append(StrandsDeployError(f"{label}: {e.what}", where, e.fix))
                continue
            for ref in parts:
                if isinstance(ref, Reference):
                    problem = _check_reference(ref, name, label, config.resources, agents)
                    if problem is not None:
                        problems.append(StrandsDeployError(problem[0], where, problem[1]))
                    elif ref.kind == "agent" and ref.attr == "url":
                        url_refs.setdefault(name, {}).setdefault(ref.name, where)
    problems.extend(_url_cycles(url_refs))
    return problems


def _check_reference(
    ref: Reference,
    agent: str,
    label: str,
    resources: Mapping[str, ResourceConfig],
    agents: Mapping[str, AgentConfig],
) -> tuple[str, str] | None:
    """(what, fix) when ``ref`` cannot be resolved; None when it can."""
    if ref.kind == "resource":
        res = resources.get(ref.name)
        if res is None:
            fix = _suggest(ref.name, set(resources), "declare it under `resources:`, or fix the name")
            return f"{label}: {ref} refers to unknown resource {ref.name!r}", fix
        attrs = RESOURCE_ATTRIBUTES.get(res.type)
        if attrs is not None and ref.attr not in attrs:
            return (
                f"{label}: {ref}: a {res.type} has no attribute {ref.attr!r}",
                _attribute_fix(ref.attr, attrs),
            )
    elif ref.kind == "agent":
        target = agents.get(ref.name)
        if target is None:
            fix = _suggest(ref.name, set(agents), "fix the name: it must be one of the project's agents")
            return f"{label}: {ref} refers to unknown agent {ref.name!r}", fix
        if ref.attr not in AGENT_ATTRIBUTES:
            return f"{label}: {ref}: an agent has no attribute {ref.attr!r}", _attribute_fix(
                ref.attr, AGENT_ATTRIBUTES
            )
        if ref.attr == "url" and ref.name == agent:
            return (
                f"{label}: {ref} is the agent's own URL: a cycle (the URL exists only once the "
                "function that would hold it is deployed)",
                f"remove it; an agent can call itself by ${{agent.{agent}.alias_arn}}, known before deploying",
            )
        if ref.attr == "url" and target.expose == "none":
            return (
                f"{label}: {ref}: agent {ref.name!r} has no endpoint (expose: none), so no URL",
                f"set `expose: url` or `expose: http` on agent {ref.name!r}, or call it by "
                f"${{agent.{ref.name}.alias_arn}} (Lambda Invoke)",
            )
    return None


def _attribute_fix(attr: str, attrs: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(attr, attrs, n=1, cutoff=0.6)
    valid = f"one of: {', '.join(attrs)}"
    return f"did you mean {close[0]!r}? ({valid})" if close else f"use {valid}"


def _url_cycles(url_refs: Mapping[str, Mapping[str, str]]) -> list[StrandsDeployError]:
    """Agents whose environments need each other's URLs (A needs B's, B needs A's): none of
    their functions can be deployed first. One problem per cycle, at its first agent's reference."""

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for nxt in url_refs.get(todo.pop(), {}):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reachable = {a: reach(a) for a in url_refs}
    problems: list[StrandsDeployError] = []
    reported: set[str] = set()
    for agent in sorted(url_refs):
        if agent in reported or agent not in reachable[agent]:
            continue
        cycle = sorted(b for b in reachable[agent] if agent in reachable.get(b, set()))
        reported.update(cycle)
        first = next(b for b in sorted(url_refs[agent]) if b in cycle)
        problems.append(
            StrandsDeployError(
                f"agents {', '.join(repr(c) for c in cycle)} refer to each other's url in their "
                "`environment`: a cycle (each URL exists only once the other's function is deployed)",
                url_refs[agent][first],
                "break the cycle: let one of them call the other by ${agent.NAME.alias_arn} "
                "(known before deploying) instead of its url",
            )
        )
    return problems


# --- per-environment overrides --------------------------------------------------------------------


def merge_settings(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge key by key (at any depth), anything else (a
    scalar, a list) replaces; a key set to null in ``override`` is removed (its default applies)."""
    out = dict(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_settings(out[key], value)
        else:
            out[key] = value
    return out


@dataclass
class _EnvironmentView(Located):
    """The positions of one environment's merged configuration: a setting an override writes is
    at the override (``environments.ENV.agents.NAME...``), any other where it was declared."""

    env: str = ""
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # "agents"/"resources" -> name -> raw

    def writes(self, path: tuple[str | int, ...]) -> bool:
        """The setting at ``path`` (``agents``/``resources``, name, key...) is the override's."""
        if len(path) < 3 or path[0] not in ("agents", "resources"):
            return False
        node: Any = self.overrides.get(str(path[0]), {}).get(str(path[1]))
        for step in path[2:]:
            if isinstance(node, list):
                return True  # a list replaces the declared one entirely: all of it is the override's
            if not isinstance(node, dict) or step not in node:
                return False  # declared, not overridden
            node = node[step]
        return True

    def where(self, path: tuple[str | int, ...], key: bool = False) -> Mark:
        p = tuple(path)
        if self.writes(p):
            return super().where(("environments", self.env, *p), key)
        return super().where(p, key)


def _environment_overrides(
    root: Path,
    config: ProjectConfig,
    agents: dict[str, AgentConfig],
    agent_marks: dict[str, Mark],
    located: Located,
    unchecked: Collection[str],
    broken: set[tuple[str, str]],
    value_marks: Mapping[tuple[str, str], Mark],
    base_problems: list[StrandsDeployError],
    base_warnings: list[StrandsDeployError],
) -> tuple[dict[str, EnvironmentSettings], list[StrandsDeployError]]:
    """Each environment's `agents:`/`resources:` overrides merged over the top-level settings and
    checked as they are (the same models and checks), with their problems (at the override's
    line, named with the environment; a problem the top-level settings already have is not
    repeated)."""
    out: dict[str, EnvironmentSettings] = {}
    problems: list[StrandsDeployError] = []
    seen = {(p.what, p.where) for p in base_problems}
    seen_warnings = {(w.what, w.where) for w in base_warnings}
    for env_name, env in config.environments.items():
        if not env.agents and not env.resources:
            continue
        merged_agents = dict(agents)
        config_agents = dict(config.agents)
        resources = dict(config.resources)
        written: dict[str, dict[str, Any]] = {"agents": {}, "resources": {}}
        plural = {"agents": "agent", "resources": "resource"}
        for section, overrides in (("agents", env.agents), ("resources", env.resources)):
            declared: Mapping[str, BaseModel] = agents if section == "agents" else config.resources
            for name, override in overrides.items():
                at = ("environments", env_name, section, name)
                if name not in declared:
                    problems.append(
                        StrandsDeployError(
                            f"environment {env_name!r} overrides undeclared {plural[section]} {name!r}",
                            str(located.where(at, key=True)),
                            _suggest(
                                name,
                                set(declared),
                                f"declare it under `{section}:` first, or remove the override",
                            ),
                        )
                    )
                    continue
                if (section, name) in broken:
                    continue  # its own problems are reported; merging would repeat them
                data = merge_settings(declared[name].model_dump(exclude_unset=True), override)
                model: type[BaseModel] = AgentConfig if section == "agents" else ResourceConfig
                try:
                    merged = model.model_validate(data)
                except ValidationError as e:
                    problems.extend(_pydantic_problems(e, located, at, fields_prefix=(section, name)))
                    continue
                written[section][name] = override
                if isinstance(merged, AgentConfig):
                    merged_agents[name] = merged
                    if name in config_agents:
                        config_agents[name] = merged
                elif isinstance(merged, ResourceConfig):
                    resources[name] = merged
        if not written["agents"] and not written["resources"]:
            continue
        view = _EnvironmentView(
            located.data, located.file, located.values, located.keys, env=env_name, overrides=written
        )
        merged_config = config.model_copy(update={"agents": config_agents, "resources": resources})
        warnings: list[StrandsDeployError] = []
        found = _semantic_problems(
            root, merged_config, merged_agents, agent_marks, view, unchecked, warnings, value_marks
        )
        for p in found:
            if (p.what, p.where) not in seen:
                problems.append(StrandsDeployError(f"environment {env_name!r}: {p.what}", p.where, p.fix))
        out[env_name] = EnvironmentSettings(
            config_agents=config_agents,
            agents=merged_agents,
            resources=resources,
            warnings=[
                StrandsDeployError(f"environment {env_name!r}: {w.what}", w.where, w.fix)
                for w in warnings
                if (w.what, w.where) not in seen_warnings
            ],
        )
    return out, problems
