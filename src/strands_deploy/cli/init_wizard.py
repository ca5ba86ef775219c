"""`init --interactive`: a few questions, then the template's files adjusted to the answers.

The answers are applied as small text edits of the template (comments and layout are kept): the
region, the single agent's name (folder, strands.yaml and its tests), its model and exposure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import click

EXPOSURES = {
    "none": "no endpoint: invoked with the AWS SDK, `invoke`, or a trigger",
    "iam": "an HTTPS URL that takes signed (IAM) requests only",
    "public": "an HTTPS URL anyone can call (auth: none)",
}
SINGLE_AGENT = {"basic": "assistant", "tools": "assistant"}  # templates whose one agent can be renamed
AGENT_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$|^[a-z]$")


@dataclass(frozen=True)
class Answers:
    project: str
    region: str
    template: str
    agent: str
    model: str | None
    exposure: str


def ask(default_project: str, template: str) -> Answers:
    """Ask on the terminal (or read answers, one per line, from standard input)."""
    from strands_deploy.cli.init_cmd import TEMPLATES, check_name
    from strands_deploy.errors import StrandsDeployError

    def valid_project(value: str) -> str:
        try:
            return check_name(value)
        except StrandsDeployError as e:
            raise click.BadParameter(e.what) from None

    project = click.prompt("Project name", default=default_project, value_proc=valid_project)
    region = click.prompt("AWS region", default="us-east-1", value_proc=_region)
    for key, text in TEMPLATES.items():
        click.echo(f"  {key}: {text}", err=True)
    template = click.prompt("Template", default=template, type=click.Choice(list(TEMPLATES)))
    agent = SINGLE_AGENT.get(template, "")
    if agent:
        agent = click.prompt("First agent's name", default=agent, value_proc=_agent_name)
    model = click.prompt(
        "Bedrock model id (empty: the Strands default)", default="", show_default=False, value_proc=_model
    )
    for key, text in EXPOSURES.items():
        click.echo(f"  {key}: {text}", err=True)
    exposure = click.prompt(
        "Exposure",
        default="none",
        type=click.Choice(list(EXPOSURES)),
    )
    return Answers(project, region, template, agent, model or None, exposure)


def _region(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", value.strip()):
        raise click.BadParameter(f"{value!r} is not an AWS region (e.g. us-east-1, eu-west-1)")
    return value.strip()


def _agent_name(value: str) -> str:
    if not AGENT_NAME_RE.match(value.strip()):
        raise click.BadParameter("1-40 lowercase letters, digits and '-', starting with a letter")
    return value.strip()


def _model(value: str) -> str:
    from strands_deploy.config.schema import MODEL_ID_RE

    value = value.strip()
    if value and not MODEL_ID_RE.match(value):
        raise click.BadParameter(f"{value!r} is not a Bedrock model id (no wildcards)")
    return value


def apply(planned: dict[str, str], answers: Answers) -> dict[str, str]:
    """The template's files (relative path -> text) with the answers applied."""
    out: dict[str, str] = {}
    old = SINGLE_AGENT.get(answers.template)
    for rel, text in planned.items():
        if old and answers.agent != old:
            rel = rel.replace(f"agents/{old}/", f"agents/{answers.agent}/")
            if rel.startswith("tests/"):
                text = text.replace(f'load("{old}")', f'load("{answers.agent}")')
        if rel == "strands.yaml":
            text = _edit_config(text, answers, old)
        elif rel == "local.yaml" and old and answers.agent != old:
            text = text.replace(f"invoke {old} ", f"invoke {answers.agent} ")
        out[rel] = text
    return out


def _edit_config(text: str, answers: Answers, old: str | None) -> str:
    text = re.sub(r"(?m)^region: .*$", f"region: {answers.region}", text, count=1)
    agent = old or ""
    if old and answers.agent != old:
        text = text.replace(
            f"\n  {old}:\n    path: agents/{old}\n",
            f"\n  {answers.agent}:\n    path: agents/{answers.agent}\n",
        )
        text = text.replace(f"invoke {old} ", f"invoke {answers.agent} ")
        agent = answers.agent
    if not agent:
        return text
    settings = []
    if answers.model:
        settings.append(f"    model: {answers.model}")
    if answers.exposure != "none":
        settings.append("    expose: url")
        settings.append("    auth: iam" if answers.exposure == "iam" else "    auth: none")
    return _set_agent_settings(text, agent, settings, drop=("model", "expose", "auth"))


def _set_agent_settings(text: str, agent: str, settings: list[str], drop: tuple[str, ...]) -> str:
    """Replace the ``drop`` keys of agent ``agent``'s block by ``settings`` (after its path)."""
    lines = text.split("\n")
    out: list[str] = []
    inside = False
    for line in lines:
        if line == f"  {agent}:":
            inside = True
            out.append(line)
            continue
        if inside and line.strip() and not line.startswith("    "):
            inside = False
        if inside and re.match(r"^    (?:#\s*)?(" + "|".join(drop) + r"):", line):
            continue
        out.append(line)
        if inside and line.startswith("    path: "):
            out.extend(settings)
    return "\n".join(out)
