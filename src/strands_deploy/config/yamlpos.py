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
    def __init__(self, mark: Mark, problem: str, fix: str | None = None) -> None:
        self.mark = mark
        self.problem = problem
        self.fix = fix
        super().__init__(f"{mark}: {problem}")


# A few hundred bytes of anchors and aliases can expand to billions of values (the "billion
# laughs"): the composed tree shares nodes, the conversion below would copy them. No real
# configuration comes near this many values, so conversion stops there, in milliseconds.
MAX_NODES = 100_000

_STD = "tag:yaml.org,2002:"
# the only tags a configuration may carry (what plain YAML values resolve to); anything else
# (!!python/object..., CloudFormation's !Sub, custom tags) is refused and never constructed
SCALAR_TAGS = frozenset(_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
MAP_TAG = _STD + "map"
SEQ_TAG = _STD + "seq"
MERGE_TAG = _STD + "merge"


def _mark(file: str, node: yaml.Node) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_STD) if tag.startswith(_STD) else tag


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def load_located(text: str, file: str) -> Located:
    try:
        # libyaml's composer when PyYAML has it (several times faster); marks are the same
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark or e.context_mark
        mark = Mark(file, (m.line + 1) if m else 1, (m.column + 1) if m else 1)
        # never str(e): it names the stream ("<unicode string>"), not the file
        raise YamlSyntaxError(
            mark, f"YAML syntax error: {e.problem or e.context or 'invalid YAML'}"
        ) from None
    except yaml.reader.ReaderError as e:
        line, column = _position(text, e.position)
        raise YamlSyntaxError(
            Mark(file, line, column),
            f"YAML syntax error: unacceptable character #x{e.character:04x}: control characters are not allowed"
            if isinstance(e.character, int)
            else f"YAML syntax error: {e.reason}",
            "remove the character (is this a text file?)",
        ) from None
    except yaml.YAMLError as e:
        raise YamlSyntaxError(Mark(file, 1, 1), f"YAML syntax error: {type(e).__name__}") from None
    loc = Located(None, file)
    if root is None:
        loc.data = None
        return loc
    loader = yaml.SafeLoader("")
    try:
        loc.data = _Converter(loc, loader).convert(root, ())
    except RecursionError:
        raise YamlSyntaxError(
            _mark(file, root), "the YAML is nested too deeply", "flatten the configuration"
        ) from None
    finally:
        loader.dispose()
    return loc


class _Converter:
    """Composed nodes → plain values, recording each value's position; refuses unknown tags,
    aliases that contain themselves, and expansions beyond :data:`MAX_NODES`."""

    def __init__(self, loc: Located, loader: yaml.SafeLoader) -> None:
        self.loc = loc
        self.loader = loader
        self.count = 0
        self.open: set[int] = set()  # ids of the collections being converted (on the path)

    def error(self, node: yaml.Node, problem: str, fix: str | None = None) -> YamlSyntaxError:
        return YamlSyntaxError(_mark(self.loc.file, node), problem, fix)

    def tick(self, node: yaml.Node, n: int = 1) -> None:
        self.count += n
        if self.count > MAX_NODES:
            raise self.error(
                node,
                f"the YAML expands to more than {MAX_NODES:,} values (anchors and aliases repeated "
                "inside each other: an 'alias bomb')",
                "write the values out, or reuse anchors without nesting them",
            )

    def convert(self, node: yaml.Node, path: Path_) -> Any:
        self.tick(node)
        self.loc.values[path] = _mark(self.loc.file, node)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            self.check_tag(node, SEQ_TAG)
            with self.entered(node):
                return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        self.check_tag(node, None)
        return self.loader.construct_object(node, deep=True)  # type: ignore[arg-type]

    def check_tag(self, node: yaml.Node, expected: str | None) -> None:
        ok = node.tag == expected if expected else node.tag in SCALAR_TAGS
        if not ok:
            raise self.error(
                node,
                f"unsupported YAML tag {_show_tag(node.tag)!r}",
                "remove the tag: strands.yaml takes plain values (no !!python tags, no CloudFormation "
                "functions such as !Sub or !Ref)",
            )

    def entered(self, node: yaml.Node) -> _Entered:
        if id(node) in self.open:
            raise self.error(
                node, "an alias refers to a value that contains it", "remove the recursive alias"
            )
        return _Entered(self.open, id(node))

    def pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """(key, value, own) in the order they apply: merged ``<<`` entries first, so a key written
        in the mapping itself overrides them; of several merged mappings the first one wins."""
        self.check_tag(node, MAP_TAG)
        merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
        own: list[tuple[yaml.Node, yaml.Node, bool]] = []
        with self.entered(node):
            for key_node, value_node in node.value:
                if key_node.tag != MERGE_TAG:
                    own.append((key_node, value_node, True))
                    continue
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise self.error(
                            source,
                            "a merge key `<<` takes a mapping (usually an alias such as *common) "
                            "or a list of them",
                            "write `<<: *anchor` where the anchor names a mapping",
                        )
                for source in reversed(sources):
                    inherited = self.pairs(source)
                    self.tick(source, len(inherited))
                    merged.extend((k, v, False) for k, v, _ in inherited)
        return merged + own

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        winners: dict[Any, tuple[yaml.Node, yaml.Node]] = {}
        own_marks: dict[Any, Mark] = {}
        for key_node, value_node, own in self.pairs(node):
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(key_node, "a key must be a plain value, not a list or a mapping")
            self.check_tag(key_node, None)
            key = self.loader.construct_object(key_node, deep=True)  # type: ignore[arg-type]
            if not isinstance(key, (str, int)):
                key = str(key)
            mark = _mark(self.loc.file, key_node)
            if own:
                if key in own_marks:
                    self.loc.duplicates.append(((*path, key), own_marks[key], mark))
                own_marks[key] = mark
            winners[key] = (key_node, value_node)
        out: dict[Any, Any] = {}
        with self.entered(node):
            for key, (key_node, value_node) in winners.items():
                child = (*path, key)
                self.loc.keys[child] = _mark(self.loc.file, key_node)
                out[key] = self.convert(value_node, child)
        return out


class _Entered:
    def __init__(self, open_: set[int], key: int) -> None:
        self.open, self.key = open_, key

    def __enter__(self) -> None:
        self.open.add(self.key)

    def __exit__(self, *exc: object) -> None:
        self.open.discard(self.key)
