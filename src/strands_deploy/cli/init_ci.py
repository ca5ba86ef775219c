"""`init --ci github|gitlab`: write a pipeline from the package's templates (``ci/``).

The pipelines run ``validate``, ``check`` and ``plan --format markdown`` (posted on the pull or
merge request, the plan kept as an artifact) on review, and ``deploy --plan`` of that reviewed
plan on the main branch, with OIDC role assumption (``bootstrap ci-role``) and no stored keys.
"""

from __future__ import annotations

import sys
from importlib.resources import files

from strands_deploy import __version__

# provider -> (template in the package's ci/ folder, where it is written in the project)
PIPELINES = {
    "github": ("github/strands-deploy.yml", ".github/workflows/strands-deploy.yml"),
    "gitlab": ("gitlab/gitlab-ci.yml", ".gitlab-ci.yml"),
}


def pipeline_text(provider: str, *, env: str, region: str, branch: str = "main") -> str:
    """The pipeline for ``provider`` with the environment, region, branch and versions filled in."""
    template, _ = PIPELINES[provider]
    text = (files("strands_deploy") / "ci" / template).read_text(encoding="utf-8")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    for key, value in {
        "env": env,
        "region": region,
        "branch": branch,
        "version": __version__,
        "python": python,
    }.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def pipeline_path(provider: str) -> str:
    return PIPELINES[provider][1]
