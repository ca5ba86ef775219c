from __future__ import annotations

import click

from strands_deploy.cli.common import console, env_option, print_json, project_dir


@click.group("state")
def command() -> None:
    """Inspect and repair the state."""


@command.command("show")
@env_option
@click.pass_context
def show(ctx: click.Context, env_name: str) -> None:
    """Print the state document (no secret is ever in it)."""
    from strands_deploy.services import open_services

    services = open_services(project_dir(ctx), env_name, start_local=False)
    print_json(services.read_state().to_dict())


@command.command("unlock")
@env_option
@click.option("--force", is_flag=True, help="Release the lock even if its holder looks alive.")
@click.pass_context
def unlock(ctx: click.Context, env_name: str, force: bool) -> None:
    """Release a lock left by a process that died (or a damaged lock file)."""
    from strands_deploy.errors import StrandsDeployError
    from strands_deploy.services import open_services

    services = open_services(project_dir(ctx), env_name, start_local=False)
    backend = services.backend
    holder = backend.lock_info()
    if holder is None:
        console().print(f"Environment [bold]{env_name}[/bold] is not locked.")
        return
    # a damaged lock file names no holder: nobody can be waiting on it, so it is released as is
    if not force and holder.stale_reason() is None:
        import socket

        here = holder.host == socket.gethostname()
        raise StrandsDeployError(
            f"the lock is held by a running process: {holder.describe()}"
            if here
            else f"the lock is held by {holder.describe()} on another machine (its process cannot be checked from here)",
            str(getattr(backend, "lock_path", backend.location)),
            "wait for it to finish, or stop it; --force releases the lock anyway",
        )
    backend.unlock(force=True)
    console().print(f"Released the lock of environment [bold]{env_name}[/bold] (was {holder.describe()}).")
