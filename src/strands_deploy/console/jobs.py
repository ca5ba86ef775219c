"""A deploy run in the background of the console: the engine's events are kept in order and
streamed to every browser that watches (server-sent events), from the first one on."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from strands_deploy.engine.events import Event
from strands_deploy.errors import StrandsDeployError


@dataclass
class Job:
    id: str
    env: str
    events: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def sink(self, event: Event) -> None:
        """The engine's EventSink: one row per resource, as the CLI's progress shows it."""
        self.push(
            {
                "type": "resource",
                "kind": event.kind,
                "address": event.address,
                "action": event.action,
                "message": event.message,
                "elapsed": round(event.elapsed, 2),
            }
        )

    def push(self, item: dict[str, Any], last: bool = False) -> None:
        with self._cond:
            self.events.append(item)
            self.done = self.done or last
            self._cond.notify_all()

    def follow(self, start: int = 0, wait: float = 15.0) -> Iterator[dict[str, Any] | None]:
        """Events from ``start`` on as they come; ``None`` when ``wait`` seconds pass without one
        (a keep-alive for the stream); ends after the last."""
        index = start
        while True:
            with self._cond:
                if index >= len(self.events) and not self.done:
                    self._cond.wait(wait)
                batch = self.events[index:]
                finished = self.done
            index += len(batch)
            if not batch and not finished:
                yield None
            yield from batch
            if finished and index >= len(self.events):
                return


class Jobs:
    """One deploy at a time per console (the state lock guards against other processes)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def running(self) -> Job | None:
        return next((j for j in self._jobs.values() if not j.done), None)

    def start(self, env: str, work: Callable[[Job], dict[str, Any]]) -> Job:
        with self._lock:
            busy = self.running()
            if busy is not None:
                raise StrandsDeployError(
                    f"a deploy of environment {busy.env!r} is already running in this console",
                    fix="watch it in the Deploy view, or wait for it to finish",
                )
            job = Job(uuid.uuid4().hex[:12], env)
            self._jobs[job.id] = job

        def run() -> None:
            started = time.monotonic()
            try:
                result = work(job)
            except StrandsDeployError as e:
                result = {"type": "error", "error": _problems(e)}
            except Exception as e:  # never a traceback in the page: one sentence
                result = {"type": "error", "error": [{"what": f"unexpected {type(e).__name__}: {e}"}]}
            result["seconds"] = round(time.monotonic() - started, 1)
            job.push(result, last=True)

        threading.Thread(target=run, name=f"console-deploy-{job.id}", daemon=True).start()
        return job


def _problems(e: StrandsDeployError) -> list[dict[str, Any]]:
    from strands_deploy.errors import ProblemsError

    if isinstance(e, ProblemsError):
        return [p.to_dict() for p in e.problems]
    return [e.to_dict()]
