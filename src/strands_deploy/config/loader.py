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
import os
import re
import stat
from collections.abc import Collection
from dataclasses import dataclass, field
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
    # valid, but worth a second look (a shared role...): `validate` prints them, exit code 0
    warnings: list[StrandsDeployError] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.config.project

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
    err: ValidationError, located: Located, prefix: tuple[Any, ...] = ()
) -> list[StrandsDeployError]:
    problems = []
    for e in err.errors():
        loc = (*prefix, *e["loc"])
        kind = e["type"]
        msg = str(e["msg"]).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            key = loc[-1]
            mark = located.where(loc, key=True)
            allowed = _fields_for(loc[len(prefix) :] if prefix else loc)
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
    try:
        config = ProjectConfig.model_validate(raw)
    except ValidationError as e:
        problems.extend(_pydantic_problems(e, located))

    partial = config or _partial_config(raw, unchecked)
    agents: dict[str, AgentConfig] = dict(partial.agents)
    agent_files: dict[str, Path] = {name: source for name in agents}
    agent_marks: dict[str, Mark] = {name: located.where(("agents", name), key=True) for name in agents}
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

    warnings: list[StrandsDeployError] = []
    problems.extend(_semantic_problems(root, partial, agents, agent_marks, located, unchecked, warnings))
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
        warnings=sorted(warnings, key=_problem_order),
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
) -> list[StrandsDeployError]:
    """The problems; what is valid but risky is appended to ``warnings``."""
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
        if agent.trigger is not None:
            res = resources.get(agent.trigger)
            if res is None:
                problems.append(
                    StrandsDeployError(
                        f"agent {name!r}: trigger {agent.trigger!r} is not a declared resource",
                        field_at("trigger"),
                        _suggest(agent.trigger, set(resources), "declare a queue under `resources:`"),
                    )
                )
            elif res.type != "queue" and res.type in _RESOURCE_TYPES:
                problems.append(
                    StrandsDeployError(
                        f"agent {name!r}: trigger {agent.trigger!r} is a {res.type}, not a queue",
                        field_at("trigger"),
                        "only queues can trigger an agent",
                    )
                )
        for i, statement in enumerate(agent.permissions):
            problems.extend(_check_statement(statement, agent, name, field_at("permissions", i)))
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
    if not _is_file(folder / agent.requirements):
        problems.append(
            StrandsDeployError(
                f"agent {name!r}: requirements file {agent.path}/{agent.requirements} does not exist",
                where,
                f"create {agent.path}/{agent.requirements} listing strands-agents (and any other packages)",
            )
        )
    return problems


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
    from botocore.loaders import create_loader

    data = create_loader().load_data("endpoints")
    regions: set[str] = set()
    for partition in data.get("partitions", []):
        regions.update(partition.get("regions", {}))
    return regions
