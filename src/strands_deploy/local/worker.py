"""The bootstrap a local Lambda worker runs: ``python -m strands_deploy.local.worker``.

Like Lambda's Python runtime interface client, it imports the function's handler once (the init
phase) and then calls it for each request it is sent. It unpacks nothing: the server hands it the
code and layer folders in the ``setup`` frame. Stdlib only, so it starts fast and never shadows
the function's own dependencies.

File descriptors: stdin carries request frames and stdout response frames (see
:mod:`.protocol`); both are moved to private descriptors at start, then fd 0 becomes /dev/null and
fd 1 is pointed at stderr, so whatever the function prints (Python or C level) lands in the log
pipe and can never corrupt the protocol.

Limits: before the handler is imported the worker caps its own address space (``RLIMIT_AS``, from
the setup frame: the configured memory plus a fixed allowance, see :mod:`.limits`); a
``MemoryError`` ends the worker like Lambda's out-of-memory kill. If the server dies, the worker
kills its whole process group (its own children too).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

from strands_deploy.local.protocol import END_MARKER, read_frame, write_frame


class LambdaContext:
    """The ``context`` argument, with the attributes and method Lambda's Python runtime provides."""

    def __init__(self, setup: dict[str, Any], request: dict[str, Any]) -> None:
        self.function_name: str = setup["function_name"]
        self.function_version: str = setup["function_version"]
        self.invoked_function_arn: str = request.get("invoked_function_arn") or setup["function_arn"]
        self.memory_limit_in_mb: int = int(setup["memory_size"])
        self.aws_request_id: str = request["request_id"]
        self.log_group_name: str = setup["log_group"]
        self.log_stream_name: str = setup["log_stream"]
        self.identity: Any = None
        self.client_context: Any = request.get("client_context")
        self._deadline_ms: int = int(request["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _location(tb: Any, roots: list[str]) -> str | None:
    """``file.py, line N`` of the innermost traceback frame inside the function's own code."""
    found = None
    for frame in traceback.extract_tb(tb):
        for root in roots:
            if frame.filename.startswith(root + os.sep):
                found = f"{os.path.relpath(frame.filename, root)}, line {frame.lineno}"
    return found


def _error(error_type: str, message: str, tb: Any = None, request_id: str = "") -> dict[str, Any]:
    stack = traceback.format_list(traceback.extract_tb(tb)) if tb is not None else []
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack}


def load_handler(handler: str, code_dir: str) -> tuple[Callable[..., Any] | None, dict[str, Any] | None]:
    """Import ``module.function`` (``dir/module.function`` and dotted packages work too)."""
    module_name, _, func_name = handler.rpartition(".")
    if not module_name or not func_name:
        return None, _error(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{handler}': expected <module>.<function>, for example app.handler",
        )
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except MemoryError:
        raise
    except SyntaxError as e:
        spot = f"{os.path.relpath(e.filename, code_dir) if e.filename else '?'}, line {e.lineno}"
        return None, _error(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {e.msg} ({spot})",
            e.__traceback__,
        )
    except Exception as e:
        where: str | None = _location(e.__traceback__, [code_dir])
        if where is None and isinstance(e, ModuleNotFoundError) and e.name == module_name.split(".")[0]:
            where = f"looked for {module_name.replace('.', '/')}.py in the function's code"
        suffix = f" ({where})" if where else ""
        return None, _error(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': {e}{suffix}",
            e.__traceback__,
        )
    func = getattr(module, func_name, None)
    if not callable(func):
        return None, _error(
            "Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_name}'"
        )
    return func, None


def _watch_parent() -> None:
    """Exit when the server dies (our parent changes), even while the handler is busy."""
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            try:  # our children go with us (the server made us a process group leader)
                if os.getpgid(0) == os.getpid():
                    os.killpg(os.getpid(), signal.SIGKILL)
            finally:
                os._exit(1)


def _limit_memory(limit: int | None) -> None:
    """Cap the address space of this process and of the children it starts."""
    if not limit:
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard if hard != resource.RLIM_INFINITY else limit))
    except (ImportError, ValueError, OSError, AttributeError):
        pass  # not on this platform (Windows): memory is not enforced


class _OutOfMemory(Exception):
    pass


def _mark_end(request_id: str) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(2, END_MARKER + request_id.encode() + b"\n")


def _invoke(func: Callable[..., Any], setup: dict[str, Any], req: dict[str, Any]) -> dict[str, Any]:
    request_id = req["request_id"]
    try:
        event = json.loads(req.get("payload") or "{}")
        result = func(event, LambdaContext(setup, req))
    except MemoryError:
        raise _OutOfMemory() from None
    except Exception as e:
        print(f"[ERROR] {type(e).__name__}: {e}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        tb = e.__traceback__.tb_next if e.__traceback__ else None  # hide this bootstrap's frame
        return {"ok": False, "error": _error(type(e).__name__, str(e), tb, request_id)}
    try:
        payload = json.dumps(result)
    except MemoryError:
        raise _OutOfMemory() from None
    except (TypeError, ValueError) as e:
        message = f"Unable to marshal response: {e}"
        print(f"[ERROR] Runtime.MarshalError: {message}", file=sys.stderr)
        return {"ok": False, "error": _error("Runtime.MarshalError", message, None, request_id)}
    return {"ok": True, "payload": payload}


def _out_of_memory(proto_out: IO[bytes], request_id: str) -> None:
    """Tell the server the function ran out of memory; it stops this worker, as Lambda would."""
    import gc

    gc.collect()
    _mark_end(request_id)
    write_frame(proto_out, {"type": "result", "ok": False, "oom": True})


def serve(proto_in: IO[bytes], proto_out: IO[bytes]) -> None:
    setup = read_frame(proto_in)
    if setup is None:
        return
    code_dir: str = setup["code_dir"]
    # invariant: the function's code first, then its layers, then the server's own site-packages
    base = [p for p in sys.path if p not in ("", os.getcwd(), code_dir)]
    sys.path[:] = [code_dir, *setup.get("layer_paths", []), *base]
    os.chdir(code_dir)
    _limit_memory(setup.get("address_space_limit"))
    started = time.monotonic()
    try:
        func, error = load_handler(setup["handler"], code_dir)
    except MemoryError:
        _out_of_memory(proto_out, "init")
        return
    init_ms = (time.monotonic() - started) * 1000
    if error is not None:
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", file=sys.stderr)
    _mark_end("init")
    write_frame(proto_out, {"type": "init", "ok": error is None, "error": error, "init_ms": init_ms})
    if func is None:
        return
    while True:
        req = read_frame(proto_in)
        if req is None:
            return
        try:
            outcome = _invoke(func, setup, req)
        except (_OutOfMemory, MemoryError):
            _out_of_memory(proto_out, req["request_id"])
            return
        _mark_end(req["request_id"])
        write_frame(proto_out, {"type": "result", **outcome})


def main() -> None:
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # fd 1 now writes to the log pipe; the protocol has its own descriptor
    threading.Thread(target=_watch_parent, name="watch-parent", daemon=True).start()
    try:
        serve(proto_in, proto_out)
    except BrokenPipeError:
        pass
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)  # do not wait for the function's own non-daemon threads


if __name__ == "__main__":
    main()
