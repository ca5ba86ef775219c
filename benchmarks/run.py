"""python -m benchmarks.run [--quick] [--scale S] [--agents 20,100] [--only S1,S4,S8,...]

Starts the latency proxy (and its moto server), runs the scenarios with the real CLI, prints a
table and writes benchmarks/results.json. See benchmarks/README.md for how to read it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.awsproxy import AwsProxy
from benchmarks.scenarios import TOOL, Bench, Result, snapshot_source, source_version, warm_bytecode

HERE = Path(__file__).resolve().parent


def _fmt(v: float | None, unit: str = "s", digits: int = 2) -> str:
    return "—" if v is None else f"{v:.{digits}f}{unit}"


def print_table(results: list[Result], scale: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"strands-deploy against the AWS latency model (scale {scale:g})", show_lines=False)
    for col, just in (
        ("scenario", "left"),
        ("wall", "right"),
        ("AWS span", "right"),
        ("calls (w)", "right"),
        ("retries", "right"),
        ("floor", "right"),
        ("× floor", "right"),
        ("naive", "right"),
        ("target", "left"),
        ("status", "left"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    colors = {"met": "green", "missed": "red", "failed": "red", "not run": "yellow", "info": "dim"}
    for r in results:
        floor = r.floor["seconds"] if r.floor else None
        calls = f"{r.reads + r.writes} ({r.writes})" if (r.reads or r.writes) else "—"
        retries = "—" if not r.injected else f"{r.retries}" + (f" ({r.throttles} thr)" if r.throttles else "")
        status = r.status
        missed = [k for k, ok in r.checks.items() if not ok]
        if missed and status == "missed":
            status += ": " + ", ".join(missed)
        wall = _fmt(r.wall, "s", 3 if (r.wall or 1) < 1 else 2)
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}×"
        style = colors.get(r.status, "")
        table.add_row(
            r.id,
            wall,
            _fmt(r.aws_span),
            calls,
            retries,
            _fmt(floor),
            ratio,
            _fmt(r.naive, "s", 1),
            r.target,
            f"[{style}]{status}[/{style}]" if style else status,
        )
    console = Console(width=160)
    console.print(table)
    for r in results:
        for note in r.notes[:3]:
            console.print(f"[dim]{r.id}:[/dim] {note}", highlight=False, soft_wrap=True)
        if r.id.startswith(("S6", "S8 plan")) and "state_bytes" in r.extra:
            console.print(
                f"[dim]{r.id}:[/dim] state {r.extra['state_bytes'] / 1e6:.2f} MB, peak RSS "
                f"{_fmt(r.peak_rss_mb, ' MB', 0)}, {r.extra['resources']} resources",
                highlight=False,
            )


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo; platform.processor() elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="20 agents (no 100-agent runs); S8's deploy at 100, S9 at 5"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="latency/wait multiplier (1 = real AWS)")
    parser.add_argument("--agents", default=None, help="agent counts for S4/S5, e.g. 20,100")
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated groups: S1 (1-3, 7), S4 (4, 5, 6b), S6, S8, S9, S10, S11",
    )
    parser.add_argument(
        "--s8-agents",
        type=int,
        default=None,
        help="agents in S8's first deploy (default 1000; 100 with --quick); its plan always uses 1000",
    )
    parser.add_argument(
        "--peer-functions", type=int, default=None, help="functions in S9 (default 20; 5 with --quick)"
    )
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument("--keep", action="store_true", help="keep the generated projects")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="also measure S1 with --concurrency 1 (the naive baseline, measured)",
    )
    args = parser.parse_args(argv)

    if not TOOL.exists():
        print(f"error: {TOOL} not found; run `make install` first", file=sys.stderr)
        return 2
    counts = [int(x) for x in args.agents.split(",")] if args.agents else ([20] if args.quick else [20, 100])
    groups = (
        {g.strip().upper() for g in args.only.split(",")}
        if args.only
        else {"S1", "S4", "S6", "S8", "S9", "S10", "S11"}
    )
    s8_agents = args.s8_agents or (100 if args.quick else 1000)
    peer_functions = args.peer_functions or (5 if args.quick else 20)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="strands-bench-"))
    proxy = AwsProxy(scale=args.scale, seed=args.seed, moto_log=workdir / "moto.log").start()
    log(f"proxy {proxy.endpoint} -> moto {proxy.moto_endpoint}; projects in {workdir}")
    version = source_version()
    snapshot_source(workdir)
    proxy.warm_up()
    warm_bytecode()
    bench = Bench(proxy, workdir, args.scale, log)
    bench.sequential = args.sequential
    results: list[Result] = []
    try:
        if "S1" in groups:
            log("scenarios 1-3, 7: one agent")
            results += bench.single_agent()
        if "S4" in groups:
            for i, n in enumerate(counts):
                log(f"scenarios 4-5: {n} agents")
                last = i == len(counts) - 1
                results += bench.many_agents(n, also_change=last, also_plan=last)
        if "S6" in groups:
            log("scenario 6: plan on a 1,000-resource state")
            results += bench.big_state()
        if "S8" in groups:
            from benchmarks.scale import thousand_agents

            log(f"scenario S8: plan on 1,000 agents, first deploy of {s8_agents} at scale 0.2")
            results += thousand_agents(bench, deploy_agents=s8_agents)
        if "S9" in groups:
            from benchmarks.peer import peer

            log(f"scenario S9: AWS Chalice, {peer_functions} functions, through the same proxy")
            results += peer(bench, peer_functions)
        if "S10" in groups:
            from benchmarks.local_bench import local_scenarios

            log("scenario S10: local deploy, invoke overhead, dev reload")
            results += local_scenarios(bench)
        if "S11" in groups:
            log("scenario S11: remote (S3) state on a no-change deploy")
            results += bench.remote_state()
    except KeyboardInterrupt:
        log("interrupted: writing what ran")
    finally:
        proxy.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    for r in results:
        r.judge()

    print_table(results, args.scale)
    mach = machine()
    print(
        f"commit {version.get('commit', '')[:10]}{' (dirty)' if version.get('dirty') else ''}, "
        f"{mach['cpus']} × {mach['cpu_model']}, Python {mach['python']}, {mach['os']}"
    )
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": " ".join(["python -m benchmarks.run", *(argv if argv is not None else sys.argv[1:])]),
        "scale": args.scale,
        "agents": counts,
        "commit": version.get("commit"),
        "dirty": version.get("dirty"),
        "machine": machine(),
        "source": version,
        "proxy_config": proxy.config.to_json(),
        "total_seconds": round(time.monotonic() - started, 1),
        "naive_method": "sum of the modeled latency of every call the tool made, plus every IAM "
        "propagation / Pending / InProgress / CREATING window those calls started, in full",
        "scenarios": [r.to_json() for r in results],
    }
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    log(f"wrote {args.output} ({report['total_seconds']} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
