"""A review (and, for ``report compliance``, its approvals and history) as JSON, SARIF 2.1.0,
JUnit XML, Markdown or HTML. Pure functions returning text; front ends print or write it."""

from __future__ import annotations

import html
import json
from collections import Counter
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from strands_deploy.policy.model import FRAMEWORKS, Finding, Rule

if TYPE_CHECKING:
    from strands_deploy.policy.evaluate import PolicyReview

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
FORMATS = ("table", "json", "sarif", "junit", "md", "html")
COLORS = {
    "error": "#c62828",
    "warning": "#ef6c00",
    "info": "#1565c0",
    "suppressed": "#757575",
    "pass": "#2e7d32",
}


def mappings_text(rule: Rule) -> str:
    return "; ".join(
        f"{FRAMEWORKS[k].split(' (')[0] if k in FRAMEWORKS else k}: {', '.join(v)}"
        for k, v in rule.mappings.items()
    )


def render(fmt: str, review: PolicyReview, extra: dict[str, Any] | None = None) -> str:
    """``extra``: what a compliance report adds (approvals, history, period)."""
    if fmt == "json":
        return json.dumps(
            {**review.to_json(passes=extra is not None), **(extra or {})}, indent=2, default=str
        )
    if fmt == "sarif":  # a compliance report (``extra``) lists the passes too, as kind "pass"
        return json.dumps(sarif(review, passes=extra is not None), indent=2)
    if fmt == "junit":
        return junit(review)
    if fmt == "md":
        return markdown(review, extra)
    if fmt == "html":
        return html_report(review, extra)
    raise ValueError(f"unknown format {fmt!r}")


# --- SARIF ------------------------------------------------------------------------------------------


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.title.replace("-", " ").split() if w.isalnum())
        or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale or rule.title},
        "help": {"text": f"Fix: {rule.fix}" if rule.fix else rule.title},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        "properties": {
            "pack": rule.pack,
            "tags": [rule.pack, *(f"{k}:{c}" for k, v in rule.mappings.items() for c in v)],
            "source": rule.source,
        },
    }


def _sarif_result(f: Finding, index: int, source: str) -> dict[str, Any]:
    message = f.message or (f"passed: {f.rule.title}" if f.status == "pass" else f.rule.title)
    result: dict[str, Any] = {
        "ruleId": f.rule.id,
        "ruleIndex": index,
        "level": SARIF_LEVEL[f.severity],
        "message": {"text": f"{f.address}: {message}" + (f" ({f.evidence})" if f.evidence else "")},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": source}},
                "logicalLocations": [{"fullyQualifiedName": f.address, "kind": "resource"}],
            }
        ],
        "partialFingerprints": {"strandsDeploy/v1": f"{f.rule.id}:{f.address}:{f.message}"},
    }
    if f.status == "pass":  # SARIF: a pass has kind "pass" and level "none"
        result["kind"], result["level"] = "pass", "none"
    if f.suppression is not None:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": f.suppression.reason}
        ]
    return result


def sarif(review: PolicyReview, source: str = "strands.yaml", *, passes: bool = False) -> dict[str, Any]:
    """SARIF 2.1.0 of the failures and suppressions; with ``passes`` (compliance reports), each
    pass too, with the evidence it was judged on."""
    from strands_deploy import __version__

    index = {r.id: i for i, r in enumerate(review.rules)}
    shown = review.findings if passes else [f for f in review.findings if f.status != "pass"]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "strands-deploy",
                        "version": __version__,
                        "informationUri": "https://github.com/strands-agents",
                        "rules": [_sarif_rule(r) for r in review.rules],
                    }
                },
                "results": [_sarif_result(f, index[f.rule.id], source) for f in shown],
                "properties": {"environment": review.env_name, "counts": review.counts()},
            }
        ],
    }


# --- JUnit ------------------------------------------------------------------------------------------


def junit(review: PolicyReview) -> str:
    """One test suite per pack, one test case per rule and resource: errors are failures,
    suppressed findings are skipped (with the reason), warnings pass with the message as output."""
    root = ET.Element("testsuites", name="strands-deploy policy")
    by_pack: dict[str, list[Finding]] = {}
    for f in review.findings:
        by_pack.setdefault(f.rule.pack, []).append(f)
    for pack, findings in by_pack.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=pack,
            tests=str(len(findings)),
            failures=str(sum(1 for f in findings if f.status == "fail" and f.severity == "error")),
            skipped=str(sum(1 for f in findings if f.status == "suppressed")),
        )
        for f in findings:
            case = ET.SubElement(
                suite, "testcase", classname=f"{pack}.{f.rule.id}", name=f"{f.rule.id} {f.address}"
            )
            text = f"{f.message} ({f.evidence})" if f.evidence else f.message
            if f.status == "suppressed" and f.suppression is not None:
                ET.SubElement(case, "skipped", message=f"suppressed: {f.suppression.reason}")
            elif f.status == "fail" and f.severity == "error":
                ET.SubElement(case, "failure", message=text, type=f.rule.id).text = f"fix: {f.rule.fix}"
            elif f.status == "fail":
                ET.SubElement(case, "system-out").text = f"{f.severity}: {text}"
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


# --- Markdown ---------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(review: PolicyReview, extra: dict[str, Any] | None = None) -> str:
    c = review.counts()
    title = "Compliance report" if extra is not None else "Policy check"
    lines = [
        f"# {title}: {review.env_name}",
        "",
        f"**{c['error']} errors, {c['warning']} warnings, {c['info']} notes, {c['suppressed']} suppressed, "
        f"{c['pass']} passed.**",
        "",
    ]
    if extra is not None and extra.get("period"):
        lines += [f"Period: {extra['period']['from']} to {extra['period']['to']}", ""]
    shown = review.findings if extra is not None else [f for f in review.findings if f.status != "pass"]
    lines += [
        "## Findings",
        "",
        "| Status | Severity | Rule | Resource | Finding | Evidence |",
        "|---|---|---|---|---|---|",
    ]
    for f in shown:
        lines.append(
            f"| {f.status} | {f.severity} | {f.rule.id} | {_cell(f.address)} | {_cell(f.message or f.rule.title)} | {_cell(f.evidence)} |"
        )
    lines += ["", "## Suppressions", ""]
    if not review.suppressions.entries:
        lines.append("None.")
    for s in review.suppressions.entries:
        state = "active" if review.suppressions.active(s) else "EXPIRED"
        lines.append(
            f"- **{s.rule}** on `{s.resource or '*'}` ({state}, until {s.until or 'no end'}): {s.reason}"
        )
    for n in review.notices:
        lines.append(f"- note: {n}")
    if extra is not None:
        lines += _md_extra(review, extra)
    return "\n".join(lines) + "\n"


def _md_extra(review: PolicyReview, extra: dict[str, Any]) -> list[str]:
    lines = ["", "## Rules", "", "| Rule | Severity | Title | Frameworks | Fix |", "|---|---|---|---|---|"]
    for r in review.rules:
        lines.append(
            f"| {r.id} | {r.severity} | {_cell(r.title)} | {_cell(mappings_text(r))} | {_cell(r.fix)} |"
        )
    lines += ["", "## Approvals", ""]
    lines += [
        f"- {a.get('at')}: {a.get('approver')} approved {a.get('digest')} (made by {a.get('maker')})"
        for a in extra.get("approvals", [])
    ] or ["None."]
    lines += ["", "## Deploy history", ""]
    lines += [
        f"- {h.get('at')}: `{h.get('command')}` by {h.get('who') or h.get('user')}: {h.get('result')}"
        + (f" (plan {h.get('plan_digest')})" if h.get("plan_digest") else "")
        for h in extra.get("history", [])
    ] or ["None."]
    return lines


# --- HTML -------------------------------------------------------------------------------------------


def summary_svg(counts: dict[str, int]) -> str:
    """A horizontal bar chart of the counts (inline SVG: no script, no external file)."""
    keys = ["error", "warning", "info", "suppressed", "pass"]
    top = max([counts.get(k, 0) for k in keys] + [1])
    rows = []
    for i, k in enumerate(keys):
        n = counts.get(k, 0)
        width = int(300 * n / top)
        y = 10 + i * 28
        rows.append(
            f'<text x="0" y="{y + 15}" font-size="13">{k}</text>'
            f'<rect x="90" y="{y}" width="{width}" height="20" fill="{COLORS[k]}"><title>{k}: {n}</title></rect>'
            f'<text x="{96 + width}" y="{y + 15}" font-size="13">{n}</text>'
        )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Summary of findings" '
        f'width="460" height="{20 + 28 * len(keys)}" class="summary-chart">{"".join(rows)}</svg>'
    )


def html_report(review: PolicyReview, extra: dict[str, Any] | None = None) -> str:
    e = html.escape
    c = review.counts()
    title = f"{'Compliance report' if extra is not None else 'Policy check'}: {review.env_name}"
    shown = review.findings if extra is not None else [f for f in review.findings if f.status != "pass"]
    rows = "".join(
        f'<tr class="{e(f.status)} {e(f.severity)}"><td>{e(f.status)}</td><td>{e(f.severity)}</td>'
        f"<td>{e(f.rule.id)}</td><td><code>{e(f.address)}</code></td><td>{e(f.message or f.rule.title)}</td>"
        f"<td>{e(f.evidence)}</td></tr>"
        for f in shown
    )
    supp = (
        "".join(
            f"<li><b>{e(s.rule)}</b> on <code>{e(s.resource or '*')}</code> "
            f"({'active' if review.suppressions.active(s) else 'EXPIRED'}, until {e(str(s.until or 'no end'))}): {e(s.reason)}</li>"
            for s in review.suppressions.entries
        )
        or "<li>None.</li>"
    )
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{e(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}tr.fail.error td:first-child{color:#c62828}"
        "tr.suppressed{color:#757575}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        summary_svg(c),
        f"<p>{c['error']} errors, {c['warning']} warnings, {c['info']} notes, {c['suppressed']} suppressed, {c['pass']} passed.</p>",
        "<h2>Findings</h2><table><tr><th>Status</th><th>Severity</th><th>Rule</th><th>Resource</th>"
        f"<th>Finding</th><th>Evidence</th></tr>{rows}</table>",
        f"<h2>Suppressions</h2><ul>{supp}</ul>",
    ]
    if review.notices:
        parts.append("<ul>" + "".join(f"<li>note: {e(n)}</li>" for n in review.notices) + "</ul>")
    if extra is not None:
        parts.append(_html_extra(review, extra))
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_extra(review: PolicyReview, extra: dict[str, Any]) -> str:
    e = html.escape
    rules = "".join(
        f"<tr><td>{e(r.id)}</td><td>{e(r.severity)}</td><td>{e(r.title)}</td><td>{e(mappings_text(r))}</td>"
        f"<td>{e(r.rationale)}</td><td>{e(r.fix)}</td></tr>"
        for r in review.rules
    )
    approvals = (
        "".join(
            f"<li>{e(str(a.get('at')))}: {e(str(a.get('approver')))} approved <code>{e(str(a.get('digest')))}</code> "
            f"(made by {e(str(a.get('maker')))})</li>"
            for a in extra.get("approvals", [])
        )
        or "<li>None.</li>"
    )
    history = (
        "".join(
            f"<li>{e(str(h.get('at')))}: <code>{e(str(h.get('command')))}</code> by {e(str(h.get('who') or h.get('user')))}: "
            f"{e(str(h.get('result')))}</li>"
            for h in extra.get("history", [])
        )
        or "<li>None.</li>"
    )
    status = Counter(f.rule.id for f in review.findings if f.status == "fail")
    per_rule = (
        "".join(f"<li>{e(k)}: {v} failing</li>" for k, v in sorted(status.items()))
        or "<li>None failing.</li>"
    )
    return (
        "<h2>Rules</h2><table><tr><th>Rule</th><th>Severity</th><th>Title</th><th>Frameworks</th><th>Rationale</th>"
        f"<th>Fix</th></tr>{rules}</table><h2>Failing rules</h2><ul>{per_rule}</ul>"
        f"<h2>Approvals</h2><ul>{approvals}</ul><h2>Deploy history</h2><ul>{history}</ul>"
    )
