"""`strands-deploy output NAME [--raw]`: one output, for scripts.

``curl "$(strands-deploy output agent.support.url --raw)"``. The names are those `outputs` shows,
joined with a dot: ``agent.<name>.url``, ``agent.<name>.function``, ``resource.<name>.arn``...
"""

from __future__ import annotations

from typing import Any

import click

from strands_deploy.cli.common import completer, env_option, json_option, print_json, print_notes, project_dir


def flatten_outputs(state: Any) -> dict[str, Any]:
    """``{"agent.support.url": "https://..."}`` from the state (the table `outputs` prints)."""
    from strands_deploy.cli.outputs_cmd import collect

    return {
        f"{owner}.{key}": value for owner, values in collect(state).items() for key, value in values.items()
    }


def unknown_output(name: str, known: dict[str, Any], env_name: str) -> Exception:
    import difflib

    from strands_deploy.errors import StrandsDeployError

    if not known:
        return StrandsDeployError(
            f"no output {name!r}: nothing is deployed in environment {env_name!r}",
            fix=f"deploy first: strands-deploy deploy --env {env_name}",
        )
    close = difflib.get_close_matches(name, list(known), n=1)
    listing = ", ".join(sorted(known))
    hint = f"did you mean {close[0]}? " if close else ""
    return StrandsDeployError(
        f"no output {name!r} in environment {env_name!r}", name, f"{hint}known outputs: {listing}"
    )


@click.command("output")
@click.argument("name", shell_complete=completer("outputs"))
@env_option
@click.option("--raw", is_flag=True, help="Print the bare value, unquoted: for $(...).")
@json_option('Print {"name": ..., "value": ...}.')
@click.pass_context
def command(ctx: click.Context, name: str, env_name: str, raw: bool, as_json: bool) -> None:
    """Print one output NAME (e.g. agent.support.url; see `strands-deploy outputs`)."""
    from strands_deploy.services import open_services

    services = open_services(project_dir(ctx), env_name, start_local=False)
    state = services.read_state()
    note = services.local_cloud_gone(state)
    if note:
        print_notes([note])
    known = flatten_outputs(state)
    if name not in known:
        raise unknown_output(name, known, env_name)
    value = known[name]
    if as_json:
        print_json({"name": name, "value": value})
    elif raw or not isinstance(value, str):
        click.echo(str(value))
    else:  # as Terraform does: quoted, so an empty or space-padded value is visible
        import json

        click.echo(json.dumps(value))
