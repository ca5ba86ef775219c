"""Watch the agents' folders and say which agent changed (watchfiles, in a thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path


class Reloader:
    """Calls ``on_change(agent, changed_paths)`` once per batch of changes to an agent's folder.

    Changes are grouped by watchfiles (a batch is yielded ~50 ms after the last change, at most
    ``debounce_ms`` after the first) so an editor's save-as-rename counts once.
    """

    def __init__(
        self,
        folders: dict[str, Path],
        on_change: Callable[[str, list[str]], None],
        debounce_ms: int = 300,
        step_ms: int = 50,
    ) -> None:
        self.folders = {name: folder.resolve() for name, folder in folders.items()}
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reloader", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._started.wait(5)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def agents_for(self, path: str) -> list[str]:
        p = Path(path).resolve()
        return [name for name, folder in self.folders.items() if p == folder or folder in p.parents]

    def _run(self) -> None:
        from watchfiles import DefaultFilter, watch

        paths = sorted({str(f) for f in self.folders.values() if f.is_dir()})
        if not paths:
            self._started.set()
            return
        gen = watch(
            *paths,
            watch_filter=DefaultFilter(),
            debounce=self.debounce_ms,
            step=self.step_ms,
            stop_event=self._stop,
            raise_interrupt=False,
            yield_on_timeout=True,
            rust_timeout=200,
        )
        for changes in gen:
            self._started.set()  # the first (timeout) yield: the watcher is set up
            if self._stop.is_set():
                break
            by_agent: dict[str, list[str]] = {}
            for _, path in changes:
                for name in self.agents_for(path):
                    by_agent.setdefault(name, []).append(path)
            for name, changed in by_agent.items():
                self.on_change(name, sorted(changed))
