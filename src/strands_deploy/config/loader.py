"""Load strands.yaml (+ discovered agents) into a validated :class:`Project`.

Every problem is collected and reported at once, each with file:line:column and a suggestion
where one fits; nothing here raises a traceback at the user.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from strands_deploy.config.schema import (
    NAME_RE,
    AgentConfig,
    AgentFileConfig,
    Cors,
    Defaults,
    EnvironmentConfig,
    ProjectConfig,
    ResourceConfig,
)
from strands_deploy.config.yamlpos import Located, Mark, YamlSyntaxError, load_located
from strands_deploy.errors import ConfigError, StrandsDeployError

CONFIG_FILE = "strands.yaml"
AGENT_FILE = "strands.agent.yaml"
LOCAL_ENV = "local"

WRITE_ACTION_RE = re.compile(
    r"(^\*$|:\*$|:(Put|Create|Delete|Update|Write|Send|Publish|Attach|Detach|Modify|Set|Tag|Untag|Remove|Add|Invoke|Pass|BatchWrite|Restore|Start|Stop|Terminate)[A-Za-z]*$)"
)


@dataclass
class Project:
    root: Path
    source: Path
    config: ProjectConfig
    agents: dict[str, AgentConfig]
    agent_files: dict[str, Path] = field(default_factory=dict)

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
        ("resources", "*"): ResourceConfig,
        ("environments", "*"): EnvironmentConfig,
    }
    parent = tuple(loc[:-1])
    pattern = tuple(
        "*" if i == 1 and parent and parent[0] in ("agents", "resources", "environments") else p
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
        elif kind == "literal_error":
            expected = (e.get("ctx") or {}).get("expected", "")
            options = re.findall(r"'([^']*)'", str(expected))
            fix = _suggest(str(e.get("input")), options, f"use one of: {', '.join(options)}")
        problems.append(StrandsDeployError(f"{dotted}: {msg}", str(mark), fix))
    return problems


def find_project_root(start: Path) -> Path:
    start = start.resolve()
    for d in (start, *start.parents):
        if (d / CONFIG_FILE).exists():
            return d
    raise StrandsDeployError(
        f"no {CONFIG_FILE} in {start} or any parent folder",
        fix="run `strands-deploy init` to create a project, or pass -C <project folder>",
    )


def load_project(start: Path) -> Project:
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
    try:
        config = ProjectConfig.model_validate(raw)
    except ValidationError as e:
        problems.extend(_pydantic_problems(e, located))

    partial = config or _partial_config(raw)
    agents: dict[str, AgentConfig] = dict(partial.agents)
    agent_files: dict[str, Path] = {name: source for name in agents}
    agent_marks: dict[str, Mark] = {name: located.where(("agents", name), key=True) for name in agents}
    # Discovered agents: agents/<folder>/strands.agent.yaml joins the project (monorepo use).
    for file in sorted((root / "agents").glob(f"*/{AGENT_FILE}")) if (root / "agents").is_dir() else []:
        sub = _read_yaml(file, problems)
        data = sub.data or {}
        if not isinstance(data, dict):
            problems.append(StrandsDeployError(f"{AGENT_FILE} must be a mapping", f"{file}:1:1"))
            continue
        try:
            agent = AgentFileConfig.model_validate(data)
        except ValidationError as e:
            problems.extend(_pydantic_problems(e, sub))
            continue
        name = agent.name or file.parent.name
        rel = (
            (file.parent / agent.path).resolve().relative_to(root).as_posix()
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

    problems.extend(_semantic_problems(root, partial, agents, agent_marks, located))
    if problems:
        raise ConfigError(sorted(problems, key=_problem_order))
    assert config is not None
    return Project(root=root, source=source, config=config, agents=agents, agent_files=agent_files)


def _problem_order(p: StrandsDeployError) -> tuple[str, int, int]:
    parts = (p.where or "").rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return (parts[0], int(parts[1]), int(parts[2]))
    return (p.where or "", 0, 0)


def _partial_config(raw: dict[str, Any]) -> ProjectConfig:
    """What validates of a configuration that has errors, so semantic checks still run on it."""

    def valid(model: type[BaseModel], items: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in (items or {}).items() if isinstance(items, dict) else []:
            try:
                out[str(name)] = model.model_validate(value)
            except ValidationError:
                continue
        return out

    region = raw.get("region") if isinstance(raw.get("region"), str) else "us-east-1"
    return ProjectConfig.model_construct(
        project=str(raw.get("project", "")),
        region=region,
        defaults=Defaults(),  # type: ignore[call-arg]
        tags={},
        agents=valid(AgentConfig, raw.get("agents")),
        resources=valid(ResourceConfig, raw.get("resources")),
        environments=valid(EnvironmentConfig, raw.get("environments")),
    )


def _read_yaml(path: Path, problems: list[StrandsDeployError] | None = None) -> Located:
    try:
        text = path.read_text()
    except OSError as e:
        raise StrandsDeployError(
            f"cannot read {path.name}: {e.strerror}", str(path), "check the file's permissions"
        ) from None
    try:
        return load_located(text, str(path))
    except YamlSyntaxError as e:
        err = StrandsDeployError(e.problem, str(e.mark), "fix the YAML syntax (indentation, quotes, colons)")
        if problems is None:
            raise ConfigError([err]) from None
        problems.append(err)
        return Located({}, str(path))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _semantic_problems(
    root: Path,
    config: ProjectConfig,
    agents: dict[str, AgentConfig],
    agent_marks: dict[str, Mark],
    located: Located,
) -> list[StrandsDeployError]:
    problems: list[StrandsDeployError] = []

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
        folder = root / agent.path
        if not _inside(folder, root):
            problems.append(
                StrandsDeployError(
                    f"agent {name!r}: path {agent.path!r} is outside the project folder",
                    field_at("path"),
                    "keep agent code inside the project (e.g. agents/<name>)",
                )
            )
            continue
        if not folder.is_dir():
            problems.append(
                StrandsDeployError(
                    f"agent {name!r}: folder {agent.path!r} does not exist",
                    field_at("path"),
                    f"create {agent.path}/ with an agent.py, or fix `path`",
                )
            )
            continue
        file, _, symbol = agent.entry.partition(":")
        entry_file = folder / file
        if not entry_file.is_file():
            problems.append(
                StrandsDeployError(
                    f"agent {name!r}: entry file {agent.path}/{file} does not exist",
                    field_at("entry"),
                    "fix `entry` (file.py:name) or create the file",
                )
            )
        else:
            problems.extend(_check_entry(entry_file, symbol, name, field_at("entry")))
        req = folder / agent.requirements
        if not req.is_file():
            problems.append(
                StrandsDeployError(
                    f"agent {name!r}: requirements file {agent.path}/{agent.requirements} does not exist",
                    where,
                    f"create {agent.path}/{agent.requirements} listing strands-agents (and any other packages)",
                )
            )
        for i, link in enumerate(agent.link):
            if link not in resources:
                problems.append(
                    StrandsDeployError(
                        f"agent {name!r} links to unknown resource {link!r}",
                        field_at("link", i),
                        _suggest(link, set(resources), "declare it under `resources:` or remove the link"),
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
            elif res.type != "queue":
                problems.append(
                    StrandsDeployError(
                        f"agent {name!r}: trigger {agent.trigger!r} is a {res.type}, not a queue",
                        field_at("trigger"),
                        "only queues can trigger an agent",
                    )
                )
        for i, statement in enumerate(agent.permissions):
            problems.extend(
                _check_statement(statement, agent.allow_wildcards, name, field_at("permissions", i))
            )
    for env_name, env in config.environments.items():
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,15}", env_name):
            problems.append(
                StrandsDeployError(
                    f"environment name {env_name!r} is not valid",
                    at("environments", env_name, key=True),
                    "use 1-16 lowercase letters, digits and '-', starting with a letter",
                )
            )
        if env.model_script and not (root / env.model_script).is_file():
            problems.append(
                StrandsDeployError(
                    f"environment {env_name!r}: model_script {env.model_script!r} does not exist",
                    at("environments", env_name, "model_script"),
                    "create the file or remove the key",
                )
            )
    problems.extend(_check_regions(config, located))
    return problems


def _check_entry(entry_file: Path, symbol: str, agent: str, where: str) -> list[StrandsDeployError]:
    try:
        tree = ast.parse(entry_file.read_text(), filename=str(entry_file))
    except SyntaxError as e:
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


def _check_statement(
    statement: dict[str, Any], allow_wildcards: bool, agent: str, where: str
) -> list[StrandsDeployError]:
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
    if statement.get("Effect", "Allow") not in ("Allow", "Deny"):
        problems.append(StrandsDeployError(f"agent {agent!r}: Effect must be Allow or Deny", where))
    actions = statement.get("Action")
    resources = statement.get("Resource")
    if not actions or not resources:
        problems.append(
            StrandsDeployError(
                f"agent {agent!r}: an IAM statement needs Action and Resource",
                where,
                'e.g. {Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::bucket/*"]}',
            )
        )
        return problems
    actions_l = [actions] if isinstance(actions, str) else list(actions)
    resources_l = [resources] if isinstance(resources, str) else list(resources)
    if statement.get("Effect", "Allow") == "Allow" and not allow_wildcards:
        writes = [a for a in actions_l if WRITE_ACTION_RE.search(str(a))]
        if "*" in actions_l or ("*" in resources_l and writes):
            problems.append(
                StrandsDeployError(
                    f"agent {agent!r}: IAM statement grants {'all actions' if '*' in actions_l else ', '.join(writes)}"
                    " on " + ("every resource" if "*" in resources_l else ", ".join(map(str, resources_l))),
                    where,
                    "name the exact actions and resource ARNs, or set `allow_wildcards: true` on the agent if you mean it",
                )
            )
    return problems


def _check_regions(config: ProjectConfig, located: Located) -> list[StrandsDeployError]:
    wanted: list[tuple[str, tuple[Any, ...]]] = [(config.region, ("region",))]
    wanted += [(e.region, ("environments", n, "region")) for n, e in config.environments.items() if e.region]
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
