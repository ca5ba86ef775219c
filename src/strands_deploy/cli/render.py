"""Rendering of plans, live progress and results with rich (one terminal wrapper for all)."""

from __future__ import annotations

import json
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from strands_deploy.cli.common import console, err_console

if TYPE_CHECKING:
    from strands_deploy.engine.apply import ApplyResult
    from strands_deploy.engine.events import Event, EventSink
    from strands_deploy.planning.plan import Plan

COLORS = {
    "create": "green",
    "adopt": "cyan",
    "update": "yellow",
    "replace": "magenta",
    "delete": "red",
    "no-op": "dim",
}
SYMBOLS = {"create": "+", "adopt": "<=", "update": "~", "replace": "-/+", "delete": "-", "no-op": " "}


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_plan(plan: Plan) -> None:
    from strands_deploy.planning.plan import HIDDEN_KEYS, display

    con = console()
    actionable = plan.actionable
    if not actionable:
        con.print(
            f"[green]No changes.[/green] Environment [bold]{plan.environment}[/bold] matches the configuration."
        )
        _render_untracked(plan)
        return
    title = "Destroy plan" if plan.destroy else "Plan"
    # the monthly cost change of each resource, from the plan's review (docs/cost.md)
    costs = {
        a["key"]: f"{'-' if a['delta_monthly_usd'] < 0 else '+'}${abs(a['delta_monthly_usd']):,.2f}"
        for a in ((plan.review or {}).get("cost") or {}).get("addresses", [])
    }
    con.print(f"{title} for environment [bold]{plan.environment}[/bold]:\n")
    for c in actionable:
        color = COLORS[c.action.value]
        reason = f" [dim]({c.reason})[/dim]" if c.reason else ""
        cost = costs.get(c.address)
        money = f" [magenta]{cost}/mo[/magenta]" if cost else ""
        con.print(
            f"[{color}]{SYMBOLS[c.action.value]:>3} {c.address}[/{color}] [dim]{c.type}[/dim]{money}{reason}"
        )
        if c.action.value in ("update", "replace"):
            for key, (before, after) in c.diff.items():
                if key in HIDDEN_KEYS:
                    con.print(f"      {key}: [yellow](value changed)[/yellow]")
                    continue
                con.print(
                    f"      {key}: [red]{_short(display(before, key))}[/red] → "
                    f"[green]{_short(display(after, key))}[/green]"
                )
    s = plan.summary()
    adopt = f"{s['adopt']} to adopt, " if s["adopt"] else ""
    con.print(
        f"\n[bold]{s['create']} to create, {adopt}{s['update']} to update, {s['replace']} to replace, "
        f"{s['delete']} to delete[/bold] ({s['no-op']} unchanged)."
    )
    _render_untracked(plan)


def render_warnings(plan: Plan) -> None:
    con = err_console()
    for w in plan.warnings:
        where = f"[bold]{w.get('where')}[/bold]: " if w.get("where") else ""
        con.print(f"[yellow]warning:[/yellow] {where}{w.get('what')}", highlight=False, soft_wrap=True)
        if w.get("fix"):
            con.print(f"  [dim]fix:[/dim] {w.get('fix')}", highlight=False, soft_wrap=True)


def _render_untracked(plan: Plan) -> None:
    render_warnings(plan)
    if not plan.untracked:
        return
    from strands_deploy.planning.untracked import describe_untracked

    con = err_console()
    con.print(
        f"\n[yellow]{len(plan.untracked)} untracked:[/yellow] live resources tagged for this project and "
        "environment that the state does not record:"
    )
    for item in plan.untracked:
        con.print(f"  [yellow]?[/yellow] {describe_untracked(item)}", highlight=False, soft_wrap=True)
    con.print(
        "  [dim]fix:[/dim] adopt them by declaring them in strands.yaml (deploy then records them), "
        "or delete them if nothing needs them"
    )


class Progress:
    """One line per resource with a spinner and elapsed time; plain lines when not a terminal."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.live: Any = None
        self.con = err_console()
        self.interactive = self.con.is_terminal
        self._hold: Any = None

    def __enter__(self) -> Progress:
        from strands_deploy.cli.progress import hold_spinner

        self._hold = hold_spinner()  # this table is the progress display: no slow-call spinner
        self._hold.__enter__()
        return self  # the live display starts with the first event (after any confirmation prompt)

    def _start(self) -> None:
        from rich.live import Live

        self.live = Live(self._table(), console=self.con, refresh_per_second=8, transient=False)
        self.live.__enter__()

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.live.update(self._table())
            self.live.__exit__(*exc)
        if self._hold is not None:
            self._hold.__exit__(*exc)

    def __call__(self, event: Event) -> None:
        with self.lock:
            row = self.rows.setdefault(event.address, {"action": event.action, "start": time.monotonic()})
            row["state"] = event.kind
            row["message"] = event.message
            if event.kind != "start":
                row["elapsed"] = event.elapsed
            if self.interactive and self.live is None:
                self._start()
        if self.live is not None:
            self.live.update(self._table())
        elif event.kind in ("done", "failed", "skipped"):
            mark = {"done": "[green]✓[/green]", "failed": "[red]✗[/red]", "skipped": "[yellow]-[/yellow]"}[
                event.kind
            ]
            extra = f" ({event.message})" if event.message else ""
            self.con.print(f"{mark} {event.action:<7} {event.address} {event.elapsed:.1f}s{extra}")

    def _table(self) -> Any:
        from rich.spinner import Spinner
        from rich.table import Table

        table = Table.grid(padding=(0, 1))
        now = time.monotonic()
        with self.lock:
            rows = list(self.rows.items())
        for address, row in rows:
            state = row.get("state", "start")
            elapsed = row.get("elapsed", now - row["start"])
            if state == "start":
                icon: Any = Spinner("dots", style="cyan")
            else:
                icon = {
                    "done": "[green]✓[/green]",
                    "failed": "[red]✗[/red]",
                    "skipped": "[yellow]-[/yellow]",
                    "progress": "[cyan]…[/cyan]",
                }.get(state, " ")
            color = COLORS.get(row["action"], "white")
            table.add_row(
                icon,
                f"[{color}]{row['action']:<7}[/{color}]",
                address,
                f"[dim]{elapsed:5.1f}s[/dim]",
                f"[dim]{row.get('message') or ''}[/dim]",
            )
        return table


def progress(enabled: bool, title: str) -> AbstractContextManager[EventSink]:
    """Live progress as the event sink, or a silent sink (for --json)."""
    from strands_deploy.engine.events import null_sink

    return Progress(title) if enabled else nullcontext(null_sink)


def render_result(result: ApplyResult, verb: str, started: float) -> None:
    con = err_console()
    elapsed = time.monotonic() - started
    if result.fatal is not None:
        where = f"[bold]{result.fatal.where}[/bold]: " if result.fatal.where else ""
        con.print(f"[red]error:[/red] {where}{result.fatal.what}", highlight=False, soft_wrap=True)
        if result.fatal.fix:
            con.print(f"  [dim]fix:[/dim] {result.fatal.fix}", highlight=False, soft_wrap=True)
        con.print(
            f"[red]{verb} stopped:[/red] no AWS call was started after the state could not be saved; "
            f"{len(result.applied)} done, {len(result.not_started)} not started."
        )
        return
    if result.adopted:
        con.print(
            f"[cyan]adopted[/cyan] {len(result.adopted)} existing resource(s) of this project: "
            + ", ".join(sorted(result.adopted))
        )
    for address, err in result.failed.items():
        con.print(f"[red]error:[/red] [bold]{address}[/bold]: {err.what}", highlight=False)
        if err.fix:
            con.print(f"  [dim]fix:[/dim] {err.fix}", highlight=False)
    if result.skipped:
        con.print(
            f"[yellow]{len(result.skipped)} skipped[/yellow] because a dependency failed: "
            + ", ".join(sorted(result.skipped))
        )
    if result.cancelled:
        con.print(
            f"[yellow]interrupted:[/yellow] {len(result.applied)} done, "
            f"{len(result.not_started)} not started ("
            + ", ".join(result.not_started[:10])
            + ("…" if len(result.not_started) > 10 else "")
            + "). Run the command again to finish."
        )
    if result.ok:
        con.print(f"[green]{verb} complete:[/green] {len(result.applied)} changed in {elapsed:.1f}s")
    elif result.failed:
        con.print(
            f"[red]{verb} failed:[/red] {len(result.failed)} failed, {len(result.applied)} done "
            f"in {elapsed:.1f}s. The state records exactly what exists; fix the errors and run again."
        )


def render_endpoints(state: Any) -> None:
    """The endpoints the environment serves (Function URLs, HTTP API routes), after a deploy."""
    from strands_deploy.cli.outputs_cmd import collect

    urls = [
        (owner, out["url"])
        for owner, out in collect(state).items()
        if owner.startswith("agent.") and out.get("url")
    ]
    if not urls:
        return
    con = err_console()
    con.print("endpoints:")
    width = max(len(owner) for owner, _ in urls)
    for owner, url in urls:
        con.print(f"  {owner.ljust(width)}  {url}", highlight=False, soft_wrap=True)
