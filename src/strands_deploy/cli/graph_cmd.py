from __future__ import annotations

import click

from strands_deploy.cli.common import env_option, json_option, print_json, project_dir


@click.command("graph")
@env_option
@click.option(
    "--format", "fmt", type=click.Choice(["tree", "mermaid", "dot"]), default="tree", show_default=True
)
@json_option()
@click.pass_context
def command(ctx: click.Context, env_name: str, fmt: str, as_json: bool) -> None:
    """Print the resource graph synthesised from strands.yaml (no AWS write)."""
    from strands_deploy.services import open_services

    services = open_services(project_dir(ctx), env_name, start_local=False)
    graph = services.synth(check_code=False)  # the graph does not depend on the code's syntax
    order = graph.topological_order()
    if as_json:
        print_json(
            {
                "project": services.project.name,
                "environment": env_name,
                "resources": [
                    {
                        "address": a,
                        "type": graph.resources[a].type,
                        "dependencies": sorted(graph.resources[a].dependencies()),
                    }
                    for a in order
                ],
            }
        )
        return
    if fmt == "mermaid":
        ids = {a: f"n{i}" for i, a in enumerate(order)}
        click.echo("graph TD")
        for a in order:
            click.echo(f'  {ids[a]}["{a}<br/><small>{graph.resources[a].type}</small>"]')
        for a in order:
            for d in sorted(graph.resources[a].dependencies()):
                click.echo(f"  {ids[d]} --> {ids[a]}")
        return
    if fmt == "dot":
        click.echo("digraph strands {\n  rankdir=LR;")
        for a in order:
            click.echo(f'  "{a}" [label="{a}\\n{graph.resources[a].type}"];')
        for a in order:
            for d in sorted(graph.resources[a].dependencies()):
                click.echo(f'  "{d}" -> "{a}";')
        click.echo("}")
        return
    from rich.tree import Tree

    from strands_deploy.cli.common import console

    tree = Tree(f"[bold]{services.project.name}[/bold] ({env_name})")
    groups: dict[str, Tree] = {}
    for a in order:
        owner = ".".join(a.split(".")[:2])
        if owner not in groups:
            groups[owner] = tree.add(f"[bold]{owner}[/bold]")
        deps = sorted(graph.resources[a].dependencies())
        groups[owner].add(
            f"{a.split('.', 2)[-1]} [dim]{graph.resources[a].type}"
            + (f" ← {', '.join(deps)}" if deps else "")
            + "[/dim]"
        )
    console().print(tree)
