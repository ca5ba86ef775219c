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
    """Release a lock left by a process that died."""
    from strands_deploy.errors import StrandsDeployError
    from strands_deploy.services import open_services
    from strands_deploy.state.backend import LocalFileBackend, pid_alive

    services = open_services(project_dir(ctx), env_name, start_local=False)
    backend = services.backend
    assert isinstance(backend, LocalFileBackend)
    holder = backend.lock_info()
    if holder is None:
        console().print(f"Environment [bold]{env_name}[/bold] is not locked.")
        return
    import socket

    if not force and holder.host == socket.gethostname() and pid_alive(holder.pid):
        raise StrandsDeployError(
            f"the lock is held by a running process: {holder.describe()}",
            str(backend.lock_path),
            "wait for it to finish, or stop it; --force releases the lock anyway",
        )
    backend.unlock(force=True)
    console().print(f"Released the lock of environment [bold]{env_name}[/bold] (was {holder.describe()}).")
