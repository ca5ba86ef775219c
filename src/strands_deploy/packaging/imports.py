"""Imports an agent's code makes that its requirements do not provide.

Locally an agent runs with the host's packages, so a missing requirement goes unnoticed until the
function fails on AWS with ``No module named ...``. This check reads every ``.py`` file of the
agent folder (the code zip's own walker) and reports each absolute import whose top-level module
is provided by none of:

- the standard library, the agent's own modules, the runtime adapter (``_strands_runtime``), and
  what the Lambda Python runtime ships (boto3 and its dependencies);
- the declared distributions: their import names from the running interpreter's metadata
  (``importlib.metadata.packages_distributions()``) or a table of well-known names that differ
  (PyYAML → ``yaml``), and, for those installed here, everything they require, transitively.

An import is reported only when it is known *not* to be provided: by a distribution installed
here or named in the table, while the requirements are fully known (a declared distribution that
is not installed here may bring anything along; a lock file lists everything). Imports guarded by
``try: ... except ImportError`` and ``if TYPE_CHECKING:`` are optional and never reported.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from strands_deploy.errors import StrandsDeployError
from strands_deploy.packaging.hashing import ADAPTER_NAME, iter_code_files
from strands_deploy.packaging.requirements import normalize, resolve_requirements

if TYPE_CHECKING:
    from strands_deploy.config.loader import Project

# what the Lambda Python runtime provides without a layer
LAMBDA_RUNTIME = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "awslambdaric"}
)
ALWAYS_AVAILABLE = LAMBDA_RUNTIME | {ADAPTER_NAME.removesuffix(".py"), "__main__"}

# distribution (normalized) → the top-level modules it installs, where they differ from its name
KNOWN_IMPORTS: dict[str, tuple[str, ...]] = {
    "attrs": ("attr", "attrs"),
    "azure-core": ("azure",),
    "azure-identity": ("azure",),
    "beautifulsoup4": ("bs4",),
    "discord-py": ("discord",),
    "dnspython": ("dns",),
    "faiss-cpu": ("faiss",),
    "google-api-python-client": ("googleapiclient",),
    "google-auth": ("google",),
    "google-cloud-storage": ("google",),
    "google-genai": ("google",),
    "google-generativeai": ("google",),
    "grpcio": ("grpc",),
    "msgpack-python": ("msgpack",),
    "mysqlclient": ("MySQLdb",),
    "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",),
    "opensearch-py": ("opensearchpy",),
    "opentelemetry-api": ("opentelemetry",),
    "opentelemetry-sdk": ("opentelemetry",),
    "pillow": ("PIL",),
    "pinecone-client": ("pinecone",),
    "protobuf": ("google",),
    "psycopg-binary": ("psycopg",),
    "psycopg2-binary": ("psycopg2",),
    "pycryptodome": ("Crypto",),
    "pycryptodomex": ("Cryptodome",),
    "pygithub": ("github",),
    "pyjwt": ("jwt",),
    "pymongo": ("pymongo", "bson", "gridfs"),
    "pymupdf": ("fitz", "pymupdf"),
    "pyopenssl": ("OpenSSL",),
    "pyserial": ("serial",),
    "python-dateutil": ("dateutil",),
    "python-docx": ("docx",),
    "python-dotenv": ("dotenv",),
    "python-jose": ("jose",),
    "python-json-logger": ("pythonjsonlogger",),
    "python-magic": ("magic",),
    "python-multipart": ("multipart", "python_multipart"),
    "python-pptx": ("pptx",),
    "pyyaml": ("yaml",),
    "ruamel-yaml": ("ruamel",),
    "scikit-image": ("skimage",),
    "scikit-learn": ("sklearn",),
    "setuptools": ("setuptools", "pkg_resources", "_distutils_hack"),
    "strands-agents": ("strands",),
    "strands-agents-tools": ("strands_tools",),
    "tavily-python": ("tavily",),
    "typing-extensions": ("typing_extensions",),
    "pydantic-settings": ("pydantic_settings",),
    "websocket-client": ("websocket",),
}

_GUARD_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass(frozen=True)
class ImportSite:
    module: str  # the top-level module
    file: Path
    line: int
    col: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.col + 1}"


def undeclared_imports(
    folder: Path,
    requirement_names: set[str] | frozenset[str],
    *,
    closed: bool = False,
    source: str = "requirements.txt",
) -> list[StrandsDeployError]:
    """One StrandsDeployError per top-level module the agent in ``folder`` imports that the
    distributions ``requirement_names`` do not provide (at its first import, file:line:col).

    ``closed``: the names are everything that gets installed (a lock file), so a distribution
    that is not installed here brings nothing else along. ``source`` names the requirements file
    in the messages.
    """
    names = {normalize(n) for n in requirement_names}
    local = _local_modules(folder)
    # Most imports are the standard library, the agent's own modules or a declared distribution
    # of the same name: only what is left needs the (slow, ~0.3 s) scan of installed packages.
    sites = [s for s in iter_imports(folder) if not _ignored(s.module, local)]
    obvious = _obviously_provided(names)
    sites = [s for s in sites if s.module.lower() not in obvious]
    if not sites:
        return []
    provided, unknown = _available(names, closed=closed)
    owners = _module_owners()
    problems: list[StrandsDeployError] = []
    reported: set[str] = set()
    for site in sites:
        module = site.module
        key = module.lower()
        if key in reported or key in provided:
            continue
        candidates = owners.get(key, ())
        if not candidates or unknown:
            continue  # cannot tell what provides it, or a declared package may bring it along
        reported.add(key)
        dist = candidates[0]
        problems.append(
            StrandsDeployError(
                f"{site.file.name} imports {module!r}, which the agent's requirements do not provide "
                f"(it comes from {dist}, not in {source}); on AWS the import fails",
                site.where,
                f"add {dist} to {source} (or guard the import with try/except ImportError if it is optional)",
            )
        )
    return problems


def import_problems(project: Project, agents: list[str] | None = None) -> list[StrandsDeployError]:
    """:func:`undeclared_imports` for the project's agents (all, or those named), each problem
    naming its agent; problems reading an agent's requirements (a missing include, a cycle) too.
    Agents that do not exist or whose folder is missing are skipped (the configuration check
    reports them)."""
    problems: list[StrandsDeployError] = []
    for name in agents if agents is not None else sorted(project.agents):
        agent = project.agents.get(name)
        if agent is None:
            continue
        folder = project.root / agent.path
        try:
            if not folder.is_dir():
                continue
            reqs = resolve_requirements(folder, agent.requirements)
            if reqs.opaque:
                continue  # a requirement without a name (a path, a URL) may provide anything
            found = undeclared_imports(folder, reqs.names, closed=reqs.closed, source=reqs.label)
        except StrandsDeployError as e:
            found = [e]
        except OSError:
            continue
        problems += [StrandsDeployError(f"agent {name!r}: {p.what}", p.where, p.fix) for p in found]
    return problems


# --- reading the code -----------------------------------------------------------------------------


def iter_imports(folder: Path) -> Iterator[ImportSite]:
    """Every unguarded absolute import in the agent's ``.py`` files, in file order. Files that do
    not parse are skipped (the entry file's syntax is checked elsewhere)."""
    for rel, path in iter_code_files(folder):
        if not rel.endswith(".py"):
            continue
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, RecursionError, OSError):
            continue
        for module, line, col in _imports(tree):
            yield ImportSite(module, path, line, col)


def _imports(tree: ast.AST) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.extend((a.name.split(".")[0], node.lineno, node.col_offset) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.append((node.module.split(".")[0], node.lineno, node.col_offset))
        elif isinstance(node, (ast.Try, ast.TryStar)):
            if not any(_catches_import_error(h) for h in node.handlers):
                visit_all(node.body)
            for handler in node.handlers:
                visit_all(handler.body)
            visit_all(node.orelse)
            visit_all(node.finalbody)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            visit_all(node.orelse)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child)

    def visit_all(nodes: Iterable[ast.AST]) -> None:
        for n in nodes:
            visit(n)

    visit(tree)
    return found


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type
    if kinds is None:
        return True  # a bare except
    items = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
    for item in items:
        name = item.id if isinstance(item, ast.Name) else item.attr if isinstance(item, ast.Attribute) else ""
        if name in _GUARD_ERRORS:
            return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _local_modules(folder: Path) -> set[str]:
    """Names importable from the agent's own files: its folders and module files, at any depth
    (code that puts a subfolder on ``sys.path`` imports those too)."""
    names: set[str] = set()
    for rel, _ in iter_code_files(folder):
        parts = rel.split("/")
        names.update(p.lower() for p in parts[:-1])
        leaf = parts[-1]
        if leaf.endswith((".py", ".so", ".pyd")):
            names.add(leaf.split(".", 1)[0].lower())
    return names


def _ignored(module: str, local: set[str]) -> bool:
    return (
        module in sys.stdlib_module_names
        or module in sys.builtin_module_names
        or module in ALWAYS_AVAILABLE
        or module.lower() in local
    )


# --- what distributions provide -------------------------------------------------------------------


@lru_cache(maxsize=1)
def _installed() -> dict[str, tuple[str, ...]]:
    """Installed distribution (normalized) → the top-level modules it provides."""
    from importlib.metadata import packages_distributions

    provides: dict[str, set[str]] = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            provides.setdefault(normalize(dist), set()).add(module)
    return {d: tuple(sorted(m)) for d, m in provides.items()}


@lru_cache(maxsize=1)
def _module_owners() -> dict[str, tuple[str, ...]]:
    """Top-level module (lower case) → the distributions known to provide it: installed here,
    or in :data:`KNOWN_IMPORTS`. The spelling shown is the distribution's own where known."""
    from importlib.metadata import PackageNotFoundError, metadata

    owners: dict[str, list[str]] = {}
    for dist, modules in sorted(_installed().items()):
        try:
            shown = str(metadata(dist)["Name"] or dist)
        except PackageNotFoundError:
            shown = dist
        for module in modules:
            owners.setdefault(module.lower(), []).append(shown)
    for dist, modules in KNOWN_IMPORTS.items():
        for module in modules:
            known = owners.setdefault(module.lower(), [])
            if all(normalize(k) != dist for k in known):
                known.append(dist)
    return {m: tuple(d) for m, d in owners.items()}


def _obviously_provided(names: set[str]) -> set[str]:
    """Modules (lower case) the declared distributions provide without looking at what is
    installed: the distribution's own name as a module, and the known import names."""
    out = {n.replace("-", "_") for n in names}
    for n in names:
        out.update(m.lower() for m in KNOWN_IMPORTS.get(n, ()))
    return out


def _available(names: set[str], *, closed: bool) -> tuple[set[str], set[str]]:
    """(modules the distributions ``names`` provide, lower case; the declared ones whose
    dependencies are unknown). Installed distributions' requirements are followed transitively."""
    provided: set[str] = set()
    unknown: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    installed = _installed()
    work: list[tuple[str, frozenset[str]]] = [(n, frozenset()) for n in sorted(names)]
    while work:
        dist, extras = work.pop()
        if (dist, extras) in seen:
            continue
        seen.add((dist, extras))
        provided.add(dist.replace("-", "_"))
        provided.update(m.lower() for m in KNOWN_IMPORTS.get(dist, ()))
        requires = _requires(dist)
        if dist in installed:
            provided.update(m.lower() for m in installed[dist])
        if requires is None:
            # declared but not installed here: what it brings along is unknown (unless the names
            # are a lock file's full list); a dependency of an installed package that is not
            # installed here is one its markers or extras did not ask for
            if not closed and dist in names:
                unknown.add(dist)
            continue
        for requirement in requires:
            parsed = _parse(requirement)
            if parsed is not None and _applies(parsed[2], extras):
                work.append((parsed[0], parsed[1]))
    return provided, unknown


@lru_cache(maxsize=512)
def _requires(dist: str) -> tuple[str, ...] | None:
    """The requirements of an installed distribution; None when it is not installed here."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        return tuple(requires(dist) or ())
    except PackageNotFoundError:
        return None


def _parse(requirement: str) -> tuple[str, frozenset[str], str | None] | None:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return None
    return normalize(req.name), frozenset(req.extras), str(req.marker) if req.marker else None


def _applies(marker: str | None, extras: frozenset[str]) -> bool:
    """Whether a dependency comes along: always unless it belongs to an extra that was not
    asked for (platform markers are not judged: counting a package as provided never fails a
    deploy)."""
    if marker is None or not re.search(r"\bextra\b", marker):
        return True
    from packaging.markers import Marker

    try:
        parsed = Marker(marker)
        return any(parsed.evaluate({"extra": e}) for e in extras)
    except Exception:  # noqa: BLE001 - an unreadable marker: count the dependency
        return True
