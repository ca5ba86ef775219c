"""Native code built for another platform stays off a worker's sys.path (the layer compat filter)."""

from __future__ import annotations

import struct
from pathlib import Path

from strands_deploy.local.compat import filter_site, loadable


def _elf(machine: int) -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\0" * 11 + struct.pack("<H", machine) + b"\0" * 40


def _dist(site: Path, name: str, files: dict[str, bytes], requires: list[str] | None = None) -> None:
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    meta = [f"Name: {name}", "Version: 1.0", *(f"Requires-Dist: {r}" for r in requires or [])]
    (info / "METADATA").write_text("\n".join(meta) + "\n\nlong description\n")
    rows = []
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
        rows.append(f"{rel},,")
    (info / "RECORD").write_text("\n".join([*rows, f"{info.name}/RECORD,,"]) + "\n")


def test_foreign_extension_and_its_dependents_are_skipped(tmp_path: Path) -> None:
    site = tmp_path / "python"
    _dist(
        site,
        "fake_native",
        {
            "fake_native/__init__.py": b"",
            "fake_native/_core.cpython-312-aarch64-linux-gnu.so": _elf(183),
        },
    )
    _dist(site, "needs-native", {"needs_native/__init__.py": b""}, ["fake-native>=1.0"])
    _dist(site, "optional-user", {"optional_user/__init__.py": b""}, ['fake-native; extra == "speed"'])
    _dist(site, "purelib", {"purelib.py": b"X = 1\n"})
    notes = filter_site(site, tmp_path / ".skipped")
    assert any(n.startswith("fake-native: built for another platform") for n in notes)
    assert any(n.startswith("needs-native: depends on fake-native") for n in notes)
    remaining = sorted(p.name for p in site.iterdir())
    assert remaining == [
        "optional_user",
        "optional_user-1.0.dist-info",
        "purelib-1.0.dist-info",
        "purelib.py",
    ]
    assert (tmp_path / ".skipped" / "fake_native").is_dir()


def test_this_interpreters_own_extensions_are_loadable() -> None:
    import pydantic_core._pydantic_core as native

    assert loadable(Path(str(native.__file__)))
    assert not loadable(Path("x.cpython-27-sparc-linux-gnu.so"))
