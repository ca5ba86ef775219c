"""`strands-deploy completion bash|zsh|fish [--install]`: shell completion (click's protocol).

The script calls ``strands-deploy`` back with ``_STRANDS_DEPLOY_COMPLETE`` set on each Tab;
commands, options, agent names, environment names and resource addresses complete (the callbacks
are in cli/complete.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from strands_deploy.errors import StrandsDeployError

SHELLS = ("bash", "zsh", "fish")
PROG = "strands-deploy"
COMPLETE_VAR = "_STRANDS_DEPLOY_COMPLETE"
MARK = "# strands-deploy shell completion"


def script(shell: str) -> str:
    from click.shell_completion import get_completion_class

    from strands_deploy.cli.main import cli

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the choice limits the shells
        raise StrandsDeployError(f"no completion for {shell}", fix=f"use one of {', '.join(SHELLS)}")
    return cls(cli, {}, PROG, COMPLETE_VAR).source()


def detect_shell() -> str:
    name = Path(os.environ.get("SHELL", "")).name
    if name not in SHELLS:
        raise StrandsDeployError(
            f"cannot tell which shell this is ($SHELL is {os.environ.get('SHELL') or 'not set'!r})",
            fix="name it: strands-deploy completion --install bash|zsh|fish",
        )
    return name


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def targets(shell: str) -> tuple[Path, Path | None]:
    """(where the script goes, the rc file that sources it or None when the shell autoloads it)."""
    if shell == "fish":
        return _config_home() / "fish" / "completions" / f"{PROG}.fish", None
    script_path = _config_home() / PROG / f"completion.{shell}"
    if shell == "zsh":
        return script_path, Path(os.environ.get("ZDOTDIR") or Path.home()) / ".zshrc"
    return script_path, Path.home() / ".bashrc"


def install(shell: str) -> list[str]:
    """Write the script and (bash, zsh) source it from the rc file once; what was done, in words."""
    from strands_deploy.state.backend import atomic_write

    script_path, rc = targets(shell)
    done = []
    try:
        script_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(script_path, script(shell).encode())
        done.append(f"wrote {script_path}")
        if rc is not None:
            line = f'[ -f "{script_path}" ] && . "{script_path}"  {MARK}'
            text = rc.read_text(encoding="utf-8") if rc.is_file() else ""
            if MARK not in text:
                with rc.open("a", encoding="utf-8") as fh:
                    fh.write(("" if not text or text.endswith("\n") else "\n") + line + "\n")
                done.append(f"added a line to {rc} that loads it")
            else:
                done.append(f"{rc} already loads it")
    except OSError as e:
        raise StrandsDeployError(
            f"cannot install the {shell} completion: {e}",
            str(e.filename or script_path),
            f"print it and install it yourself: strands-deploy completion {shell} > <file>",
        ) from None
    return done


@click.command("completion")
@click.argument("shell", required=False, type=click.Choice(SHELLS))
@click.option("--install", "do_install", is_flag=True, help="Install it for your shell (idempotent).")
def command(shell: str | None, do_install: bool) -> None:
    """Print the completion script of SHELL (bash, zsh or fish), or install it with --install.

    \b
    By hand:  eval "$(strands-deploy completion bash)"   (in ~/.bashrc)
              eval "$(strands-deploy completion zsh)"    (in ~/.zshrc)
              strands-deploy completion fish > ~/.config/fish/completions/strands-deploy.fish
    """
    from strands_deploy.cli.common import summary

    if not do_install:
        if shell is None:
            raise click.UsageError("name the shell: strands-deploy completion bash|zsh|fish (or --install)")
        click.echo(script(shell), nl=False)
        return
    chosen = shell or detect_shell()
    for line in install(chosen):
        summary(line)
    summary(f"{chosen} completion installed; open a new shell (or source your rc file) to use it")
