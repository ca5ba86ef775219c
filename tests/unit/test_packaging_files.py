"""issue 10 (defect 6): packaging an agent folder never blocks on a FIFO, never hangs on a
symlink loop, never ships a file from outside the folder; hash and zip agree on the files."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from strands_deploy.errors import StrandsDeployError
from strands_deploy.packaging.build import build_code_zip
from strands_deploy.packaging.hashing import ADAPTER_NAME, code_hash, iter_code_files


def agent(tmp_path: Path) -> Path:
    folder = tmp_path / "proj" / "agents" / "bot"
    (folder / "lib").mkdir(parents=True)
    (folder / "agent.py").write_text("agent = None\n")
    (folder / "lib" / "tools.py").write_text("X = 1\n")
    (folder / "requirements.txt").write_text("strands-agents\n")
    return folder


def zipped(folder: Path, tmp_path: Path) -> list[str]:
    project = folder.parent.parent
    out = build_code_zip(project, "agents/bot", code_hash(folder), tmp_path / "cache")
    with zipfile.ZipFile(out) as zf:
        return sorted(n for n in zf.namelist() if n != ADAPTER_NAME)


def in_time(fn, seconds: float = 5.0):  # type: ignore[no-untyped-def]
    """Run fn in a thread; fail (instead of hanging the suite) if it blocks."""
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            result["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "blocked"
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result.get("value")


def test_hash_and_zip_agree_and_keep_the_historic_order(tmp_path: Path) -> None:
    folder = agent(tmp_path)
    (folder / "b.py").write_text("")
    names = [rel for rel, _ in iter_code_files(folder)]
    assert names == ["agent.py", "b.py", "lib/tools.py"]  # a folder's files, then its subfolders
    assert zipped(folder, tmp_path) == sorted(names)


def test_fifo_socket_and_device_are_skipped_not_read(tmp_path: Path) -> None:
    folder = agent(tmp_path)
    clean = code_hash(agent(tmp_path / "clean"))
    os.mkfifo(folder / "pipe")  # opening it for reading would block forever
    os.mkfifo(folder / "lib" / "pipe2.py")
    (folder / "linked-pipe").symlink_to("pipe")
    sock = socket.socket(socket.AF_UNIX)
    with contextlib.suppress(OSError):  # AF_UNIX paths are short: the FIFOs still test it
        sock.bind(str(folder / "s.sock"))
    with contextlib.suppress(OSError):  # needs CAP_MKNOD
        os.mknod(folder / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    try:
        assert in_time(lambda: code_hash(folder)) == clean  # the same files as a clean folder
        assert in_time(lambda: [rel for rel, _ in iter_code_files(folder)]) == ["agent.py", "lib/tools.py"]
        assert in_time(lambda: zipped(folder, tmp_path)) == ["agent.py", "lib/tools.py"]
    finally:
        sock.close()


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    folder = agent(tmp_path)
    (folder / "lib" / "up").symlink_to("..")  # back to the agent folder
    (folder / "self").symlink_to("self")  # a link to itself
    (folder / "x1").symlink_to("x2")
    (folder / "x2").symlink_to("x1")
    (folder / "dangling.py").symlink_to("missing.py")
    names = in_time(lambda: [rel for rel, _ in iter_code_files(folder)])
    assert names == ["agent.py", "lib/tools.py"]
    assert in_time(lambda: code_hash(folder))


def test_symlinks_inside_the_folder_are_followed(tmp_path: Path) -> None:
    folder = agent(tmp_path)
    (folder / "shared").mkdir()
    (folder / "shared" / "prompts.txt").write_text("be nice")
    (folder / "prompts.txt").symlink_to("shared/prompts.txt")
    (folder / "lib" / "shared").symlink_to("../shared")
    names = [rel for rel, _ in iter_code_files(folder)]
    assert names == [
        "agent.py",
        "prompts.txt",
        "lib/tools.py",
        "lib/shared/prompts.txt",
        "shared/prompts.txt",
    ]
    before = code_hash(folder)
    (folder / "shared" / "prompts.txt").write_text("be very nice")
    assert code_hash(folder) != before  # the content behind the link counts
    assert "lib/shared/prompts.txt" in zipped(folder, tmp_path)


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_symlink_outside_the_folder_is_refused(tmp_path: Path, kind: str) -> None:
    folder = agent(tmp_path)
    secrets = tmp_path / "home" / ".aws"
    secrets.mkdir(parents=True)
    (secrets / "credentials").write_text("[default]\naws_secret_access_key = SECRET\n")
    link = folder / "lib" / ("creds" if kind == "file" else "aws")
    link.symlink_to(secrets / "credentials" if kind == "file" else secrets)
    target = os.path.realpath(link)
    for run in (lambda: code_hash(folder), lambda: zipped(folder, tmp_path)):
        with pytest.raises(StrandsDeployError) as info:
            run()
        assert info.value.where == str(link)
        assert f"lib/{link.name} is a symlink to {target}, outside the agent folder" in info.value.what
        assert info.value.fix and "never packaged" in info.value.fix
    assert not list((tmp_path / "cache").rglob("*.zip"))  # no zip with the secret in it


def test_excluded_links_are_not_judged(tmp_path: Path) -> None:
    # a virtualenv or a shared requirements file linked from elsewhere is never packaged anyway
    folder = agent(tmp_path)
    (tmp_path / "venv").mkdir()
    (folder / ".venv").symlink_to(tmp_path / "venv")
    os.unlink(folder / "requirements.txt")
    (tmp_path / "reqs.txt").write_text("strands-agents\n")
    (folder / "requirements.txt").symlink_to(tmp_path / "reqs.txt")
    assert [rel for rel, _ in iter_code_files(folder)] == ["agent.py", "lib/tools.py"]
