"""Code and dependency scanning before deploy: Bandit over each agent's code (in-process), a
CycloneDX SBOM of its packaged dependencies, and known vulnerabilities when a vulnerability
database is configured and reachable (``STRANDS_DEPLOY_VULN_DB``: an OSV-compatible
``/v1/querybatch`` URL); otherwise that check is skipped with a notice."""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strands_deploy.config.loader import Project

VULN_DB_ENV = "STRANDS_DEPLOY_VULN_DB"
PIN_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([A-Za-z0-9.+!_-]+)")
NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class CodeIssue:
    test_id: str  # B602...
    severity: str  # LOW | MEDIUM | HIGH
    confidence: str
    text: str
    file: str  # relative to the agent folder
    line: int


def bandit_issues(folder: Path) -> list[CodeIssue]:
    """Bandit's findings over the agent's Python files (its default profile), in-process."""
    from strands_deploy.policy.packs._util import python_files

    files = [str(p) for p in python_files(folder)]
    if not files:
        return []
    with warnings.catch_warnings():  # bandit's plugin loading warns about its own arguments
        warnings.simplefilter("ignore")
        from bandit.core import config as b_config
        from bandit.core import manager as b_manager

        mgr = b_manager.BanditManager(b_config.BanditConfig(), "file", quiet=True)
        mgr.discover_files(files, recursive=False)
        mgr.run_tests()
    out = []
    for issue in mgr.get_issue_list():
        rel = Path(issue.fname).resolve().relative_to(folder.resolve()).as_posix()
        out.append(
            CodeIssue(
                issue.test_id, str(issue.severity), str(issue.confidence), issue.text, rel, int(issue.lineno)
            )
        )
    return out


def components(project: Project, agent: str) -> list[tuple[str, str | None]]:
    """(name, pinned version or None) of the distributions the agent's requirements install."""
    from strands_deploy.packaging.requirements import resolve_requirements

    cfg = project.agents[agent]
    reqs = resolve_requirements(project.root / cfg.path, cfg.requirements)
    out: dict[str, str | None] = {}
    for line in reqs.requirements:
        pinned = PIN_RE.match(line)
        named = NAME_RE.match(line)
        if pinned:
            out[pinned.group(1).lower()] = pinned.group(2)
        elif named:
            out.setdefault(named.group(1).lower(), None)
    return sorted(out.items())


def sbom(project: Project, agent: str) -> str:
    """The agent's software bill of materials, CycloneDX 1.5 JSON."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot5
    from packageurl import PackageURL

    bom = Bom()
    bom.metadata.component = Component(name=f"{project.name}/{agent}", type=ComponentType.APPLICATION)
    for name, version in components(project, agent):
        bom.components.add(
            Component(
                name=name,
                version=version,
                type=ComponentType.LIBRARY,
                purl=PackageURL(type="pypi", name=name, version=version),
                bom_ref=f"pypi/{name}@{version or 'unpinned'}",
            )
        )
    return str(JsonV1Dot5(bom).output_as_string(indent=2))


def vulnerabilities(
    packages: list[tuple[str, str | None]], db_url: str | None, timeout: float = 10.0
) -> tuple[list[dict[str, Any]], str | None]:
    """(known vulnerabilities of the pinned packages, a notice when the check was skipped)."""
    if not db_url:
        return [], f"known-vulnerability check skipped offline (no database configured: set {VULN_DB_ENV})"
    import urllib.error
    import urllib.request

    pinned = [(n, v) for n, v in packages if v]
    body = {"queries": [{"package": {"name": n, "ecosystem": "PyPI"}, "version": v} for n, v in pinned]}
    request = urllib.request.Request(
        db_url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 (configured URL)
            results = json.loads(resp.read()).get("results", [])
    except (urllib.error.URLError, OSError, ValueError) as e:
        return [], f"known-vulnerability check skipped: the database is not reachable ({e})"
    found = []
    for (name, version), result in zip(pinned, results, strict=False):
        for vuln in (result or {}).get("vulns", []):
            found.append({"package": name, "version": version, "id": vuln.get("id")})
    return found, None


def scan_notices(project: Project, agents: list[str] | None = None) -> list[str]:
    """Notices of the scans that could not run (offline vulnerability check)."""
    if not project.agents:
        return []
    _, notice = vulnerabilities([], os.environ.get(VULN_DB_ENV))
    return [notice] if notice else []
