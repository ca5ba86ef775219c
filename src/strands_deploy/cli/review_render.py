"""The review beside a plan (policy findings, the monthly cost change, what blocks a deploy), for
people (stderr) and for pull-request comments (Markdown). The data is ``plan.review``
(see ``services.review_plan``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from strands_deploy.planning.plan import Plan

# more warnings than this are summarised by rule (`check` lists every one)
LIST_WARNINGS = 5


def render_review(plan: Plan) -> None:
    """Print the plan's review on stderr: the cost change, policy errors (each), warnings (each,
    or by rule when there are many), and what blocks a deploy."""
    from strands_deploy.cli.render import err_console

    review = plan.review
    if not review:
        return
    con = err_console()
    cost = review.get("cost") or {}
    if cost:
        prices = (cost.get("prices") or {}).get("date", "?")
        con.print(
            f"cost: [bold]{cost['delta']}[/bold] (monthly {_usd(cost['before_monthly_usd'])} → "
            f"{_usd(cost['after_monthly_usd'])}; prices of {prices}; `strands-deploy cost` explains)",
            highlight=False,
        )
    for line in policy_lines(review.get("policy") or {}):
        con.print(line, highlight=False, soft_wrap=True)
    for entry in (review.get("blocked") or {}).values():
        con.print(f"[red]blocks deploy:[/red] {entry['what']}", highlight=False, soft_wrap=True)
        con.print(f"  [dim]fix:[/dim] {entry['fix']}", highlight=False, soft_wrap=True)


def policy_lines(policy: dict[str, Any]) -> list[str]:
    """Rich-markup lines for the policy part of a review."""
    findings = [f for f in policy.get("findings", []) if f.get("status") == "fail"]
    errors = [f for f in findings if f["severity"] == "error"]
    warnings = [f for f in findings if f["severity"] == "warning"]
    lines = [f"[red]policy error[/red] {f['rule']} {f['resource']}: {f['message']}" for f in errors]
    if len(warnings) <= LIST_WARNINGS:
        lines += [
            f"[yellow]policy warning[/yellow] {f['rule']} {f['resource']}: {f['message']}" for f in warnings
        ]
    else:
        by_rule = Counter(f["rule"] for f in warnings)
        summary = ", ".join(f"{rule} ×{n}" for rule, n in sorted(by_rule.items()))
        lines.append(
            f"[yellow]policy warnings[/yellow] {len(warnings)}: {summary} (`strands-deploy check` lists them)"
        )
    if not errors and not warnings and policy:
        lines.append(f"policy: ok ({policy.get('counts', {}).get('pass', 0)} checks passed)")
    return lines


def plan_markdown(plan: Plan) -> str:
    """The plan as Markdown for a pull-request comment: the changes with their cost, the cost
    change, policy findings and what blocks the deploy."""
    from strands_deploy.planning.plan import HIDDEN_KEYS

    s = plan.summary()
    out = [
        f"### strands-deploy plan: `{plan.environment}`",
        "",
        f"**{s['create']} to create, {s['update']} to update, {s['replace']} to replace, "
        f"{s['delete']} to delete** ({s['no-op']} unchanged)",
        "",
    ]
    review = plan.review or {}
    costs = {a["key"]: a["delta_monthly_usd"] for a in (review.get("cost") or {}).get("addresses", [])}
    if plan.actionable:
        out += ["| action | resource | changes | cost/mo |", "|---|---|---|---|"]
        for c in plan.actionable:
            keys = ", ".join(f"`{k}`" + (" (hidden)" if k in HIDDEN_KEYS else "") for k in c.diff)
            what = c.reason or keys if c.action.value in ("update", "replace") else c.reason or ""
            money = _signed(costs[c.address]) if c.address in costs else ""
            out.append(f"| {c.action.value} | `{c.address}` | {_cell(what)} | {money} |")
        out.append("")
    cost = review.get("cost")
    if cost:
        out += [
            f"**Monthly cost:** {_usd(cost['before_monthly_usd'])} → {_usd(cost['after_monthly_usd'])} "
            f"(**{cost['delta']}**)",
            "",
        ]
    findings = [f for f in (review.get("policy") or {}).get("findings", []) if f.get("status") == "fail"]
    if findings:
        out += ["**Policy**", "", "| severity | rule | resource | finding |", "|---|---|---|---|"]
        out += [
            f"| {f['severity']} | {f['rule']} | `{f['resource']}` | {_cell(f['message'])} |" for f in findings
        ]
        out.append("")
    for entry in (review.get("blocked") or {}).values():
        out.append(f"> :no_entry: **Blocks the deploy:** {entry['what']}")
    return "\n".join(out).rstrip() + "\n"


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _signed(value: float) -> str:
    return f"{'-' if value < 0 else '+'}${abs(value):,.2f}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
