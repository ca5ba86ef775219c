"""Rules beyond the built-in packs: the project's ``policies/*.py`` and ``policies/*.yaml``, and
packs installed as packages (entry point group ``strands_deploy.policies``).

A Python policy file is a module with ``@rule`` functions. A YAML file lists simple rules::

    rules:
      - id: TEAM-002
        severity: error
        message: tables must keep point-in-time recovery
        resource_type: aws.dynamodb.table
        property: pitr            # a dotted path into the resource's properties
        condition: {equals: true} # equals, not_equals, in, not_in, matches, exists, lt, lte, gt, gte

An entry point names a module (its ``@rule`` functions) or a list of ``@rule`` functions.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from strands_deploy.errors import StrandsDeployError
from strands_deploy.policy.model import SEVERITIES, ResourceSubject, Rule, Violation
from strands_deploy.policy.registry import ATTR, builtin_rules, rules_of

ENTRY_POINT_GROUP = "strands_deploy.policies"
POLICY_DIR = "policies"
CONDITIONS = ("equals", "not_equals", "in", "not_in", "matches", "exists", "lt", "lte", "gt", "gte")
_MISSING = object()


def all_rules(root: Path) -> list[Rule]:
    """Built-in, installed and project rules; a rule id defined twice is refused."""
    rules = [*builtin_rules(), *entry_point_rules(), *project_rules(root)]
    seen: dict[str, Rule] = {}
    for r in rules:
        if r.id in seen:
            raise StrandsDeployError(
                f"rule {r.id} is defined twice ({seen[r.id].source} and {r.source})",
                r.source,
                "give one of them another id",
            )
        seen[r.id] = r
    return rules


def project_rules(root: Path) -> list[Rule]:
    folder = root / POLICY_DIR
    if not folder.is_dir():
        return []
    out: list[Rule] = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".py" and not path.name.startswith("_"):
            out.extend(_with_source(rules_of(_load_module(path)), str(path.relative_to(root))))
        elif path.suffix in (".yaml", ".yml"):
            out.extend(yaml_rules(path, str(path.relative_to(root))))
    return out


def _with_source(rules: list[Rule], source: str) -> list[Rule]:
    from dataclasses import replace

    return [replace(r, source=source) for r in rules]


def _load_module(path: Path) -> ModuleType:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    name = f"_strands_policies_{digest}_{stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StrandsDeployError("cannot load the policy file", str(path), "check it is a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except StrandsDeployError as e:
        raise StrandsDeployError(e.what, e.where or str(path), e.fix) from None
    except Exception as e:
        sys.modules.pop(name, None)
        line = getattr(e, "lineno", None)
        raise StrandsDeployError(
            f"the policy file fails to load: {type(e).__name__}: {e}",
            f"{path}:{line}" if line else str(path),
            "fix the error in the policy file",
        ) from None
    return module


def entry_point_rules() -> list[Rule]:
    out: list[Rule] = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        source = f"entry point {ep.name} ({ep.value})"
        try:
            loaded = ep.load()
        except Exception as e:
            raise StrandsDeployError(
                f"the policy pack {ep.name!r} fails to load: {type(e).__name__}: {e}",
                source,
                "reinstall or fix the package that provides it",
            ) from None
        if isinstance(loaded, ModuleType):
            rules = rules_of(loaded)
        else:
            items = loaded if isinstance(loaded, (list, tuple)) else [loaded]
            rules = [getattr(f, ATTR) for f in items if hasattr(f, ATTR)]
        out.extend(_with_source(rules, source))
    return out


# --- YAML rules -----------------------------------------------------------------------------------


def yaml_rules(path: Path, source: str) -> list[Rule]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, OSError) as e:
        raise StrandsDeployError(
            f"the policy file is not valid YAML: {e}", str(path), "fix the YAML"
        ) from None
    entries = data.get("rules", []) if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise StrandsDeployError("expected a list under `rules:`", str(path), "see docs/policy.md")
    return [_yaml_rule(e, f"{source}#{i + 1}") for i, e in enumerate(entries)]


def _yaml_rule(entry: Any, source: str) -> Rule:
    def bad(what: str) -> StrandsDeployError:
        return StrandsDeployError(
            what, source, "each rule has id, severity, message, resource_type, property, condition"
        )

    if not isinstance(entry, dict):
        raise bad("a rule is a mapping")
    unknown = set(entry) - {
        "id",
        "severity",
        "message",
        "resource_type",
        "property",
        "condition",
        "fix",
        "rationale",
    }
    if unknown:
        raise bad(f"unknown keys {sorted(unknown)}")
    for key in ("id", "message", "resource_type", "property", "condition"):
        if key not in entry:
            raise bad(f"`{key}` is missing")
    severity = entry.get("severity", "error")
    if severity not in SEVERITIES:
        raise bad(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    condition = entry["condition"]
    if not isinstance(condition, dict) or len(condition) != 1 or next(iter(condition)) not in CONDITIONS:
        raise bad(f"condition is one of {{{': ..., '.join(CONDITIONS)}: ...}}")
    op, expected = next(iter(condition.items()))
    if op == "matches":
        try:
            re.compile(str(expected))
        except re.error as e:
            raise bad(f"`matches` is not a regular expression: {e}") from None
    prop = str(entry["property"])
    message = str(entry["message"])

    def check(res: ResourceSubject) -> Violation | None:
        value = _get_path(res.props, prop)
        if _holds(op, value, expected):
            return None
        shown = "(absent)" if value is _MISSING else repr(value)
        return Violation(message, f"{prop} = {shown}")

    return Rule(
        id=str(entry["id"]),
        pack="custom",
        severity=severity,
        title=message,
        check=lambda subject, ctx: check(subject),
        subject="resource",
        types=(str(entry["resource_type"]),),
        rationale=str(entry.get("rationale", "")),
        fix=str(entry.get("fix", "")),
        source=source,
    )


def _get_path(props: Any, path: str) -> Any:
    value = props
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _holds(op: str, value: Any, expected: Any) -> bool:
    if op == "exists":
        return (value is not _MISSING and value is not None) == bool(expected)
    if value is _MISSING:
        return op in ("not_equals", "not_in")
    try:
        return {
            "equals": lambda: value == expected,
            "not_equals": lambda: value != expected,
            "in": lambda: value in expected,
            "not_in": lambda: value not in expected,
            "matches": lambda: re.fullmatch(str(expected), str(value)) is not None,
            "lt": lambda: value < expected,
            "lte": lambda: value <= expected,
            "gt": lambda: value > expected,
            "gte": lambda: value >= expected,
        }[op]()
    except TypeError:
        return False
