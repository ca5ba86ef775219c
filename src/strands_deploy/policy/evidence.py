"""The evidence of a pass: the property values a rule looked at to decide that a subject complies.

A failing rule says what it saw in its :class:`Violation`; a passing one returns nothing. So that a
report can show *why* a resource passed (``pitr: true; deletion_protection: true``), the check runs
on a recording view of its subject and context: every property it reads is noted with its value.
The views are transparent (a dict subclass; for models, a proxy whose ``__class__`` is the model's,
so ``isinstance`` holds), and the verdict never depends on them: a check that fails on a view is
run again on the plain subject (see :func:`policy.evaluate._findings`).

Values that may hold secrets are never shown: an ``environment``/``variables`` mapping is shown by
its variable names only, and anything named like a value or secret is masked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from strands_deploy.policy.model import AgentSubject, ChangeSubject, Context, ResourceSubject

NAMES_ONLY = frozenset({"environment", "variables", "env_vars"})
MASKED = frozenset({"value", "secret", "secret_value", "password", "token"})
MAX_VALUE = 100  # characters of one value shown
MAX_ITEMS = 12  # properties shown per finding


class Looked:
    """The properties read, in the order first read: path → value."""

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}

    def note(self, path: str, value: Any) -> None:
        if path and path not in self.seen:
            self.seen[path] = value

    def text(self) -> str:
        # a model noted whole and then read field by field shows its fields only
        shown = [(p, v) for p, v in self.seen.items() if not any(q.startswith(p + ".") for q in self.seen)]
        parts = [f"{path}: {_show(path, value)}" for path, value in shown[:MAX_ITEMS]]
        more = len(shown) - MAX_ITEMS
        return "; ".join(parts) + (f"; … {more} more" if more > 0 else "")


def _show(path: str, value: Any) -> str:
    last = path.rsplit(".", 1)[-1].lower()
    if last in NAMES_ONLY or any(seg in NAMES_ONLY for seg in path.lower().split(".")[:-1]):
        names = sorted(value) if isinstance(value, dict) else None
        return f"(names) {', '.join(map(str, names))}" if names is not None else "(not shown)"
    if last in MASKED:
        return "(not shown)"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    try:
        text = json.dumps(value, default=str, sort_keys=True)
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _wrap(value: Any, looked: Looked, path: str) -> Any:
    """Models and mappings read further are recorded at their leaves; anything else is a value."""
    if isinstance(value, BaseModel):
        looked.note(path, value)  # shown whole unless its fields are read
        return RecordingModel(value, looked, path)
    if isinstance(value, dict) and not isinstance(value, RecordingDict):
        return RecordingDict(value, looked, path)
    looked.note(path, value)
    return value


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


class RecordingDict(dict[str, Any]):
    """A dict that notes each key read (``get``, ``[]``); iterating notes the whole mapping."""

    def __init__(self, data: dict[str, Any], looked: Looked, prefix: str) -> None:
        super().__init__(data)
        self._looked = looked
        self._prefix = prefix

    def __getitem__(self, key: str) -> Any:
        return _wrap(super().__getitem__(key), self._looked, _join(self._prefix, key))

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key in self:
            return self[key]
        self._looked.note(_join(self._prefix, key), default)
        return default

    def _whole(self) -> None:
        self._looked.note(self._prefix or "(all)", dict(self))

    def items(self) -> Any:
        self._whole()
        return super().items()

    def values(self) -> Any:
        self._whole()
        return super().values()

    def __iter__(self) -> Iterator[str]:
        self._whole()
        return super().__iter__()


class RecordingModel:
    """A read-only view of a pydantic model noting each field read; ``isinstance`` sees the model."""

    def __init__(self, model: BaseModel, looked: Looked, prefix: str) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_looked", looked)
        object.__setattr__(self, "_prefix", prefix)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105 - isinstance(view, TheModel) holds
        return type(object.__getattribute__(self, "_model"))

    def __getattr__(self, name: str) -> Any:
        model = object.__getattribute__(self, "_model")
        value = getattr(model, name)
        if name.startswith("_") or name not in type(model).model_fields:
            return value  # methods and private state: not properties of the subject
        return _wrap(
            value,
            object.__getattribute__(self, "_looked"),
            _join(object.__getattribute__(self, "_prefix"), name),
        )

    def __eq__(self, other: object) -> bool:
        return bool(object.__getattribute__(self, "_model") == other)

    def __hash__(self) -> int:
        return hash(id(object.__getattribute__(self, "_model")))

    def __repr__(self) -> str:
        return repr(object.__getattribute__(self, "_model"))


class _View:
    """Attribute access on ``target`` noted under the given names (others pass through)."""

    _recorded: frozenset[str] = frozenset()

    def __init__(self, target: Any, looked: Looked) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_looked", looked)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105
        return type(object.__getattribute__(self, "_target"))

    def __getattr__(self, name: str) -> Any:
        value = getattr(object.__getattribute__(self, "_target"), name)
        if name in type(self)._recorded:
            return _wrap(value, object.__getattribute__(self, "_looked"), self._path(name))
        return value

    def _path(self, name: str) -> str:
        return name


class _ResourceView(_View):
    _recorded = frozenset({"props", "typed", "live"})

    def _path(self, name: str) -> str:
        return "live" if name == "live" else ""


class _AgentView(_View):
    _recorded = frozenset({"config", "public"})

    @property
    def folder(self) -> Any:
        target: AgentSubject = object.__getattribute__(self, "_target")
        object.__getattribute__(self, "_looked").note("code", target.config.path)
        return target.folder

    def props(self, suffix: str) -> dict[str, Any]:
        target: AgentSubject = object.__getattribute__(self, "_target")
        return RecordingDict(target.props(suffix), object.__getattribute__(self, "_looked"), suffix)

    def _path(self, name: str) -> str:
        return "" if name == "config" else name


class _ChangeView(_View):
    _recorded = frozenset({"action"})


class _ContextView(_View):
    _recorded = frozenset({"env", "production", "emulated", "region", "env_name"})


def recording(subject: Any, ctx: Context) -> tuple[Any, Any, Looked]:
    """Recording views of ``subject`` and ``ctx``, and what they note."""
    looked = Looked()
    view: Any = subject
    if isinstance(subject, ResourceSubject):
        view = _ResourceView(subject, looked)
    elif isinstance(subject, AgentSubject):
        view = _AgentView(subject, looked)
    elif isinstance(subject, ChangeSubject):
        view = _ChangeView(subject, looked)
    return view, _ContextView(ctx, looked), looked
