"""Scenario S8 (issue 15): 1,000 agents.

- ``plan --refresh=false`` on a state of 1,000 agents built from the state model (fake outputs,
  no AWS call): ≤ 2 s and ≤ 200 MB peak RSS;
- the first deploy of 1,000 agents with the latency model at ``--scale 0.2`` (every latency and
  wait × 0.2, every rate limit × 5: the proxy is reconfigured for this run only), within 1.2× its
  floor. At scale 1 the floor alone would be ~1,000 s (3,000 alarms at 3 PutMetricAlarm a second).
"""

from __future__ import annotations

from benchmarks import floor as floors
from benchmarks.scenarios import THROTTLE_WORDS, Bench, Result, set_quota_multiplier, write_project

PLAN_SECONDS = 2.0
PLAN_RSS_MB = 200.0
DEPLOY_SCALE = 0.2
DEPLOY_RATIO = 1.2


def thousand_agents(bench: Bench, *, plan_agents: int = 1000, deploy_agents: int = 1000) -> list[Result]:
    plan = bench.plan_fake_state(
        f"S8 plan n={plan_agents}", plan_agents, seconds=PLAN_SECONDS, state_mb=None, rss_mb=PLAN_RSS_MB
    )
    return [plan, first_deploy_at_scale(bench, deploy_agents, DEPLOY_SCALE)]


def first_deploy_at_scale(bench: Bench, agents: int, scale: float) -> Result:
    """First deploy of ``agents`` agents with the proxy at ``scale``; the proxy (and the bench)
    go back to their own scale afterwards."""
    before = bench.proxy.config.scale
    bench.proxy.configure(scale=scale)
    bench.scale = scale
    set_quota_multiplier(1.0 / scale)
    try:
        bench.fresh_cloud()
        root = write_project(bench.workdir / f"s8-{agents}", f"s8n{agents}", agents, bench.proxy.endpoint)
        res = Result(
            f"S8 deploy n={agents}",
            f"{agents} agents, first deploy, latency model at scale {scale:g}",
            target=f"≤ {DEPLOY_RATIO:g}× floor (scale {scale:g})",
        )
        bench.measure(res, ["-C", str(root), "deploy", "--env", "bench", "--json"])
        bench.set_floor(res, floors.first_deploy(agents, scale=scale))
        res.extra["scale"] = scale
        res.checks[f"within {DEPLOY_RATIO:g}× floor"] = res.ratio is not None and res.ratio <= DEPLOY_RATIO
        res.checks["no throttling error surfaced"] = not any(
            w.lower() in note.lower() for note in res.notes for w in THROTTLE_WORDS
        )
        res.checks["deploy succeeded"] = res.status != "failed"
        return res
    finally:
        bench.proxy.configure(scale=before)
        bench.scale = before
        set_quota_multiplier(1.0 / before)
