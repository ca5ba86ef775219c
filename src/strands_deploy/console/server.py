"""Serving the console: uvicorn on 127.0.0.1 only, until Ctrl-C."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from pathlib import Path

from strands_deploy.errors import StrandsDeployError

HOST = "127.0.0.1"  # never another interface: the console can deploy and read secrets' names


def bind(port: int) -> socket.socket:
    """The listening socket (``port`` 0: any free one), bound before the URL is printed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise StrandsDeployError(
                f"port {port} on {HOST} is already in use",
                fix="pass another port with --port (or stop the other console)",
            ) from None
        raise
    sock.listen(64)
    return sock


def serve(
    root: Path,
    env: str,
    port: int,
    *,
    on_ready: Callable[[str], None],
) -> None:
    """Serve the console of the project in ``root``; ``on_ready(url)`` once it listens.
    Returns when stopped (Ctrl-C / SIGTERM: uvicorn finishes the requests in flight)."""
    import contextlib

    import uvicorn

    from strands_deploy.console.app import Console, create_app
    from strands_deploy.errors import ConfigError
    from strands_deploy.services import open_services

    # the environment must exist; a broken strands.yaml is what the YAML view can fix: serve anyway
    with contextlib.suppress(ConfigError):
        open_services(root, env, start_local=False)
    sock = bind(port)
    console = Console(root=root, env=env, port=sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(console),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,  # open event streams do not hold Ctrl-C up
        lifespan="off",
    )
    server = uvicorn.Server(config)
    on_ready(console.url())
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled: stopping is this command's normal end
    finally:
        sock.close()
