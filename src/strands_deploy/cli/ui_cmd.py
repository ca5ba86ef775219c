"""`strands-deploy ui`: serve the local web console (strands_deploy.console) on 127.0.0.1."""

from __future__ import annotations

import click

from strands_deploy.cli.common import env_option, err_console, project_dir


@click.command("ui")
@env_option
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option("--no-open", is_flag=True, help="Do not open the browser; just print the URL.")
@click.pass_context
def command(ctx: click.Context, env_name: str, port: int, no_open: bool) -> None:
    """Open the local web console: see, edit, deploy and talk to your agents in the browser.

    It listens on 127.0.0.1 only; its URL carries a random token, required by every request.
    Ctrl-C stops it.
    """
    from strands_deploy.config.loader import find_project_root
    from strands_deploy.console.server import serve

    root = find_project_root(project_dir(ctx))

    def ready(url: str) -> None:
        con = err_console()
        con.print(f"Console for [bold]{root}[/bold] (environment {env_name}):", highlight=False)
        click.echo(url)  # stdout: for scripts and terminals that make URLs clickable
        con.print("[dim]Ctrl-C to stop.[/dim]")
        if not no_open:
            import contextlib
            import webbrowser

            with contextlib.suppress(Exception):  # no browser here: the printed URL is enough
                webbrowser.open(url)

    serve(root, env_name, port, on_ready=ready)
    err_console().print("console stopped")
