"""Edits of ``strands.yaml`` that keep what a person wrote: comments, key order, quoting, flow
style. Every edit is a read-modify-write of the whole document with ruamel.yaml's round-trip
mode, guarded by an etag (the SHA-256 of the bytes the editor last saw) so a concurrent change —
another tab, or an editor on disk — is refused with what changed, never overwritten.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strands_deploy.errors import StrandsDeployError

CONFIG_FILE = "strands.yaml"
AGENT_CODE = '''\
"""The {name} agent: edit its instructions and tools, then deploy."""

from strands import Agent

agent = Agent(
    system_prompt="You are {name}, a helpful assistant.",
    callback_handler=None,
)
'''
RESOURCE_DEFAULTS: dict[str, dict[str, Any]] = {"table": {"key": "id"}}


def etag_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


class Conflict(StrandsDeployError):
    """The file changed since the editor read it: nothing was written."""

    def __init__(self, current: str, etag: str, diff: str) -> None:
        self.current, self.etag, self.diff = current, etag, diff
        super().__init__(
            "strands.yaml changed since you loaded it (another tab or an editor); your edit was not written",
            CONFIG_FILE,
            "review what changed, then make your edit again on the current version",
        )


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long line someone wrote
    y.indent(mapping=2, sequence=4, offset=2)
    return y


@dataclass
class Document:
    text: str
    etag: str


class ConfigFile:
    """``strands.yaml`` of one project, read and written under one lock per process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / CONFIG_FILE
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, str] = OrderedDict()  # etag -> text served (for conflict diffs)

    def read(self) -> Document:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        text = data.decode("utf-8", errors="replace")
        doc = Document(text, etag_of(data))
        self._remember(doc)
        return doc

    def etag(self) -> str:
        try:
            return etag_of(self.path.read_bytes())
        except FileNotFoundError:
            return etag_of(b"")

    def _remember(self, doc: Document) -> None:
        self._seen[doc.etag] = doc.text
        self._seen.move_to_end(doc.etag)
        while len(self._seen) > 64:
            self._seen.popitem(last=False)

    def _check(self, etag: str | None) -> Document:
        current = self.read()
        if etag is not None and etag != current.etag:
            base = self._seen.get(etag)
            diff = (
                "".join(
                    difflib.unified_diff(
                        base.splitlines(keepends=True),
                        current.text.splitlines(keepends=True),
                        "strands.yaml (yours)",
                        "strands.yaml (now)",
                    )
                )
                if base is not None
                else ""
            )
            raise Conflict(current.text, current.etag, diff)
        return current

    def write_text(self, text: str, etag: str | None) -> Document:
        """Replace the whole file (the YAML view's save)."""
        with self._lock:
            self._check(etag)
            return self._write(text)

    def edit(self, etag: str | None, change: Any) -> Document:
        """Apply ``change(data)`` to the round-trip document and write the result."""
        with self._lock:
            current = self._check(etag)
            y = _yaml()
            try:
                data = y.load(current.text) if current.text.strip() else None
            except Exception as e:  # a YAML syntax error: the form cannot edit what it cannot read
                raise StrandsDeployError(
                    f"strands.yaml is not valid YAML, so the form cannot change it: {e}",
                    CONFIG_FILE,
                    "fix it in the YAML view first",
                ) from None
            if data is None:
                from ruamel.yaml.comments import CommentedMap

                data = CommentedMap()
            change(data)
            out = io.StringIO()
            y.dump(data, out)
            return self._write(out.getvalue())

    def _write(self, text: str) -> Document:
        from strands_deploy.state.backend import atomic_write

        data = text.encode()
        atomic_write(self.path, data)
        doc = Document(text, etag_of(data))
        self._remember(doc)
        return doc


# -- the edits the forms make ---------------------------------------------------------------------
def _section(data: Any, key: str) -> Any:
    from ruamel.yaml.comments import CommentedMap

    if data.get(key) is None:
        data[key] = CommentedMap()
    return data[key]


def _named(data: Any, section: str, name: str) -> Any:
    entries = data.get(section) or {}
    if name not in entries:
        raise StrandsDeployError(f"no {section[:-1]} named {name!r} in strands.yaml", CONFIG_FILE)
    return entries[name]


def set_field(data: Any, section: str, name: str, key: str, value: Any) -> None:
    """``agents.NAME.KEY = value`` (``None`` or ``""`` removes the key, so the default applies)."""
    entry = _named(data, section, name)
    if value is None or value == "":
        entry.pop(key, None)
        return
    before = entry.get(key)
    entry[key] = value
    _keep_comment_gap(entry, key, len(str(value)) - len(str(before)) if before is not None else 0)


def _keep_comment_gap(entry: Any, key: str, grown: int) -> None:
    """A longer value pushes its end-of-line comment right, keeping the gap that was written
    (ruamel keeps the comment's column, which would leave a single space)."""
    tokens = getattr(entry, "ca", None) and entry.ca.items.get(key)
    comment = tokens[2] if tokens and len(tokens) > 2 else None
    if comment is not None and grown > 0 and comment.value.startswith("#"):
        comment.start_mark.column += grown


def add_agent(root: Path, data: Any, name: str, fields: dict[str, Any]) -> None:
    """A new agent entry, and its folder with a first agent.py when there is none."""
    from ruamel.yaml.comments import CommentedMap

    _check_name(name, "agent")
    agents = _section(data, "agents")
    if name in agents:
        raise StrandsDeployError(f"agent {name!r} already exists", CONFIG_FILE, "pick another name")
    entry = CommentedMap()
    entry["path"] = fields.pop("path", None) or f"agents/{name}"
    for key, value in fields.items():
        if value not in (None, ""):
            entry[key] = value
    agents[name] = entry
    folder = root / entry["path"]
    if not (folder / "agent.py").exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "agent.py").write_text(AGENT_CODE.format(name=name))
        (folder / "requirements.txt").write_text("strands-agents\n")


def add_resource(data: Any, name: str, kind: str, fields: dict[str, Any]) -> None:
    from ruamel.yaml.comments import CommentedMap

    _check_name(name, "resource")
    resources = _section(data, "resources")
    if name in resources:
        raise StrandsDeployError(f"resource {name!r} already exists", CONFIG_FILE, "pick another name")
    entry = CommentedMap()
    entry["type"] = kind
    for key, value in {**RESOURCE_DEFAULTS.get(kind, {}), **fields}.items():
        if value not in (None, ""):
            entry[key] = value
    entry.fa.set_flow_style()  # `tickets: {type: table, key: id}`, as people write small entries
    resources[name] = entry


def link(data: Any, agent: str, resource: str, access: str = "readwrite") -> None:
    """Add ``resource`` to the agent's ``link:`` list (a flow list, as written by hand)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    entry = _named(data, "agents", agent)
    _named(data, "resources", resource)
    links = entry.get("link")
    if links is None:
        links = CommentedSeq()
        links.fa.set_flow_style()
        entry["link"] = links
    if any(_link_name(x) == resource for x in links):
        raise StrandsDeployError(f"agent {agent!r} is already linked to {resource!r}", CONFIG_FILE)
    if access == "readwrite":
        links.append(resource)
    else:
        item = CommentedMap([("to", resource), ("access", access)])
        item.fa.set_flow_style()
        links.append(item)


def unlink(data: Any, agent: str, resource: str) -> None:
    entry = _named(data, "agents", agent)
    links = entry.get("link") or []
    keep = [x for x in links if _link_name(x) != resource]
    if len(keep) == len(links):
        raise StrandsDeployError(f"agent {agent!r} is not linked to {resource!r}", CONFIG_FILE)
    while len(links):
        links.pop()
    links.extend(keep)
    if not links:
        del entry["link"]


def remove(data: Any, section: str, name: str) -> None:
    _named(data, section, name)
    del data[section][name]


def _link_name(item: Any) -> str:
    return str(item.get("to")) if isinstance(item, dict) else str(item)


def _check_name(name: str, what: str) -> None:
    import re

    if not re.fullmatch(r"[a-z][a-z0-9-]{0,39}", name or ""):
        raise StrandsDeployError(
            f"{what} name {name!r} is not valid",
            CONFIG_FILE,
            "use lowercase letters, digits and '-', starting with a letter",
        )


# -- validation of text that is not written yet ---------------------------------------------------
def validate_text(root: Path, text: str) -> list[dict[str, Any]]:
    """The problems the CLI would report if ``strands.yaml`` held ``text`` (file:line as the CLI
    shows them, pointing at the real file). The project is mirrored into a temporary folder under
    ``.strands/`` (its folders, and its files as hard links), so nothing in the project changes."""
    scratch = root / ".strands" / "console"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="validate-", dir=scratch) as tmp:
        mirror = Path(tmp)
        _mirror(root, mirror)
        (mirror / CONFIG_FILE).write_text(text)
        problems = problems_of(mirror)
    for p in problems:
        for key in ("where", "what", "fix"):
            if isinstance(p.get(key), str):
                p[key] = p[key].replace(str(mirror), str(root))
    return problems


SKIP_DIRS = {".git", ".strands", ".venv", "venv", "node_modules", "__pycache__", ".pytest_cache"}


def _mirror(src: Path, dst: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        rel = Path(dirpath).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            if rel == Path(".") and name == CONFIG_FILE:
                continue
            try:
                os.link(Path(dirpath) / name, dst / rel / name)
            except OSError:
                (dst / rel / name).write_bytes(b"")  # only its existence matters to the loader


def problems_of(root: Path) -> list[dict[str, Any]]:
    """The configuration problems of the project in ``root`` (empty when it loads), as the CLI's
    ``validate`` reports them (configuration only: code is checked at deploy)."""
    from strands_deploy.config.loader import load_project
    from strands_deploy.errors import ProblemsError

    try:
        load_project(root)
    except ProblemsError as e:
        return [p.to_dict() for p in e.problems]
    except StrandsDeployError as e:
        return [e.to_dict()]
    return []
