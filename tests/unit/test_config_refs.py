"""References in agents' `environment` values: grammar, validation (file:line:col and a fix), and
resolution for one environment (plain text where known, Ref/Join where known only after apply)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from strands_deploy.config.loader import (
    Reference,
    ReferenceSyntaxError,
    load_project,
    parse_references,
)
from strands_deploy.errors import ConfigError, StrandsDeployError
from strands_deploy.synth import synthesize
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Join, Ref, resolve
from strands_deploy.synth.refs import resolve_deployed, resolve_environment
from strands_deploy.synth.resources import synth_resource
from tests.helpers import write_project

ACCOUNT = "111122223333"
AGENT = "agent = object()\n"

PROJECT = """\
project: acme
region: us-east-1
agents:
  support:
    path: agents/support
    environment:
      TABLE: "${resource.promos.name}"
      HELPER: "${agent.helper.url}"
      STAGE: "${env}"
      AT: "${region}/${account}"
      PLAIN: "$${not-a-ref}"
  helper:
    path: agents/helper
    expose: url
    auth: iam
  api:
    path: agents/api
    expose: http
    auth: iam
  quiet:
    path: agents/quiet
resources:
  promos: {type: table, key: id}
  docs: {type: bucket}
  jobs: {type: queue}
  news: {type: topic}
  token: {type: secret, from_env: TOKEN}
  flag: {type: parameter, from_env: FLAG}
environments:
  dev: {}
  eu: {region: eu-west-1}
"""


def project_root(tmp_path: Path, text: str = PROJECT) -> Path:
    return write_project(
        tmp_path / "p",
        text,
        agents={"support": AGENT, "helper": AGENT, "api": AGENT, "quiet": AGENT},
        requirements="",
    )


def context(root: Path, env: str = "dev") -> SynthContext:
    """A synthesis context with the project's resources in its graph (as synthesize builds them
    before any agent)."""
    project = load_project(root).for_environment(env)
    ctx = SynthContext(
        project=project,
        env=env,
        target="aws",
        account=ACCOUNT,
        secret_value=lambda source: "value",
        fingerprint_key=b"k" * 32,
    )
    for name, res in project.config.resources.items():
        synth_resource(ctx, name, res)
    return ctx


def resolved(tmp_path: Path, values: dict[str, str], env: str = "dev") -> dict[str, Any]:
    ctx = context(project_root(tmp_path), env)
    return resolve_environment(ctx, "support", values)


def problems(root: Path) -> list[StrandsDeployError]:
    with pytest.raises(ConfigError) as info:
        load_project(root)
    return info.value.problems


def line_col(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of ``needle`` in ``text`` (each test's YAML has it once)."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def at(root: Path, text: str, needle: str) -> str:
    line, col = line_col(text, needle)
    return f"{root / 'strands.yaml'}:{line}:{col}"


def with_env(name: str, value: str) -> str:
    """PROJECT with one more `environment` variable on agent support."""
    return PROJECT.replace(
        '      PLAIN: "$${not-a-ref}"\n', f'      PLAIN: "$${{not-a-ref}}"\n      {name}: "{value}"\n'
    )


# --- grammar --------------------------------------------------------------------------------------


def test_parse_text_references_and_escapes() -> None:
    assert parse_references("plain") == ["plain"]
    assert parse_references("") == []
    assert parse_references("$${not-a-ref}") == ["${not-a-ref}"]
    assert parse_references("cost $5, $$HOME") == ["cost $5, $HOME"]
    assert parse_references("${region}/${account}") == [Reference("region"), "/", Reference("account")]
    assert parse_references("https://${ agent.helper.url }/x") == [
        "https://",
        Reference("agent", "helper", "url"),
        "/x",
    ]
    assert parse_references("$$${env}") == ["$", Reference("env")]
    assert str(Reference("resource", "promos", "name")) == "${resource.promos.name}"


@pytest.mark.parametrize(
    ("value", "what", "fix"),
    [
        ("${env", "unterminated reference '${env'", "close it with `}`, or write $${ for a literal ${"),
        ("${}", "empty reference ${}", "use ${env}, ${region}"),
        ("${stage}", "unknown reference ${stage}", "use ${env}, ${region}, ${account}, ${project}"),
        ("${resources.promos.name}", "unknown reference", "did you mean ${resource.promos.name}?"),
        ("${env.name}", "${env.name} takes no attribute", "write ${env}"),
        ("${ENV}", "unknown reference ${ENV}", "did you mean ${env}?"),
        ("${resource.promos}", "is not a reference to a resource", "write ${resource.NAME.ATTR}"),
        ("${agent.helper.url.x}", "is not a reference to an agent", "ATTR: url, function_name"),
    ],
)
def test_parse_errors(value: str, what: str, fix: str) -> None:
    with pytest.raises(ReferenceSyntaxError) as info:
        parse_references(value)
    assert what in info.value.what
    assert fix in info.value.fix


# --- resolution -----------------------------------------------------------------------------------


def test_context_references_are_plain_text(tmp_path: Path) -> None:
    env = resolved(
        tmp_path,
        {"STAGE": "${env}", "AT": "${region}/${account}", "P": "${project}-${env}", "PLAIN": "$${x}"},
    )
    assert env == {"STAGE": "dev", "AT": f"us-east-1/{ACCOUNT}", "P": "acme-dev", "PLAIN": "${x}"}
    assert resolved(tmp_path / "eu", {"AT": "${region}"}, env="eu") == {"AT": "eu-west-1"}


def test_resource_references_known_from_the_configuration(tmp_path: Path) -> None:
    env = resolved(
        tmp_path,
        {
            "TABLE": "${resource.promos.name}",
            "TABLE_ARN": "${resource.promos.arn}",
            "BUCKET": "${resource.docs.name}",
            "BUCKET_ARN": "${resource.docs.arn}",
            "QUEUE": "${resource.jobs.name}",
            "QUEUE_ARN": "${resource.jobs.arn}",
            "TOPIC": "${resource.news.name}",
            "TOPIC_ARN": "${resource.news.arn}",
            "SECRET": "${resource.token.name}",
            "PARAM": "${resource.flag.name}",
            "PARAM_ARN": "${resource.flag.arn}",
        },
    )
    assert env == {
        "TABLE": "acme-dev-promos",
        "TABLE_ARN": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/acme-dev-promos",
        "BUCKET": f"acme-dev-docs-{ACCOUNT}",
        "BUCKET_ARN": f"arn:aws:s3:::acme-dev-docs-{ACCOUNT}",
        "QUEUE": "acme-dev-jobs",
        "QUEUE_ARN": f"arn:aws:sqs:us-east-1:{ACCOUNT}:acme-dev-jobs",
        "TOPIC": "acme-dev-news",
        "TOPIC_ARN": f"arn:aws:sns:us-east-1:{ACCOUNT}:acme-dev-news",
        "SECRET": "acme/dev/token",
        "PARAM": "/acme/dev/flag",
        "PARAM_ARN": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/acme/dev/flag",
    }


def test_resource_references_known_after_apply_are_refs(tmp_path: Path) -> None:
    env = resolved(
        tmp_path,
        {
            "URL": "${resource.jobs.url}",
            "SECRET_ARN": "${resource.token.arn}",
            "X": "q=${resource.jobs.url}&",
        },
    )
    assert env["URL"] == Ref("resource.jobs.queue", "url")
    assert env["SECRET_ARN"] == Ref("resource.token.secret", "arn")
    assert env["X"] == Join(("q=", Ref("resource.jobs.queue", "url"), "&"))


def test_agent_references(tmp_path: Path) -> None:
    env = resolved(
        tmp_path,
        {
            "HELPER": "${agent.helper.url}",
            "API": "${agent.api.url}",
            "CHAT": "${agent.api.url}/chat?stage=${env}",
            "FN": "${agent.helper.function_name}",
            "FN_ARN": "${agent.helper.function_arn}",
            "ALIAS": "${agent.quiet.alias_arn}",
            "SELF": "${agent.support.function_name}",
        },
    )
    assert env["HELPER"] == Ref("agent.helper.url", "url")  # the Function URL
    assert env["API"] == Ref("agent.api.route", "url")  # the HTTP API route's URL
    assert env["CHAT"] == Join((Ref("agent.api.route", "url"), "/chat?stage=dev"))
    assert env["FN"] == "acme-dev-helper"
    assert env["FN_ARN"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:acme-dev-helper"
    assert env["ALIAS"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:acme-dev-quiet:live"
    assert env["SELF"] == "acme-dev-support"
    # a Join resolves to the text once its refs are known
    urls = {("agent.api.route", "url"): "https://abc.example/agents/api"}
    assert (
        resolve(env["CHAT"], lambda r: urls[(r.address, r.attr)])
        == "https://abc.example/agents/api/chat?stage=dev"
    )


def test_invalid_reference_at_synthesis_is_an_error_not_text(tmp_path: Path) -> None:
    ctx = context(project_root(tmp_path))
    for value in ("${resource.nope.name}", "${agent.quiet.url}", "${agent.support.url}", "${nope}"):
        with pytest.raises(StrandsDeployError) as info:
            resolve_environment(ctx, "support", {"X": value})
        assert "environment variable X" in info.value.what


def test_synthesized_function_gets_resolved_values_and_waits_for_the_url(tmp_path: Path) -> None:
    project = load_project(project_root(tmp_path))
    graph = synthesize(
        project,
        "dev",
        target="aws",
        account=ACCOUNT,
        secret_value=lambda source: "v",
        fingerprint_key=b"k" * 32,
    )
    fn = graph.resources["agent.support.function"]
    env = fn.props["environment"]
    assert env["TABLE"] == "acme-dev-promos"
    assert env["HELPER"] == Ref("agent.helper.url", "url")
    assert env["STAGE"] == "dev"
    assert env["AT"] == f"us-east-1/{ACCOUNT}"
    assert env["PLAIN"] == "${not-a-ref}"
    assert "agent.helper.url" in fn.dependencies()
    # a name known from the configuration adds no dependency (the function need not wait)
    assert "resource.promos.table" not in fn.dependencies()
    order = graph.topological_order()
    assert order.index("agent.helper.url") < order.index("agent.support.function")


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "what", "fix"),
    [
        (
            "${resource.promo.name}",
            "agent 'support': environment variable BAD: ${resource.promo.name} refers to unknown resource 'promo'",
            "did you mean 'promos'?",
        ),
        (
            "${resource.jobs.uri}",
            "agent 'support': environment variable BAD: ${resource.jobs.uri}: a queue has no attribute 'uri'",
            "did you mean 'url'? (one of: name, url, arn)",
        ),
        (
            "${resource.promos.url}",
            "${resource.promos.url}: a table has no attribute 'url'",
            "use one of: name, arn",
        ),
        ("${agent.helpr.url}", "refers to unknown agent 'helpr'", "did you mean 'helper'?"),
        (
            "${agent.helper.arn}",
            "${agent.helper.arn}: an agent has no attribute 'arn'",
            "one of: url, function_name, function_arn, alias_arn",
        ),
        (
            "${agent.quiet.url}",
            "${agent.quiet.url}: agent 'quiet' has no endpoint (expose: none), so no URL",
            "set `expose: url` or `expose: http` on agent 'quiet'",
        ),
        (
            "${agent.support.url}",
            "${agent.support.url} is the agent's own URL: a cycle",
            "${agent.support.alias_arn}",
        ),
        ("${agnt.helper.url}", "unknown reference ${agnt.helper.url}", "did you mean ${agent.helper.url}?"),
        ("x-${env", "unterminated reference '${env'", "close it with `}`"),
    ],
)
def test_each_invalid_reference_reported_at_its_value(
    tmp_path: Path, value: str, what: str, fix: str
) -> None:
    text = with_env("BAD", value)
    root = project_root(tmp_path, text)
    [p] = problems(root)
    assert what in p.what
    assert p.fix is not None and fix in p.fix
    assert p.where == at(root, text, f'"{value}"')


def test_every_reference_problem_reported_at_once(tmp_path: Path) -> None:
    text = with_env("A", "${resource.nope.name}").replace(
        '      STAGE: "${env}"\n', '      STAGE: "${stage}"\n      B: "${agent.quiet.url}"\n'
    )
    found = problems(project_root(tmp_path, text))
    assert len(found) == 3
    assert all(p.where and p.where.count(":") >= 2 for p in found)


def test_url_cycle_between_agents(tmp_path: Path) -> None:
    text = PROJECT.replace(
        "    expose: url\n    auth: iam\n",
        '    expose: url\n    auth: iam\n    environment: {BACK: "${agent.support.url}"}\n',
    ).replace(
        "  support:\n    path: agents/support\n", "  support:\n    path: agents/support\n    expose: url\n"
    )
    root = project_root(tmp_path, text)
    [p] = problems(root)
    assert "agents 'helper', 'support' refer to each other's url" in p.what
    assert p.fix is not None and "alias_arn" in p.fix
    assert p.where == at(root, text, '"${agent.support.url}"')


def test_references_by_function_are_no_cycle(tmp_path: Path) -> None:
    """Two agents may call each other by function name or ARN: those are known before deploying."""
    text = PROJECT.replace(
        "    expose: url\n    auth: iam\n",
        '    expose: url\n    auth: iam\n    environment: {BACK: "${agent.support.alias_arn}"}\n',
    )
    project = load_project(project_root(tmp_path, text))
    graph = synthesize(
        project, "dev", target="aws", account=ACCOUNT, secret_value=lambda s: "v", fingerprint_key=b"k" * 32
    )
    back = graph.resources["agent.helper.function"].props["environment"]["BACK"]
    assert back == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:acme-dev-support:live"


def test_reference_in_a_discovered_agent_is_reported_in_its_file(tmp_path: Path) -> None:
    root = project_root(tmp_path)
    folder = root / "agents" / "extra"
    folder.mkdir()
    (folder / "agent.py").write_text(AGENT)
    (folder / "requirements.txt").write_text("")
    (folder / "strands.agent.yaml").write_text(
        textwrap.dedent(
            """\
            description: discovered
            environment:
              OK: "${resource.promos.arn}"
              BAD: "${resource.promoz.arn}"
            """
        )
    )
    [p] = problems(root)
    assert "agent 'extra'" in p.what and "unknown resource 'promoz'" in p.what
    assert p.where == f"{folder / 'strands.agent.yaml'}:4:8"


def test_plain_values_and_escapes_are_valid(tmp_path: Path) -> None:
    text = with_env("PRICE", "costs $5, $$HOME and $${literal}")
    project = load_project(project_root(tmp_path, text))
    assert project.agents["support"].environment["PRICE"] == "costs $5, $$HOME and $${literal}"
    env = resolve_environment(
        context(tmp_path / "p"), "support", {"PRICE": "costs $5, $$HOME and $${literal}"}
    )
    assert env == {"PRICE": "costs $5, $HOME and ${literal}"}


def test_resolve_deployed_for_running_outside_lambda(tmp_path: Path) -> None:
    project = load_project(project_root(tmp_path))
    ctx = SynthContext(
        project=project,
        env="dev",
        target="aws",
        account=ACCOUNT,
        secret_value=lambda s: "",
        fingerprint_key=b"",
    )
    outputs = {
        "resource.promos.table": {"name": "acme-dev-promos", "arn": "arn:table"},
        "agent.helper.url": {"url": "https://helper.example/"},
    }
    values = {
        "TABLE": "${resource.promos.name}",
        "HELPER": "${agent.helper.url}?x=${env}",
        "QUEUE": "${resource.jobs.url}",  # not deployed: left out
        "FN": "${agent.quiet.function_name}",
        "PLAIN": "$${x}",
    }
    assert resolve_deployed(ctx, "support", values, outputs) == {
        "TABLE": "acme-dev-promos",
        "HELPER": "https://helper.example/?x=dev",
        "FN": "acme-dev-quiet",
        "PLAIN": "${x}",
    }
