"""Running the rules: every rule on every subject it applies to, findings with suppressions.

``review(project, env_name, graph, plan)`` is what plan, deploy and check call. It never raises for
a failing rule; a rule that crashes (a custom rule with a bug) becomes an error finding naming the
rule, so a broken policy blocks instead of passing silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strands_deploy.policy.model import (
    SEVERITIES,
    CheckResult,
    Context,
    Finding,
    ProjectSubject,
    Rule,
    Severity,
    Status,
    Violation,
)
from strands_deploy.policy.subjects import agent_subjects, change_subjects, resource_subjects
from strands_deploy.policy.suppress import Suppressions, suppressions

if TYPE_CHECKING:
    from strands_deploy.config.loader import Project
    from strands_deploy.planning.plan import Plan
    from strands_deploy.synth.graph import Graph


@dataclass
class PolicyReview:
    env_name: str
    rules: list[Rule]
    findings: list[Finding]  # every rule × subject it applies to: pass, fail, suppressed
    suppressions: Suppressions
    notices: list[str] = field(default_factory=list)  # expired suppressions, skipped scans...

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "fail"]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.failures if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.failures if f.severity == "warning"]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.failures if f.severity == "info"]

    @property
    def suppressed(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "suppressed"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {
            "error": len(self.errors),
            "warning": len(self.warnings),
            "info": len(self.infos),
            "suppressed": len(self.suppressed),
            "pass": sum(1 for f in self.findings if f.status == "pass"),
        }

    def to_json(self, *, passes: bool = False) -> dict[str, Any]:
        from strands_deploy.policy.suppress import to_json

        shown = self.findings if passes else [f for f in self.findings if f.status != "pass"]
        return {
            "environment": self.env_name,
            "ok": self.ok,
            "counts": self.counts(),
            "findings": [f.to_json() for f in shown],
            "suppressions": [to_json(s, self.suppressions.active(s)) for s in self.suppressions.entries],
            "notices": self.notices,
            "rules": [r.to_json() for r in self.rules],
        }


def review(
    project: Project,
    env_name: str,
    graph: Graph,
    plan: Plan | None = None,
    *,
    live: dict[str, dict[str, Any]] | None = None,
    account: str | None = None,
    today: dt.date | None = None,
    rules: list[Rule] | None = None,
    extra_notices: Iterable[str] = (),
) -> PolicyReview:
    """Evaluate ``rules`` (default: built-in packs + the project's and installed packs) against
    the graph, the plan and, with ``live``, the recorded outputs of each resource."""
    from strands_deploy.policy.custom import all_rules

    env = project.environment(env_name)
    today = today or dt.date.today()
    ctx = Context(
        project=project,
        env_name=env_name,
        env=env,
        graph=graph,
        plan=plan,
        live=live,
        today=today,
        account=account or (plan.account if plan is not None and plan.account else "") or "",
    )
    chosen = rules if rules is not None else all_rules(project.root)
    supp = suppressions(project.config.suppress, env.suppress, today=today)
    findings = evaluate(chosen, ctx, supp)
    return PolicyReview(env_name, chosen, findings, supp, [*supp.notices(), *extra_notices])


def evaluate(rules: list[Rule], ctx: Context, supp: Suppressions) -> list[Finding]:
    subjects: dict[str, list[Any]] = {
        "agent": agent_subjects(ctx),
        "resource": resource_subjects(ctx),
        "change": change_subjects(ctx),
        "project": [ProjectSubject()],
    }
    findings: list[Finding] = []
    for rule in rules:
        for subject in subjects[rule.subject]:
            rtype = getattr(subject, "type", None)
            if rtype is not None and not rule.applies_to(rtype):
                continue
            findings.extend(_findings(rule, subject, ctx, supp))
    return findings


def _findings(rule: Rule, subject: Any, ctx: Context, supp: Suppressions) -> list[Finding]:
    from strands_deploy.policy.evidence import recording

    address = subject.address
    view, ctx_view, looked = recording(subject, ctx)  # notes what the rule reads: a pass's evidence
    try:
        violations = _violations(rule, rule.check(view, ctx_view))
    except Exception:
        violations = None  # judged again on the plain subject: the views never decide a verdict
    if violations is None:
        looked.seen.clear()
        try:
            violations = _violations(rule, rule.check(subject, ctx))
        except Exception as e:  # a rule with a bug: block, naming it, rather than pass silently
            violations = [Violation(f"the rule failed to run: {type(e).__name__}: {e}", rule.source, "error")]
    if not violations:
        return [Finding(rule, address, "pass", evidence=looked.text(), severity=rule.severity)]
    out = []
    for v in violations:
        severity: Severity = v.severity if v.severity in SEVERITIES else rule.severity  # type: ignore[assignment]
        suppression = supp.match(rule.id, address)
        status: Status = "suppressed" if suppression is not None else "fail"
        out.append(Finding(rule, address, status, v.message, v.evidence, severity, suppression))
    return out


def _violations(rule: Rule, result: CheckResult) -> list[Violation]:
    if result is None or result is True:
        return []
    if result is False:
        return [Violation(rule.title)]
    if isinstance(result, str):
        return [Violation(result)]
    if isinstance(result, Violation):
        return [result]
    return [v if isinstance(v, Violation) else Violation(str(v)) for v in result]
