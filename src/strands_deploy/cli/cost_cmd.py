"""`strands-deploy cost`: the monthly forecast, actual cost (`--actual`), recommendations, and
`cost prices update`. Rendering only: the figures come from services → strands_deploy.cost."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from strands_deploy.cli.common import console, env_option, print_json, print_notes, project_dir
from strands_deploy.errors import StrandsDeployError

WINDOW_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|d|w)\s*$", re.IGNORECASE)
WINDOW_SECONDS = {"h": 3600, "d": 86400, "w": 604800}


def parse_window(text: str) -> float:
    """``30d``, ``12h``, ``2w`` → seconds."""
    m = WINDOW_RE.match(text or "")
    if not m:
        raise StrandsDeployError(f"{text!r} is not a period", fix="use e.g. 30d, 12h or 2w")
    return float(m.group(1)) * WINDOW_SECONDS[m.group(2).lower()]


@click.group("cost", invoke_without_command=True)
@env_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--actual", is_flag=True, help="What each agent really cost, from its logs and Lambda metrics.")
@click.option("--since", default="30d", show_default=True, help="With --actual: the period (30d, 12h, 2w).")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --actual: write a chart page.",
)
@click.option(
    "--png",
    "png_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --actual: write the daily cost chart as a PNG image.",
)
@click.option(
    "--recommend",
    is_flag=True,
    help="With --actual: memory, provisioned concurrency and cheaper-model advice.",
)
@click.option("--free-tier", is_flag=True, help="Subtract the AWS free tier (off by default).")
@click.option("--from-usage", "from_usage", metavar="PERIOD", help="Forecast from measured usage (e.g. 7d).")
@click.option("--top", default=10, show_default=True, help="With --actual: how many sessions to list.")
@click.pass_context
def command(
    ctx: click.Context,
    env_name: str,
    as_json: bool,
    actual: bool,
    since: str,
    html_file: Path | None,
    png_file: Path | None,
    recommend: bool,
    free_tier: bool,
    from_usage: str | None,
    top: int,
) -> None:
    """Monthly cost forecast per agent and resource (model tokens included), or actual cost."""
    if ctx.invoked_subcommand is not None:
        return
    from strands_deploy import services as svc

    services = svc.open_services(project_dir(ctx), env_name, start_local=False)
    if actual or recommend or html_file or png_file:
        result = svc.actual_cost(services, parse_window(since))
        charts = {"html": html_file, "png": png_file}
        _show_actual(result, parse_window(since) / 86400, as_json, charts, recommend, top)
        return
    window = parse_window(from_usage) if from_usage else None
    fc = svc.cost_forecast(services, free_tier=free_tier, from_usage_seconds=window)
    if as_json:
        check = _budget(services, fc)
        print_json({**fc.to_json(), "budget": check})
        return
    _show_forecast(fc)
    check = _budget(services, fc)
    if check:
        console().print(check["message"])


def _budget(services: Any, fc: Any) -> dict[str, Any] | None:
    from strands_deploy.cost import budget_check

    budget = services.env.budget
    if budget is None:
        return None
    refusal = budget_check(fc, services.env)
    return {
        "monthly_usd": budget.monthly_usd,
        "within": refusal is None,
        "message": refusal.render() if refusal else f"within the budget of ${budget.monthly_usd:,.2f}/month",
    }


def _show_forecast(fc: Any) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold", title=f"Monthly forecast of {fc.environment} ({fc.region})")
    for col, justify in (("owner", "left"), ("item", "left"), ("quantity", "right"), ("USD/month", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    by_owner = fc.by_owner()
    for owner in by_owner:
        for line in (x for x in fc.lines if x.owner == owner):
            if line.monthly_usd < 0.005 and line.service != "bedrock":
                continue
            table.add_row(
                owner,
                f"{line.service}: {line.item}",
                f"{line.quantity:,.2f} {line.unit}",
                f"{line.monthly_usd:,.2f}",
            )
        table.add_row("", f"[bold]{owner} total[/bold]", "", f"[bold]{by_owner[owner]:,.2f}[/bold]")
    table.add_row("[bold]total[/bold]", "", "", f"[bold]{fc.total:,.2f}[/bold]")
    console().print(table)
    for name, a in sorted(fc.assumptions.items()):
        source = "measured" if a.measured else "assumed"
        console().print(
            f"{name} ({source}): {a.requests_per_day:,.0f} requests/day, {a.input_tokens} input + "
            f"{a.output_tokens} output tokens, {a.duration_ms:,.0f} ms, {a.session_turns:g} turns/session"
        )
    console().print(f"{fc.prices.describe()}; free tier {'subtracted' if fc.free_tier else 'not subtracted'}")
    print_notes(list(fc.warnings))


def _write_charts(result: Any, charts: dict[str, Path | None], flagged: set[tuple[str, str]]) -> None:
    from strands_deploy.cost.chart import html_page
    from strands_deploy.cost.png import render_png

    title = f"Daily cost since {result.since}"
    html_file, png_file = charts.get("html"), charts.get("png")
    try:
        if html_file is not None:
            html_file.write_text(html_page(title, result.by_day(), flagged))
        if png_file is not None:
            png_file.write_bytes(render_png(title, result.by_day(), flagged))
    except OSError as err:
        raise StrandsDeployError(
            f"could not write the chart: {err.strerror}", str(err.filename), "choose a writable path"
        ) from err


def _show_actual(
    result: Any, days: float, as_json: bool, charts: dict[str, Path | None], recommend: bool, top: int
) -> None:
    from strands_deploy.cost.anomaly import anomalies
    from strands_deploy.cost.chart import terminal_lines
    from strands_deploy.cost.recommend import recommendations

    flagged = {(a.agent, a.day) for a in anomalies(result.by_day())}
    advice = recommendations(result, days) if recommend else []
    _write_charts(result, charts, flagged)
    if as_json:
        print_json({**result.to_json(top), "recommendations": [a.to_json() for a in advice]})
        return
    con = console()
    con.print(f"Actual cost since {result.since} ({result.prices.describe()})")
    for agent, usd in result.by_agent().items():
        n = sum(result.counts()[agent])
        con.print(
            f"  {agent}: ${usd:,.4f} for {n} requests (${result.per_request().get(agent, 0.0):,.6f}/request; "
            f"{result.sources(agent)})",
            highlight=False,
        )
    con.print(f"  total: ${result.total:,.4f}")
    for line in terminal_lines(result.by_day(), flagged):
        con.print(line, highlight=False)
    if result.by_session(top):
        con.print("Top sessions:")
        for agent, session, n, usd in result.by_session(top):
            con.print(f"  {agent}  {session}  {n} requests  ${usd:,.4f}")
    for odd in anomalies(result.by_day()):
        con.print(f"anomaly: agent {odd.agent} on {odd.day} cost ${odd.usd:,.4f} (median ${odd.median:,.4f})")
    for tip in advice:
        con.print(f"recommendation: {tip.text()}")
    for path in (p for p in charts.values() if p is not None):
        con.print(f"chart written to {path}")
    if result.unpriced_models:
        print_notes(
            [
                f"model {m} is not in the price table: its tokens are not counted"
                for m in sorted(result.unpriced_models)
            ]
        )


@command.group("prices")
def prices() -> None:
    """The price table forecasts use."""


@prices.command("update")
@env_option
@click.pass_context
def prices_update(ctx: click.Context, env_name: str) -> None:
    """Read current prices from the AWS Price List API into your user price table."""
    from strands_deploy import services as svc

    services = svc.open_services(project_dir(ctx), env_name, start_local=False)
    path, missing = svc.update_prices(services)
    console().print(f"wrote {path} (prices for {services.region})")
    if missing:
        print_notes([f"not found in the Price List, kept from the previous table: {', '.join(missing)}"])
