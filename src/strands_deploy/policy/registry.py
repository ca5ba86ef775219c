"""The ``@rule`` decorator and the rule registry.

``@rule`` marks a function as a rule (the function stays callable as it was); a pack is a module,
and its rules are the marked functions in it (:func:`rules_of`). Built-in packs are the modules of
:mod:`strands_deploy.policy.packs`; a project's ``policies/*.py`` and installed packages'
``strands_deploy.policies`` entry points are loaded the same way (:mod:`.custom`).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any, TypeVar

from strands_deploy.errors import StrandsDeployError
from strands_deploy.policy.model import (
    SEVERITIES,
    AgentSubject,
    ChangeSubject,
    CheckResult,
    ProjectSubject,
    ResourceSubject,
    Rule,
    Severity,
    SubjectKind,
)

F = TypeVar("F", bound=Callable[..., Any])
ATTR = "__strands_rule__"
BUILTIN_PACKS = ("security", "reliability", "agent", "cost", "governance")
RULE_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_KINDS: dict[Any, SubjectKind] = {
    AgentSubject: "agent",
    ResourceSubject: "resource",
    ChangeSubject: "change",
    ProjectSubject: "project",
    "AgentSubject": "agent",
    "ResourceSubject": "resource",
    "ChangeSubject": "change",
    "ProjectSubject": "project",
}


def rule(
    id: str,
    severity: Severity = "error",
    message: str | None = None,
    *,
    subject: SubjectKind | None = None,
    types: Iterable[str] = (),
    rationale: str = "",
    fix: str = "",
    mappings: dict[str, Iterable[str]] | None = None,
    pack: str = "custom",
) -> Callable[[F], F]:
    """Mark ``fn(subject)`` or ``fn(subject, ctx)`` as a rule. ``subject`` (agent, resource,
    change, project) defaults to what the first parameter is annotated with (``AgentSubject``...),
    else ``resource``. The function returns True when the subject complies; False, a message or
    violations when it does not. ``message`` is the finding's text when it returns False."""
    if severity not in SEVERITIES:
        raise StrandsDeployError(
            f"rule {id!r}: severity {severity!r} is not one of {', '.join(SEVERITIES)}",
            fix="use severity='error', 'warning' or 'info'",
        )
    if not RULE_ID_RE.match(id):
        raise StrandsDeployError(
            f"rule id {id!r} is not valid", fix="use letters, digits, '-', e.g. TEAM-001"
        )

    def mark(fn: F) -> F:
        kind = subject or _kind_of(fn)
        doc = inspect.getdoc(fn) or ""
        setattr(
            fn,
            ATTR,
            Rule(
                id=id,
                pack=pack,
                severity=severity,
                title=message or doc.split("\n", 1)[0] or id,
                check=_adapt(fn),
                subject=kind,
                types=tuple(types),
                rationale=rationale or doc,
                fix=fix,
                mappings={k: tuple(v) for k, v in (mappings or {}).items()},
                source=_source(fn),
            ),
        )
        return fn

    return mark


def _kind_of(fn: Callable[..., Any]) -> SubjectKind:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return "resource"
    if params and params[0].annotation is not inspect.Parameter.empty:
        return _KINDS.get(params[0].annotation, "resource")
    return "resource"


def _adapt(fn: Callable[..., CheckResult]) -> Callable[[Any, Any], CheckResult]:
    """Call ``fn`` with (subject) or (subject, ctx), as it was written."""
    try:
        positional = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        takes_ctx = len(positional) >= 2
    except (TypeError, ValueError):
        takes_ctx = True
    if takes_ctx:
        return fn
    return lambda subject, ctx: fn(subject)


def rules_of(module: ModuleType) -> list[Rule]:
    """The rules marked in ``module`` (defined there, not imported), in the order written."""
    marked = [
        v
        for v in vars(module).values()
        if callable(v) and hasattr(v, ATTR) and getattr(v, "__module__", None) == module.__name__
    ]
    marked.sort(key=lambda f: getattr(getattr(f, "__code__", None), "co_firstlineno", 0))
    return [getattr(f, ATTR) for f in marked]


def builtin_rules() -> list[Rule]:
    """Every built-in rule, pack by pack."""
    out: list[Rule] = []
    for pack in BUILTIN_PACKS:
        out.extend(rules_of(importlib.import_module(f"strands_deploy.policy.packs.{pack}")))
    return out


def _source(fn: Callable[..., Any]) -> str:
    module = str(getattr(fn, "__module__", "custom"))
    return "built-in" if module.startswith("strands_deploy.policy.packs.") else module
