"""YAML loading that remembers where every key and value came from (line and column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class Located:
    data: Any
    file: str
    values: dict[Path_, Mark] = field(default_factory=dict)  # where each value starts
    keys: dict[Path_, Mark] = field(default_factory=dict)  # where each mapping key starts
    duplicates: list[tuple[Path_, Mark, Mark]] = field(default_factory=list)

    def where(self, path: Path_, key: bool = False) -> Mark:
        """The closest known position for ``path`` (falls back to its parents, then the file)."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.keys:
                return self.keys[p]
            p = p[:-1]
        return self.values.get((), Mark(self.file, 1, 1))


class YamlSyntaxError(Exception):
    def __init__(self, mark: Mark, problem: str) -> None:
        self.mark = mark
        self.problem = problem
        super().__init__(f"{mark}: {problem}")


def _mark(file: str, node: yaml.Node) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


def load_located(text: str, file: str) -> Located:
    try:
        # libyaml's composer when PyYAML has it (several times faster); marks are the same
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark
        mark = Mark(file, (m.line + 1) if m else 1, (m.column + 1) if m else 1)
        raise YamlSyntaxError(mark, f"YAML syntax error: {e.problem or e}") from None
    loc = Located(None, file)
    if root is None:
        loc.data = None
        return loc
    loader = yaml.SafeLoader("")
    try:
        loc.data = _convert(root, (), loc, loader)
    finally:
        loader.dispose()
    return loc


def _convert(node: yaml.Node, path: Path_, loc: Located, loader: yaml.SafeLoader) -> Any:
    loc.values[path] = _mark(loc.file, node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)  # type: ignore[arg-type]
            if not isinstance(key, (str, int)):
                key = str(key)
            child = (*path, key)
            if key in out:
                loc.duplicates.append((child, loc.keys[child], _mark(loc.file, key_node)))
            loc.keys[child] = _mark(loc.file, key_node)
            out[key] = _convert(value_node, child, loc, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), loc, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)  # type: ignore[arg-type]
