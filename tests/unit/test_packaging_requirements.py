"""Real agents deploy unchanged (packaging): requirements from requirements.txt with its includes,
pyproject.toml or uv.lock; mangum for ASGI apps; one layer for identical requirements; layers built
once per machine in the shared cache."""

from __future__ import annotations

import base64
import hashlib
import os
import textwrap
import zipfile
from pathlib import Path

import pytest

from strands_deploy.config.loader import load_project
from strands_deploy.errors import StrandsDeployError
from strands_deploy.packaging.build import build_layer_zip
from strands_deploy.packaging.cache import ENV_VAR, shared_cache_dir
from strands_deploy.packaging.hashing import file_hash
from strands_deploy.packaging.requirements import (
    MANGUM,
    has_requirements_source,
    load_requirements,
    read_requirements,
    resolve_requirements,
)
from strands_deploy.synth.context import SynthContext
from strands_deploy.synth.graph import Ref
from strands_deploy.synth.layers import ARTIFACTS, artifacts_bucket, code_artifacts, layers_for
from tests.helpers import write_project


@pytest.fixture(autouse=True)
def _shared_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "user-cache"
    monkeypatch.setenv(ENV_VAR, str(cache))
    return cache


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# --- requirements files -----------------------------------------------------------------------------


def test_a_plain_file_keeps_its_historic_hash(tmp_path: Path) -> None:
    req = write(tmp_path / "a" / "requirements.txt", "strands-agents>=1.0  # the SDK\n\nPyYAML\n")
    reqs = resolve_requirements(tmp_path / "a")
    assert reqs.lines == ("strands-agents>=1.0", "PyYAML")
    assert reqs.names == {"strands-agents", "pyyaml"}
    assert reqs.files == (req,)
    # existing deployments keep their layer: the same hash as before includes were followed
    assert reqs.hash("aws", "python3.12", "arm64") == file_hash(req, "aws", "python3.12", "arm64")
    assert read_requirements(req) == ["strands-agents>=1.0", "PyYAML"]


def test_includes_are_followed_relative_to_the_including_file_and_hashed(tmp_path: Path) -> None:
    folder = tmp_path / "agent"
    write(folder / "requirements.txt", "-r ../shared/base.txt\n--constraint ../shared/pins.txt\nrequests\n")
    write(tmp_path / "shared" / "base.txt", "strands-agents\n-rextra.txt\n")
    extra = write(tmp_path / "shared" / "extra.txt", "httpx \\\n  >=0.27\n")
    pins = write(tmp_path / "shared" / "pins.txt", "httpx==0.27.2\n")
    reqs = resolve_requirements(folder)
    assert reqs.lines == (
        "strands-agents",
        "httpx   >=0.27",
        f"-c {pins.resolve()}",
        "requests",
    )
    assert reqs.names == {"strands-agents", "httpx", "requests"}
    assert [p.name for p in reqs.files] == ["requirements.txt", "base.txt", "extra.txt", "pins.txt"]
    before = reqs.hash("aws")
    extra.write_text("httpx>=0.28\n")  # a change in an included file is a change of the layer
    assert resolve_requirements(folder).hash("aws") != before
    pins.write_text("httpx==0.28.1\n")
    assert len({before, resolve_requirements(folder).hash("aws")}) == 2


def test_an_include_cycle_is_refused_and_a_diamond_is_read_once(tmp_path: Path) -> None:
    folder = tmp_path / "agent"
    write(folder / "requirements.txt", "-r a.txt\n-r b.txt\n")
    write(folder / "a.txt", "-r common.txt\nrich\n")
    write(folder / "b.txt", "-r common.txt\n")
    write(folder / "common.txt", "strands-agents\n")
    assert resolve_requirements(folder).lines == ("strands-agents", "rich")

    write(folder / "common.txt", "-r requirements.txt\n")
    with pytest.raises(StrandsDeployError) as info:
        resolve_requirements(folder)
    assert "cycle: requirements.txt → a.txt → common.txt → requirements.txt" in info.value.what
    assert info.value.fix and "no file includes itself" in info.value.fix


def test_a_missing_include_names_the_line(tmp_path: Path) -> None:
    req = write(tmp_path / "requirements.txt", "strands-agents\n-r nope.txt\n")
    with pytest.raises(StrandsDeployError) as info:
        load_requirements(req)
    assert info.value.where == f"{req}:2"
    assert "includes nope.txt, which does not exist" in info.value.what


def test_options_urls_and_paths(tmp_path: Path) -> None:
    req = write(
        tmp_path / "requirements.txt",
        """\
        --index-url https://pypi.example.com/simple
        mypkg==1.0 --hash=sha256:abc
        git+https://github.com/org/tool.git@v1#egg=org-tool
        https://example.com/pkg.tar.gz#sha=1
        """,
    )
    reqs = load_requirements(req)
    assert reqs.names == {"mypkg", "org-tool"}
    assert reqs.opaque  # the bare URL's distribution is unknown
    assert not reqs.local
    assert reqs.requirements == [line for line in reqs.lines if not line.startswith("--index-url")]
    write(req, "./libs/helpers\n")
    assert load_requirements(req).local and load_requirements(req).opaque


# --- pyproject.toml and uv.lock ---------------------------------------------------------------------


def test_pyproject_dependencies_when_there_is_no_requirements_txt(tmp_path: Path) -> None:
    folder = tmp_path / "agent"
    write(
        folder / "pyproject.toml",
        """\
        [project]
        name = "support-agent"
        version = "0.1.0"
        dependencies = ["strands-agents>=1.0", "PyYAML ; python_version >= '3.10'"]
        [project.optional-dependencies]
        dev = ["pytest"]
        """,
    )
    assert has_requirements_source(folder)
    reqs = resolve_requirements(folder)
    assert reqs.label == "pyproject.toml"
    assert reqs.lines == ("strands-agents>=1.0", "PyYAML ; python_version >= '3.10'")
    assert reqs.names == {"strands-agents", "pyyaml"}
    before = reqs.hash("aws")
    # the project's own version is not a dependency change
    text = (folder / "pyproject.toml").read_text().replace('version = "0.1.0"', 'version = "0.2.0"')
    (folder / "pyproject.toml").write_text(text)
    assert resolve_requirements(folder).hash("aws") == before
    # a requirements.txt takes precedence
    write(folder / "requirements.txt", "rich\n")
    assert resolve_requirements(folder).lines == ("rich",)


def test_pyproject_without_a_project_table_or_with_dynamic_dependencies(tmp_path: Path) -> None:
    folder = tmp_path / "agent"
    write(folder / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    assert not has_requirements_source(folder)
    assert resolve_requirements(folder).lines == ()
    write(folder / "pyproject.toml", '[project]\nname = "x"\ndynamic = ["dependencies"]\n')
    with pytest.raises(StrandsDeployError) as info:
        resolve_requirements(folder)
    assert "dynamic" in info.value.what


UV_LOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "support-agent"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "httpx", extra = ["http2"] },
    { name = "strands-agents" },
    { name = "pywin32-ctypes", marker = "sys_platform == 'win32'" },
]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "strands-agents"
version = "1.2.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "pydantic" }, { name = "colorama", marker = "sys_platform == 'win32'" }]

[[package]]
name = "pydantic"
version = "2.9.2"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "httpx"
version = "0.27.2"
source = { registry = "https://pypi.org/simple" }

[package.optional-dependencies]
http2 = [{ name = "h2" }]
brotli = [{ name = "brotli" }]

[[package]]
name = "h2"
version = "4.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "brotli"
version = "1.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pywin32-ctypes"
version = "0.2.3"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "colorama" }]

[[package]]
name = "pytest"
version = "8.3.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "tool"
version = "0.3.0"
source = { git = "https://github.com/org/tool?rev=main#0123abcd" }
"""


def test_uv_lock_gives_the_resolved_packages_pinned_without_the_project(tmp_path: Path) -> None:
    folder = tmp_path / "agent"
    write(folder / "pyproject.toml", '[project]\nname = "support-agent"\ndependencies = ["strands-agents"]\n')
    write(folder / "uv.lock", UV_LOCK)
    reqs = resolve_requirements(folder)
    assert reqs.label == "uv.lock"  # preferred over pyproject.toml: it pins what was tested
    win = "sys_platform == 'win32'"
    assert reqs.lines == (
        "colorama==0.4.6 ; ((sys_platform == 'win32'))",
        "h2==4.1.0",  # the extra asked for, not the other one
        "httpx==0.27.2",
        "pydantic==2.9.2",
        f"pywin32-ctypes==0.2.3 ; (({win}))",
        "strands-agents==1.2.0",
    )
    assert reqs.closed and not reqs.opaque
    assert reqs.declared == {"httpx", "strands-agents", "pywin32-ctypes"}
    assert "pytest" not in reqs.names and "support-agent" not in reqs.names
    assert {"pydantic", "h2"} <= reqs.names


def test_uv_lock_git_and_local_sources(tmp_path: Path) -> None:
    folder = tmp_path / "agent"
    lock = UV_LOCK.replace(
        '{ name = "strands-agents" },',
        '{ name = "strands-agents" },\n    { name = "tool" }, { name = "lib" },',
    )
    lock += '\n[[package]]\nname = "lib"\nversion = "0.1.0"\nsource = { editable = "../lib" }\n'
    write(folder / "uv.lock", lock)
    reqs = resolve_requirements(folder)
    assert "tool @ git+https://github.com/org/tool@0123abcd" in reqs.lines
    assert f"lib @ {(tmp_path / 'lib').resolve().as_uri()}" in reqs.lines
    assert reqs.local


def test_an_explicit_requirements_file_must_exist(tmp_path: Path) -> None:
    folder = tmp_path / "agent"
    write(folder / "pyproject.toml", '[project]\nname = "x"\ndependencies = ["rich"]\n')
    with pytest.raises(StrandsDeployError) as info:
        resolve_requirements(folder, "requirements/prod.txt")
    assert "requirements/prod.txt does not exist" in info.value.what
    assert not has_requirements_source(folder, "requirements/prod.txt")
    assert resolve_requirements(folder, "pyproject.toml").lines == ("rich",)
    assert resolve_requirements(tmp_path / "empty").source is None


# --- ASGI agents get mangum --------------------------------------------------------------------------


def test_asgi_apps_get_mangum_in_their_layer(tmp_path: Path) -> None:
    req = write(tmp_path / "requirements.txt", "fastapi>=0.110\nstrands-agents\n")
    reqs = load_requirements(req)
    assert reqs.lines[-1] == MANGUM and reqs.added == (MANGUM,)
    assert "mangum" in reqs.names
    assert reqs.hash("aws") != file_hash(req, "aws")  # part of the hash: the layer changes
    write(req, "fastapi\nMangum==0.19\n")
    assert load_requirements(req).added == ()
    write(req, "strands-agents\n")
    assert load_requirements(req).added == ()


# --- one layer for identical requirements ------------------------------------------------------------

PROJECT = """\
project: acme
region: us-east-1
agents:
  a: {path: agents/a}
  b: {path: agents/b}
  c: {path: agents/c}
  d: {path: agents/d, architecture: x86_64}
  e: {path: agents/e}
environments:
  prod: {}
"""


def five_agents(tmp_path: Path, yaml_text: str = PROJECT) -> Path:
    agents = {n: "agent = None\n" for n in "abcde"}
    return write_project(tmp_path / "p", yaml_text, agents=agents, requirements="strands-agents\n")


def synth_context(root: Path, env: str) -> SynthContext:
    return SynthContext(
        project=load_project(root),
        env=env,
        target="local" if env == "local" else "aws",
        account="111122223333",
        secret_value=lambda s: "v",
        fingerprint_key=b"k" * 32,
    )


def test_agents_with_identical_requirements_share_one_layer(tmp_path: Path) -> None:
    root = five_agents(tmp_path)
    (root / "agents" / "c" / "requirements.txt").write_text("strands-agents\nrich\n")
    (root / "agents" / "e" / "requirements.txt").write_text("# nothing\n")
    ctx = synth_context(root, "prod")
    digest = file_hash(root / "agents" / "a" / "requirements.txt", "aws", "python3.12", "arm64")
    shared = f"shared.deps-{digest[:10]}"
    assert layers_for(ctx, "a") == [Ref(shared, "arn")]
    assert layers_for(ctx, "b") == [Ref(shared, "arn")]
    assert layers_for(ctx, "c") == [Ref("agent.c.deps", "arn")]  # alone with its requirements
    assert layers_for(ctx, "d") == [Ref("agent.d.deps", "arn")]  # same file, another architecture
    assert layers_for(ctx, "e") == []  # nothing to install
    layer = ctx.graph.resources[shared]
    assert layer.agent is None
    assert layer.props["name"] == f"acme-prod-deps-{digest[:10]}"
    assert layer.props["requirements_hash"] == digest
    assert layer.props["requirements_file"] == "agents/a/requirements.txt"
    assert layer.props["artifacts_bucket"] == Ref(ARTIFACTS, "name")
    own = ctx.graph.resources["agent.c.deps"]
    assert own.agent == "c" and own.props["name"] == "acme-prod-c-deps"
    bucket = ctx.graph.resources[ARTIFACTS]
    assert bucket.type == "aws.s3.bucket"
    assert bucket.props["name"] == "acme-prod-artifacts-111122223333"
    assert (bucket.props["retain"], bucket.props["versioning"], bucket.props["expire_days"]) == (
        False,
        False,
        7,
    )


def test_a_single_agent_keeps_its_layer_address_and_hash(tmp_path: Path) -> None:
    one = "project: acme\nregion: us-east-1\nagents:\n  a: {path: agents/a}\nenvironments:\n  prod: {}\n"
    root = write_project(tmp_path / "p", one, agents={"a": "agent = None\n"})
    ctx = synth_context(root, "prod")
    layers_for(ctx, "a")
    req = root / "agents" / "a" / "requirements.txt"
    assert ctx.graph.resources["agent.a.deps"].props["requirements_hash"] == file_hash(
        req, "aws", "python3.12", "arm64"
    )


def test_emulated_environments_have_no_artifacts_bucket(tmp_path: Path) -> None:
    root = five_agents(tmp_path)
    ctx = synth_context(root, "local")
    assert artifacts_bucket(ctx) is None
    layers_for(ctx, "d")
    assert "artifacts_bucket" not in ctx.graph.resources["agent.d.deps"].props
    (shared,) = layers_for(ctx, "a")
    assert "artifacts_bucket" not in ctx.graph.resources[shared.address].props
    assert ARTIFACTS not in ctx.graph.resources


def test_only_large_code_names_the_artifacts_bucket(tmp_path: Path) -> None:
    root = five_agents(tmp_path)
    ctx = synth_context(root, "prod")
    folder = root / "agents" / "a"
    assert code_artifacts(ctx, folder) == {}
    assert ARTIFACTS not in ctx.graph.resources
    with open(folder / "model.bin", "wb") as fh:  # sparse: no disk used
        fh.truncate(50_000_001)
    assert code_artifacts(ctx, folder) == {"artifacts_bucket": Ref(ARTIFACTS, "name")}
    assert code_artifacts(synth_context(root, "local"), folder) == {}


def test_an_agent_whose_requirements_cannot_be_read_fails_alone(tmp_path: Path) -> None:
    root = five_agents(tmp_path)
    (root / "agents" / "c" / "requirements.txt").write_text("-r missing.txt\n")
    ctx = synth_context(root, "prod")
    assert layers_for(ctx, "a")
    with pytest.raises(StrandsDeployError) as info:
        layers_for(ctx, "c")
    assert info.value.what.startswith("agent 'c': requirements.txt includes missing.txt")


# --- building layers: the shared cache ----------------------------------------------------------------


def make_wheel(folder: Path, name: str = "tinypkg", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel, so pip installs without the network."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": b"VALUE = 42\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(wheel, "w") as zf:
        for arc, data in files.items():
            zf.writestr(arc, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arc},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def test_layers_for_aws_are_built_once_per_machine(tmp_path: Path, _shared_cache: Path) -> None:
    assert shared_cache_dir() == _shared_cache
    projects = [tmp_path / "one", tmp_path / "two"]
    for project in projects:
        folder = project / "agents" / "bot"
        make_wheel(folder / "wheels")
        write(folder / "base.txt", "tinypkg==1.0\n")
        # an included file and a relative --find-links, as pip reads them in the user's folder
        write(folder / "requirements.txt", "--no-index\n--find-links ./wheels\n-r base.txt\n")
    req = projects[0] / "agents" / "bot" / "requirements.txt"
    digest = load_requirements(req).hash("aws", "python3.12", "x86_64")

    def build(project: Path) -> Path:
        return build_layer_zip(
            project, "agents/bot/requirements.txt", digest, "python3.12", "x86_64", "aws", project / "cache"
        )

    first = build(projects[0])
    shared = _shared_cache / "layers" / first.name
    assert shared.exists() and first == projects[0] / "cache" / "layers" / first.name
    with zipfile.ZipFile(first) as zf:
        assert "python/tinypkg/__init__.py" in zf.namelist()
    # the second project takes the built layer: no pip run (its wheel is gone: pip would fail)
    (projects[1] / "agents" / "bot" / "wheels" / "tinypkg-1.0-py3-none-any.whl").unlink()
    second = build(projects[1])
    assert second.read_bytes() == first.read_bytes()
    assert os.stat(second).st_ino == os.stat(shared).st_ino  # a hard link, not a copy
    assert not list(shared.parent.glob("*.tmp"))


def test_layers_for_the_local_cloud_stay_in_the_project(tmp_path: Path, _shared_cache: Path) -> None:
    write(tmp_path / "agents" / "bot" / "requirements.txt", "# nothing to install\n")
    out = build_layer_zip(
        tmp_path, "agents/bot/requirements.txt", "h1", "python3.12", "arm64", "local", tmp_path / "cache"
    )
    assert out.exists() and not (_shared_cache / "layers").exists()


def test_a_failed_install_names_the_requirements_file(tmp_path: Path) -> None:
    write(tmp_path / "agents" / "bot" / "requirements.txt", "--no-index\nsurely-not-a-package-xyz==1\n")
    with pytest.raises(StrandsDeployError) as info:
        build_layer_zip(
            tmp_path, "agents/bot/requirements.txt", "h2", "python3.12", "arm64", "aws", tmp_path / "cache"
        )
    assert info.value.where == "agents/bot/requirements.txt"
    assert not list((tmp_path / "cache" / "layers").glob("*.zip"))


def test_an_invalid_pyproject_is_an_error_not_silence(tmp_path: Path) -> None:
    write(tmp_path / "agent" / "pyproject.toml", "[project\nname = 'x'\n")
    with pytest.raises(StrandsDeployError, match="not valid TOML"):
        resolve_requirements(tmp_path / "agent")
