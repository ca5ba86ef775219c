"""The data of policy checks: rules, the subjects they look at, and their findings.

A rule looks at one kind of subject: an ``agent`` (its configuration and its synthesized
resources), a ``resource`` of the graph (typed props), a planned ``change``, or the whole
``project`` (environment-wide limits). Its check returns what does not comply: ``True`` (or
nothing) means it complies; ``False``, a message, or a list of :class:`Violation` means it does
not. A finding is one rule on one subject: ``pass``, ``fail`` or ``suppressed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from strands_deploy.config.loader import Project
    from strands_deploy.config.policy_schema import Suppression
    from strands_deploy.config.schema import AgentConfig, EnvironmentConfig
    from strands_deploy.planning.plan import Change, Plan
    from strands_deploy.synth.graph import Graph

Severity = Literal["error", "warning", "info"]
SubjectKind = Literal["agent", "resource", "change", "project"]
Status = Literal["pass", "fail", "suppressed"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
FRAMEWORKS = {
    "fsbp": "AWS Foundational Security Best Practices",
    "cis": "CIS AWS Foundations Benchmark",
    "nist": "NIST SP 800-53 Rev. 5",
    "soc2": "SOC 2 (Trust Services Criteria)",
}


@dataclass(frozen=True)
class Violation:
    """One way a subject does not comply: what, the evidence (the value seen), and optionally a
    severity other than the rule's (a wildcard accepted with ``allow_wildcards`` is a warning)."""

    message: str
    evidence: str = ""
    severity: Severity | None = None


CheckResult = bool | str | Violation | Iterable[Violation | str] | None


@dataclass(frozen=True)
class Rule:
    id: str
    pack: str
    severity: Severity
    title: str
    check: Callable[..., CheckResult]
    subject: SubjectKind = "resource"
    types: tuple[str, ...] = ()  # resource types the rule applies to (empty: every type)
    rationale: str = ""
    fix: str = ""
    mappings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # framework → controls
    source: str = "built-in"  # built-in | a file of the project | an entry point

    def applies_to(self, rtype: str) -> bool:
        return not self.types or rtype in self.types

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pack": self.pack,
            "severity": self.severity,
            "title": self.title,
            "subject": self.subject,
            "rationale": self.rationale,
            "fix": self.fix,
            "mappings": {k: list(v) for k, v in self.mappings.items()},
            "source": self.source,
        }


@dataclass
class Context:
    """What every check may read: the project (one environment's view), the environment, the
    graph, the plan (None for `check` without one), and with ``--live`` the recorded outputs."""

    project: Project
    env_name: str
    env: EnvironmentConfig
    graph: Graph
    plan: Plan | None = None
    live: dict[str, dict[str, Any]] | None = None  # address → outputs recorded in the state
    today: Any = None  # datetime.date; injectable for expiry and deprecation dates
    account: str = ""  # the account synthesis used (model ARNs)

    @property
    def emulated(self) -> bool:
        return self.project.is_emulated(self.env_name)

    @property
    def production(self) -> bool:
        """``protect: true``, ``require_approval: true`` or an environment named prod/production."""
        return (
            self.env.protect
            or self.env.require_approval
            or self.env_name.lower() in ("prod", "production", "prd")
        )

    @property
    def region(self) -> str:
        return self.project.region(self.env_name)


@dataclass
class AgentSubject:
    """An agent: its settings (defaults applied where synthesis applies them) and its resources."""

    name: str
    config: AgentConfig
    resources: dict[str, Any]  # address suffix (function, policy, url...) → synth Resource
    public: bool  # an endpoint anyone on the internet can invoke
    folder: Any  # pathlib.Path of its code

    @property
    def address(self) -> str:
        return f"agent.{self.name}"

    def props(self, suffix: str) -> dict[str, Any]:
        res = self.resources.get(suffix)
        return dict(res.props) if res is not None else {}


@dataclass
class ResourceSubject:
    """A resource of the graph: its address, type, plain props (references as ``${a.b}`` text)
    and its provider's typed props model (``typed``; None when the props do not validate)."""

    address: str
    type: str
    props: dict[str, Any]
    typed: Any = None
    agent: str | None = None
    live: dict[str, Any] | None = None  # with --live: the outputs recorded in the state


@dataclass
class ChangeSubject:
    """A planned change (create, update, replace, delete)."""

    change: Change

    @property
    def address(self) -> str:
        return self.change.address

    @property
    def action(self) -> str:
        return str(self.change.action)

    @property
    def type(self) -> str:
        return self.change.type


@dataclass
class ProjectSubject:
    address: str = "project"


Subject = AgentSubject | ResourceSubject | ChangeSubject | ProjectSubject


@dataclass
class Finding:
    rule: Rule
    address: str
    status: Status
    message: str = ""
    evidence: str = ""
    severity: Severity = "info"
    suppression: Suppression | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule.id,
            "pack": self.rule.pack,
            "severity": self.severity,
            "status": self.status,
            "resource": self.address,
            "message": self.message,
            "evidence": self.evidence,
            "fix": self.rule.fix,
        }
        if self.suppression is not None:
            out["suppression"] = {
                "reason": self.suppression.reason,
                "until": self.suppression.until.isoformat() if self.suppression.until else None,
            }
        return out
