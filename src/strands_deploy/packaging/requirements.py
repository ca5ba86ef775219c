"""An agent's dependencies: where they are declared, what pip is asked to install, and their hash.

Sources, in order:

- the agent's requirements file (``requirements:``, default ``requirements.txt``), whose ``-r`` /
  ``-c`` includes are followed relative to the including file (a cycle is refused);
- when the default ``requirements.txt`` does not exist: the agent folder's ``uv.lock`` (the
  packages the project resolves to, pinned, the project itself excluded), else its
  ``pyproject.toml`` (PEP 621 ``[project] dependencies``).

``requirements:`` may also name a ``pyproject.toml`` or ``uv.lock`` directly.

The hash covers every file read. For a plain requirements file without includes it is exactly the
historic hash of that one file (``sha256(bytes)`` then ``"\\0" + extra`` for each extra), so
existing deployments keep their layer. ASGI agents (FastAPI, Starlette...) get ``mangum`` added
(the runtime adapter serves Function URL events through it); the addition is part of the hash.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strands_deploy.errors import StrandsDeployError

DEFAULT_FILE = "requirements.txt"
PYPROJECT = "pyproject.toml"
UV_LOCK = "uv.lock"
# used, in this order, when the default requirements file does not exist
FALLBACK_FILES = (UV_LOCK, PYPROJECT)

ASGI_FRAMEWORKS = frozenset({"fastapi", "starlette", "quart", "litestar", "sanic", "django"})
MANGUM = "mangum>=0.17"

_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTION_TAIL = re.compile(r"\s+--?[A-Za-z]")  # `pkg==1.0 --hash=sha256:...`: the requirement ends there
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares it (``PyYAML`` → ``pyyaml``, ``a_b.c`` → ``a-b-c``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Requirements:
    """What one agent asks pip for.

    ``lines``: lines of a requirements file for pip (``pip install -r``), includes expanded, the
    paths of constraint files made absolute. ``files``: every file read. ``names``: normalized
    names of the distributions installed (the declared ones; for ``uv.lock`` the whole resolved
    set). ``declared``: the names written down by the user (direct dependencies).
    """

    source: Path | None  # the file the requirements come from; None: no source, no requirements
    lines: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()
    names: frozenset[str] = frozenset()
    declared: frozenset[str] = frozenset()
    added: tuple[str, ...] = ()  # lines strands-deploy adds (mangum for ASGI apps)
    closed: bool = False  # ``names`` is the full set installed (a lock file): nothing else comes along
    opaque: bool = False  # a requirement without a name (a bare path or URL): what it installs is unknown
    local: bool = False  # a requirement on a local path: its content is not part of the hash
    _digest: tuple[bytes, ...] = field(default=(b"",), repr=False)

    @property
    def label(self) -> str:
        """The source's file name, for messages (``requirements.txt``, ``uv.lock``)."""
        return self.source.name if self.source is not None else DEFAULT_FILE

    @property
    def requirements(self) -> list[str]:
        """The lines that install something (options such as ``--index-url`` left out)."""
        return [line for line in self.lines if _is_requirement(line)]

    def hash(self, *extra: str) -> str:
        """16 hex characters over every file read, the lines added, and ``extra`` (target,
        runtime, architecture). A single plain file gives the historic ``file_hash``."""
        first, *rest = self._digest
        h = hashlib.sha256(first)
        for part in rest:
            h.update(b"\0file\0" + part)
        for line in self.added:
            h.update(b"\0+" + line.encode())
        for e in extra:
            h.update(b"\0" + e.encode())
        return h.hexdigest()[:16]


def resolve_requirements(folder: Path, declared: str = DEFAULT_FILE) -> Requirements:
    """The requirements of the agent in ``folder`` (``declared``: its ``requirements:`` setting).

    The declared file when it exists; otherwise, for the default name only, ``uv.lock`` or a
    ``pyproject.toml`` with a ``[project]`` table; otherwise no requirements. A file named
    explicitly that does not exist is a StrandsDeployError.
    """
    path = folder / declared
    if _is_file(path):
        return load_requirements(path)
    if declared != DEFAULT_FILE:
        raise StrandsDeployError(
            f"requirements file {declared} does not exist in {folder}",
            str(path),
            f"create {declared}, or remove `requirements:` to use requirements.txt, uv.lock or pyproject.toml",
        )
    for name in FALLBACK_FILES:
        candidate = folder / name
        # a pyproject.toml that is only tool settings declares nothing; an invalid one is an error
        if _is_file(candidate) and (
            name != PYPROJECT or isinstance(_load_toml(candidate).get("project"), dict)
        ):
            return load_requirements(candidate)
    return Requirements(source=None)


def has_requirements_source(folder: Path, declared: str = DEFAULT_FILE) -> bool:
    """True when :func:`resolve_requirements` finds a file to read (the configuration check)."""
    if _is_file(folder / declared):
        return True
    return declared == DEFAULT_FILE and any(
        _is_file(folder / n) and (n != PYPROJECT or _has_project_table(folder / n)) for n in FALLBACK_FILES
    )


def load_requirements(path: Path) -> Requirements:
    """The requirements in one file, read by its kind (``pyproject.toml``, ``uv.lock`` or a pip
    requirements file). A file that does not exist holds no requirements."""
    if not _is_file(path):
        return Requirements(source=path)
    if path.name == PYPROJECT:
        return _finish(_from_pyproject(path))
    if path.name == UV_LOCK:
        return _finish(_from_uv_lock(path))
    return _finish(_from_requirements_file(path))


def read_requirements(path: Path) -> list[str]:
    """The requirement lines of one file (includes expanded); [] when it does not exist."""
    return list(load_requirements(path).lines)


# --- requirements files -----------------------------------------------------------------------


@dataclass
class _Collect:
    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    digest: list[bytes] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    opaque: bool = False
    local: bool = False
    done: set[Path] = field(default_factory=set)


def _from_requirements_file(path: Path) -> Requirements:
    out = _Collect()
    _read_file(path, out, stack=(), constraints=False)
    names = frozenset(out.names)
    return Requirements(
        source=path,
        lines=tuple(out.lines),
        files=tuple(out.files),
        names=names,
        declared=names,
        opaque=out.opaque,
        local=out.local,
        _digest=tuple(out.digest) or (b"",),
    )


def _read_file(path: Path, out: _Collect, stack: tuple[Path, ...], constraints: bool) -> None:
    real = path.resolve()
    if real in stack:
        chain = " → ".join(p.name for p in (*stack, real))
        raise StrandsDeployError(
            f"requirements files include each other in a cycle: {chain}",
            str(path),
            "remove one of the `-r`/`-c` lines so that no file includes itself",
        )
    if real in out.done:
        return  # included twice (not a cycle): read once
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as e:
        raise StrandsDeployError(
            f"cannot read requirements file {path.name}: {e.strerror}", str(path), "check the file"
        ) from None
    except UnicodeDecodeError:
        raise StrandsDeployError(
            f"requirements file {path.name} is not UTF-8 text", str(path), "save it as UTF-8"
        ) from None
    out.done.add(real)
    out.files.append(path)
    out.digest.append(data)
    for lineno, line in _logical_lines(text):
        include = _include(line)
        if include is not None:
            option, target = include
            is_constraint = option in ("-c", "--constraint")
            if _URL.match(target):
                out.lines.append(f"{'-c' if is_constraint else '-r'} {target}")
                out.opaque = out.opaque or not is_constraint
                continue
            included = path.parent / target
            if not _is_file(included):
                raise StrandsDeployError(
                    f"{path.name} includes {target}, which does not exist",
                    f"{path}:{lineno}",
                    f"create {included.name} next to {path.name}, or fix the `{option}` line",
                )
            if is_constraint and not constraints:
                # pip reads constraint files itself (they pin, they do not install); their
                # includes are followed here too, for the hash and the cycle check
                out.lines.append(f"-c {included.resolve()}")
            _read_file(included, out, (*stack, real), constraints or is_constraint)
            continue
        if constraints:
            continue  # a constraint installs nothing
        out.lines.append(_absolute_links(line, path.parent))
        _note_requirement(line, out)


def _include(line: str) -> tuple[str, str] | None:
    """(option, file) of a ``-r``/``-c`` line (``-r f``, ``-rf``, ``--requirement=f``...)."""
    for option in ("--requirement", "--constraint"):
        if line.startswith(option):
            rest = line[len(option) :]
            if rest[:1] in ("=", " ", "\t") and rest.lstrip("= \t"):
                return option, rest.lstrip("= \t").strip()
            return None
    for option in ("-r", "-c"):
        if line.startswith(option) and line[2:].lstrip("= \t"):
            return option, line[2:].lstrip("= \t").strip()
    return None


def _absolute_links(line: str, folder: Path) -> str:
    """``--find-links DIR`` with DIR relative to the file that says it, as pip reads it there
    (the lines are handed to pip in another file)."""
    match = re.match(r"^(-f|--find-links)(?:\s*=\s*|\s+|(?<=^-f))(\S+)$", line)
    if match is None or _URL.match(match.group(2)):
        return line
    target = folder / match.group(2)
    return f"--find-links {target.resolve()}" if target.exists() else line


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with ``\\`` continuations joined and comments removed."""
    buf = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = number
        if raw.endswith("\\") and not raw.lstrip().startswith("#"):
            buf += raw[:-1]
            continue
        line = _COMMENT.sub("", buf + raw).strip()
        buf = ""
        if line:
            yield start, line
    line = _COMMENT.sub("", buf).strip()
    if line:
        yield start, line


def _note_requirement(line: str, out: _Collect) -> None:
    """Record the distribution ``line`` names (or that it names none we can read)."""
    editable = re.match(r"^(-e|--editable)(?:\s*=\s*|\s+)(\S.*)$", line)
    if line.startswith("-") and not editable:
        return  # an option line (--index-url, --pre, --find-links...)
    spec = editable.group(2) if editable else line
    spec = _OPTION_TAIL.split(spec, maxsplit=1)[0].strip()
    name = requirement_name(spec)
    if _is_local(spec):
        out.local = True
    if name is None:
        out.opaque = True
    else:
        out.names.add(name)


def requirement_name(spec: str) -> str | None:
    """The normalized distribution name of a requirement (``PyYAML>=6`` → ``pyyaml``; a URL with
    ``#egg=name`` → ``name``), None for a bare path or URL."""
    from packaging.requirements import InvalidRequirement, Requirement

    egg = _EGG.search(spec)
    if egg and (_URL.match(spec) or _is_local(spec)):
        return normalize(egg.group(1))
    try:
        return normalize(Requirement(spec).name)
    except InvalidRequirement:
        return None


def _is_local(spec: str) -> bool:
    target = spec.split("@", 1)[1].strip() if " @ " in spec or "@ " in spec else spec
    return target.startswith((".", "/", "~", "file:")) or bool(re.match(r"^[A-Za-z]:[\\/]", target))


def _is_requirement(line: str) -> bool:
    return not line.startswith("-") or line.startswith(("-e ", "-e=", "--editable"))


# --- pyproject.toml -----------------------------------------------------------------------------


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise StrandsDeployError(
            f"cannot read {path.name}: {e.strerror}", str(path), "check the file"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise StrandsDeployError(f"{path.name} is not valid TOML: {e}", str(path), "fix the file") from None


def _has_project_table(path: Path) -> bool:
    try:
        return isinstance(tomllib.loads(path.read_text(encoding="utf-8")).get("project"), dict)
    except (OSError, ValueError):
        return False


def _from_pyproject(path: Path) -> Requirements:
    project = _load_toml(path).get("project")
    if not isinstance(project, dict):
        raise StrandsDeployError(
            f"{path.name} has no [project] table to read dependencies from",
            str(path),
            "declare `dependencies = [...]` under [project] (PEP 621), or use a requirements.txt",
        )
    if "dependencies" in (project.get("dynamic") or []):
        raise StrandsDeployError(
            f"{path.name} declares its dependencies as dynamic: strands-deploy cannot read them",
            str(path),
            "list them under [project] dependencies, or write them to a requirements.txt",
        )
    deps = project.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise StrandsDeployError(
            f"{path.name}: [project] dependencies must be a list of strings",
            str(path),
            'e.g. dependencies = ["strands-agents>=1.0"]',
        )
    out = _Collect()
    for dep in deps:
        line = dep.strip()
        if line:
            out.lines.append(line)
            _note_requirement(line, out)
    names = frozenset(out.names)
    body = "\n".join(out.lines).encode()
    return Requirements(
        source=path,
        lines=tuple(out.lines),
        files=(path,),
        names=names,
        declared=names,
        opaque=out.opaque,
        local=out.local,
        _digest=(b"pyproject.toml\0" + body,),
    )


# --- uv.lock ------------------------------------------------------------------------------------

_MAX_CONDITIONS = 16  # markers per package before it is simply installed everywhere
_Conds = frozenset[frozenset[str]]  # OR of ANDs of markers; {frozenset()} is "always"


def _from_uv_lock(path: Path) -> Requirements:
    data = _load_toml(path)
    packages = [p for p in data.get("package", []) if isinstance(p, dict) and isinstance(p.get("name"), str)]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for pkg in packages:
        by_name.setdefault(normalize(pkg["name"]), []).append(pkg)
    root = _lock_root(path, packages)
    if root is None:
        raise StrandsDeployError(
            f"{path.name}: cannot tell which package is the project",
            str(path),
            "run `uv lock` in the agent folder (its pyproject.toml names the project), or use a requirements.txt",
        )

    # Walk from the project: each package is installed under the OR of the conditions (markers)
    # of the paths that reach it; a package reached without a marker is installed everywhere.
    TRUE: _Conds = frozenset({frozenset()})
    reached: dict[int, _Conds] = {}
    extras_of: dict[int, set[str]] = {}
    chosen: dict[int, dict[str, Any]] = {}
    work: list[tuple[dict[str, Any], _Conds, frozenset[str]]] = [(root, TRUE, frozenset())]
    declared: set[str] = set()
    while work:
        pkg, conds, extras = work.pop()
        for dep in _edges(pkg, extras):
            if pkg is root:
                declared.add(normalize(dep["name"]))
            marker = dep.get("marker")
            child_conds: _Conds = frozenset(c | {marker} if marker else c for c in conds)
            for child in _lookup(by_name, dep):
                if child is root:
                    continue
                key = id(child)
                chosen[key] = child
                before = reached.get(key, frozenset())
                merged = _merge(before, child_conds, TRUE)
                child_extras = frozenset(dep.get("extra") or [])
                had = extras_of.setdefault(key, set())
                if merged != before or not child_extras <= had:
                    reached[key] = merged
                    had |= child_extras
                    work.append((child, merged, frozenset(had)))

    lines: list[str] = []
    names: set[str] = set()
    local = False
    for key, pkg in sorted(
        chosen.items(), key=lambda kv: (normalize(kv[1]["name"]), str(kv[1].get("version")))
    ):
        line, is_local = _lock_line(path, pkg)
        if line is None:
            continue
        local = local or is_local
        conds = reached[key]
        if conds != TRUE:
            line += " ; " + " or ".join(
                "(" + " and ".join(f"({m})" for m in sorted(c)) + ")" for c in sorted(conds, key=sorted)
            )
        lines.append(line)
        names.add(normalize(pkg["name"]))
    body = "\n".join(lines).encode()
    return Requirements(
        source=path,
        lines=tuple(lines),
        files=(path,),
        names=frozenset(names),
        declared=frozenset(declared),
        closed=True,
        local=local,
        _digest=(b"uv.lock\0" + body,),
    )


def _merge(before: _Conds, new: _Conds, true: _Conds) -> _Conds:
    merged = before | new
    if frozenset() in merged or len(merged) > _MAX_CONDITIONS:
        return true
    # drop a condition implied by a weaker one (A or (A and B) is A)
    return frozenset(c for c in merged if not any(o < c for o in merged))


def _lock_root(path: Path, packages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The project's own entry: the one the agent's pyproject.toml names, else the package whose
    source is the lock's own folder (``editable = "."`` or ``virtual = "."``)."""
    pyproject = path.parent / PYPROJECT
    if _is_file(pyproject):
        project = _load_toml(pyproject).get("project")
        if isinstance(project, dict) and isinstance(project.get("name"), str):
            want = normalize(project["name"])
            for pkg in packages:
                if normalize(pkg["name"]) == want and _is_workspace(pkg):
                    return pkg
    for pkg in packages:
        source = pkg.get("source") or {}
        if source.get("editable") == "." or source.get("virtual") == ".":
            return pkg
    return None


def _is_workspace(pkg: dict[str, Any]) -> bool:
    source = pkg.get("source") or {}
    return "editable" in source or "virtual" in source


def _edges(pkg: dict[str, Any], extras: Iterable[str]) -> list[dict[str, Any]]:
    deps = [d for d in pkg.get("dependencies") or [] if isinstance(d, dict) and "name" in d]
    optional = pkg.get("optional-dependencies") or {}
    for extra in sorted(extras):
        deps += [d for d in optional.get(extra) or [] if isinstance(d, dict) and "name" in d]
    return deps


def _lookup(by_name: dict[str, list[dict[str, Any]]], dep: dict[str, Any]) -> list[dict[str, Any]]:
    candidates = by_name.get(normalize(dep["name"]), [])
    if "version" in dep:
        candidates = [p for p in candidates if p.get("version") == dep["version"]] or candidates
    return candidates


def _lock_line(path: Path, pkg: dict[str, Any]) -> tuple[str | None, bool]:
    """(pip requirement for a locked package, is it a local path); None for a virtual package."""
    name, version = pkg["name"], pkg.get("version")
    source = pkg.get("source") or {}
    if "registry" in source or not source:
        return (f"{name}=={version}" if version else name), False
    if "git" in source:
        url = str(source["git"])
        base, _, commit = url.partition("#")
        base, _, query = base.partition("?")
        ref = commit or dict(q.split("=", 1) for q in query.split("&") if "=" in q).get("rev", "")
        sub = dict(q.split("=", 1) for q in query.split("&") if "=" in q).get("subdirectory")
        return f"{name} @ git+{base}{'@' + ref if ref else ''}{'#subdirectory=' + sub if sub else ''}", False
    if "url" in source:
        return f"{name} @ {source['url']}", False
    for kind in ("editable", "directory", "path"):
        if kind in source:
            return f"{name} @ {(path.parent / str(source[kind])).resolve().as_uri()}", True
    return None, False  # virtual: nothing to install


# --- shared -------------------------------------------------------------------------------------


def _finish(reqs: Requirements) -> Requirements:
    """Add what the runtime adapter needs: mangum for an ASGI app that does not declare it."""
    if reqs.declared & ASGI_FRAMEWORKS and "mangum" not in reqs.names:
        return Requirements(
            source=reqs.source,
            lines=(*reqs.lines, MANGUM),
            files=reqs.files,
            names=reqs.names | {"mangum"},
            declared=reqs.declared,
            added=(*reqs.added, MANGUM),
            closed=reqs.closed,
            opaque=reqs.opaque,
            local=reqs.local,
            _digest=reqs._digest,
        )
    return reqs


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False
