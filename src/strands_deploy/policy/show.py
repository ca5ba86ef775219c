"""The terminal rendering of a review (rich), shared by `check`, `plan` and `deploy`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strands_deploy.policy.evaluate import PolicyReview

STYLE = {"error": "red", "warning": "yellow", "info": "blue"}


def print_review(review: PolicyReview, console: Any, *, quiet_when_clean: bool = False) -> None:
    """Failing findings (errors, then warnings, then notes), suppressed ones, notices, a summary."""
    from rich.markup import escape

    order = {"error": 0, "warning": 1, "info": 2}
    failures = sorted(review.failures, key=lambda f: (order[f.severity], f.rule.id, f.address))
    if quiet_when_clean and not failures and not review.notices:
        return
    for f in failures:
        style = STYLE[f.severity]
        evidence = f" [dim]({escape(f.evidence)})[/dim]" if f.evidence else ""
        console.print(
            f"[{style}]{f.severity}[/{style}] [bold]{f.rule.id}[/bold] {escape(f.address)}: "
            f"{escape(f.message or f.rule.title)}{evidence}",
            highlight=False,
            soft_wrap=True,
        )
        if f.rule.fix and f.severity == "error":
            console.print(f"  [dim]fix:[/dim] {escape(f.rule.fix)}", highlight=False, soft_wrap=True)
    for f in review.suppressed:
        reason = f.suppression.reason if f.suppression else ""
        console.print(
            f"[dim]suppressed {f.rule.id} {escape(f.address)}: {escape(reason)}[/dim]",
            highlight=False,
            soft_wrap=True,
        )
    for note in review.notices:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False, soft_wrap=True)
    c = review.counts()
    verdict = "[red]policy: blocked[/red]" if c["error"] else "[green]policy: ok[/green]"
    console.print(
        f"{verdict} — {c['error']} error(s), {c['warning']} warning(s), {c['info']} note(s), "
        f"{c['suppressed']} suppressed, {c['pass']} passed",
        highlight=False,
    )
