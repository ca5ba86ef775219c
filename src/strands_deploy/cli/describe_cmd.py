from __future__ import annotations

import click

from strands_deploy.cli.common import (
    address_argument,
    env_option,
    json_option,
    print_json,
    print_notes,
    project_dir,
)


@click.command("describe")
@address_argument
@env_option
@json_option("Print JSON (the record is always JSON; accepted for scripts that pass it everywhere).")
@click.pass_context
def command(ctx: click.Context, address: str, env_name: str, as_json: bool) -> None:
    """Show one resource's record (as JSON): type, physical id, inputs, outputs, dependencies."""
    from strands_deploy.config.loader import _suggest
    from strands_deploy.errors import StrandsDeployError
    from strands_deploy.services import open_services

    services = open_services(project_dir(ctx), env_name, start_local=False)
    state = services.read_state()
    note = services.local_cloud_gone(state)
    if note:
        print_notes([note])
    record = state.resources.get(address)
    if record is None:
        raise StrandsDeployError(
            f"no resource {address!r} in the state of environment {env_name!r}",
            address,
            _suggest(address, set(state.resources), "run `strands-deploy list` to see addresses"),
        )
    print_json({"address": address, **record.to_dict()})
