"""Scenario S9 (issue 15): a peer in the same run.

AWS Chalice (``chalice deploy``, which makes its boto3 calls directly, without CloudFormation)
deploys N plain functions through the same latency proxy and the same moto server as
strands-deploy deploys N plain agents; both do a first deploy and then a no-change redeploy, and
the ratio of their wall times is printed (goal: strands-deploy ≥ 3× faster on the first deploy at
20, ≥ 20× on the no-change redeploy).

Like for like, as far as the two tools allow:

- Chalice: one ``@app.lambda_function`` per function, its default per-function IAM role with a
  fixed policy file (no policy generation), no API Gateway, empty requirements.txt.
- strands-deploy: one agent per function with its own role (the default), no URL, no sessions,
  no alarms, empty requirements.txt: role, policy, log group, function, version and ``live`` alias.

Chalice is pointed at the proxy with ``AWS_ENDPOINT_URL`` (botocore honours it for every client),
with the same dummy credentials.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks import floor as floors
from benchmarks.scenarios import AGENT_PY, REGION, Bench, Result, Run, tool_env

CHALICE = Path(sys.executable).with_name("chalice")
FIRST_RATIO = 3.0
REDEPLOY_RATIO = 20.0

_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:*:logs:*:*:*",
        }
    ],
}


def write_chalice_project(root: Path, functions: int, app_name: str = "chalicepeer") -> Path:
    """A Chalice project of ``functions`` plain Lambda functions (``@app.lambda_function``)."""
    (root / ".chalice").mkdir(parents=True, exist_ok=True)
    lines = ["from chalice import Chalice", "", f"app = Chalice(app_name={app_name!r})", ""]
    for i in range(functions):
        lines += [
            f"@app.lambda_function(name='f{i}')",
            f"def f{i}(event, context):",
            f"    return {{'function': 'f{i}'}}",
            "",
        ]
    (root / "app.py").write_text("\n".join(lines))
    (root / "requirements.txt").write_text("")
    config = {
        "version": "2.0",
        "app_name": app_name,
        "stages": {"dev": {"autogen_policy": False, "iam_policy_file": "policy-dev.json"}},
    }
    (root / ".chalice" / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (root / ".chalice" / "policy-dev.json").write_text(json.dumps(_POLICY, indent=2) + "\n")
    return root


def write_plain_project(root: Path, name: str, agents: int, endpoint: str) -> Path:
    """A strands-deploy project of ``agents`` plain agents: no URL, no sessions, no alarms."""
    root.mkdir(parents=True, exist_ok=True)
    lines = [f"project: {name}", f"region: {REGION}", "defaults: {alarms: false}", "agents:"]
    for i in range(agents):
        lines.append(f"  a{i}: {{path: agents/a{i}}}")
        folder = root / "agents" / f"a{i}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "agent.py").write_text(AGENT_PY.format(name=f"a{i}"))
        (folder / "requirements.txt").write_text("")
    lines += ["environments:", "  local: {}", f'  bench: {{endpoint: "{endpoint}"}}']
    (root / "strands.yaml").write_text("\n".join(lines) + "\n")
    return root


def chalice_env(endpoint: str) -> dict[str, str]:
    env = tool_env()
    env["AWS_ENDPOINT_URL"] = endpoint
    return env


def peer(bench: Bench, functions: int = 20) -> list[Result]:
    """S9: first deploy and no-change redeploy, strands-deploy then Chalice, ratios in the notes."""
    out: list[Result] = []
    ours_root = write_plain_project(bench.workdir / "peer-ours", "peer", functions, bench.proxy.endpoint)
    theirs_root = write_chalice_project(bench.workdir / "peer-chalice", functions)
    deploy = ["-C", str(ours_root), "deploy", "--env", "bench", "--json"]
    chalice = [str(CHALICE), "--project-dir", str(theirs_root), "deploy", "--stage", "dev"]
    for kind, ratio_goal in (("first", FIRST_RATIO), ("redeploy", REDEPLOY_RATIO)):
        label = "first deploy" if kind == "first" else "no-change redeploy"
        ours = Result(
            f"S9 {kind} n={functions}",
            f"strands-deploy, {functions} plain agents, {label}",
            target=f"≥ {ratio_goal:g}× faster than Chalice",
        )
        theirs = Result(f"S9 {kind} chalice", f"AWS Chalice, {functions} functions, {label}", target="info")
        if kind == "first":
            bench.fresh_cloud()  # one cloud for both tools: their names do not collide
        bench.measure(ours, deploy)
        bench.set_floor(
            ours,
            floors.plain_first_deploy(functions, scale=bench.scale)
            if kind == "first"
            else floors.no_change(scale=bench.scale),
        )
        run = bench.measure_process(theirs, chalice, chalice_env(bench.proxy.endpoint))
        if kind == "first" and bench.timeline_path is not None:
            _draw(bench, bench.timeline_path.with_name("peer-timeline.svg"), f"AWS Chalice, {label}")
        if run.returncode != 0:
            theirs.status = "failed"
            theirs.notes.append(_chalice_failure(run))
        judge_pair(ours, theirs, ratio_goal)
        out += [ours, theirs]
        if "failed" in (ours.status, theirs.status):
            break
    return out


def judge_pair(ours: Result, theirs: Result, goal: float) -> None:
    """Record the ratio of Chalice's wall time to ours and check it against ``goal``."""
    if ours.wall and theirs.wall and theirs.status != "failed":
        ratio = theirs.wall / ours.wall
        ours.extra["chalice_seconds"] = round(theirs.wall, 3)
        ours.extra["speedup_over_chalice"] = round(ratio, 2)
        ours.notes.insert(0, f"Chalice {theirs.wall:.2f} s / strands-deploy {ours.wall:.2f} s = {ratio:.1f}×")
        ours.checks[f"≥ {goal:g}× faster than Chalice"] = ratio >= goal
    else:
        ours.checks["Chalice ran"] = False
    theirs.checks = {}


def _draw(bench: Bench, path: Path, title: str) -> None:
    from benchmarks.timeline import write_svg

    calls = bench.proxy.calls()
    if calls:
        write_svg(calls, path, title=f"{title} (scale {bench.scale:g}): AWS calls over time")


def _chalice_failure(run: Run) -> str:
    lines = [ln for ln in (run.stderr + run.stdout).strip().splitlines() if ln.strip()]
    return "chalice: " + " / ".join(lines[-4:])[-600:]
