"""Load YAML into nodes that remember file:line:col, refusing hostile documents.

Composition is bounded before it starts: a streaming pass over parser events
enforces limits on size, nesting depth, node count and aliases, so a "billion
laughs" document or a 10,000-deep list is refused in linear time instead of
exhausting memory or the Python stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from validator.errors import Location, Problem

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_EVENTS = 200_000
MAX_ALIASES = 100


@dataclass
class Node:
    """A YAML value with its location; maps keep the location of each key too."""

    value: Any
    loc: Location
    key_locs: dict[str, Location] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_seq(self) -> bool:
        return isinstance(self.value, list)

    def get(self, key: str) -> Node | None:
        return self.value.get(key) if isinstance(self.value, dict) else None

    def plain(self) -> Any:
        """The value with locations stripped (for hashing, diffing and defaults)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def load_file(path: Path) -> tuple[Node | None, list[Problem]]:
    """Read one YAML file; returns its root node (None if unusable) and every problem found."""
    shown = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [
                _p(
                    shown,
                    1,
                    1,
                    f"file is {size / 1024 / 1024:.1f} MB; contract files "
                    f"are limited to {MAX_BYTES // 1024 // 1024} MB",
                )
            ]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [_p(shown, 1, 1, f"cannot read file: {exc.strerror or exc}")]
    return load_bytes(raw, shown)


def _decode(raw: bytes, shown: str) -> str | Problem:
    """The text of a contract file, or the one problem that makes it unreadable (too big, not
    UTF-8, binary, or empty)."""
    if len(raw) > MAX_BYTES:
        return _p(
            shown,
            1,
            1,
            f"file is {len(raw) / 1024 / 1024:.1f} MB; contract files "
            f"are limited to {MAX_BYTES // 1024 // 1024} MB",
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(
            Location(shown, 1, 1), "file is UTF-16 encoded; save it as UTF-8", excerpt=False
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte-order mark is harmless; editors on Windows add it
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return _p(
            shown,
            line,
            col,
            f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} "
            f"at offset {exc.start}); save it as UTF-8",
        )
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return Problem(
            Location(shown, line, 1),
            "file contains a NUL character; is it a binary file?",
            excerpt=False,
        )
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        return _p(
            shown,
            1,
            1,
            "file is empty; a contract needs at least `contract:`, `version:` and `columns:`",
        )
    return text


def load_bytes(raw: bytes, shown: str) -> tuple[Node | None, list[Problem]]:
    """Decode and compose one document from bytes (see `load_file`)."""
    decoded = _decode(raw, shown)
    if isinstance(decoded, Problem):
        return None, [decoded]
    text = decoded
    limit = _check_limits(text, shown)
    if limit:
        return None, [limit]
    try:
        root = yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        try:  # the pure-Python parser words errors better; it reports them
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            return None, [_yaml_problem(exc, shown)]
        except yaml.YAMLError as exc:
            return None, [_p(shown, 1, 1, f"invalid YAML: {exc}")]
    if root is None:
        return None, [_p(shown, 1, 1, "file is empty")]
    problems: list[Problem] = []
    try:
        node = _convert(root, shown, problems, _Budget())
    except _TooBig as exc:
        return None, [exc.problem]
    return node, problems


# libyaml's parser when PyYAML was built with it (the wheels are): ~10x faster on large sets.
FAST_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Budget:
    """Counts expanded nodes so aliases cannot multiply a small file into a huge tree."""

    def __init__(self) -> None:
        self.left = MAX_EVENTS

    def spend(self, shown: str, mark: yaml.Mark) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooBig(
                _p(
                    shown,
                    mark.line + 1,
                    mark.column + 1,
                    f"document expands to more than {MAX_EVENTS} nodes "
                    "(alias bomb?); refusing to load it",
                )
            )


class _TooBig(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _check_limits(text: str, shown: str, loader: type = FAST_LOADER) -> Problem | None:
    depth = events = aliases = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            events += 1
            mark = event.start_mark
            assert mark is not None  # events from a stream always carry their position
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return _p(
                        shown,
                        mark.line + 1,
                        mark.column + 1,
                        f"document is nested deeper than {MAX_DEPTH} levels; refusing it",
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    return _p(
                        shown,
                        mark.line + 1,
                        mark.column + 1,
                        f"document uses more than {MAX_ALIASES} aliases; refusing it",
                    )
            if events > MAX_EVENTS:
                return _p(
                    shown,
                    mark.line + 1,
                    mark.column + 1,
                    f"document has more than {MAX_EVENTS} nodes; refusing it",
                )
            if isinstance(event, yaml.DocumentStartEvent) and events > 2:
                return _p(
                    shown,
                    mark.line + 1,
                    mark.column + 1,
                    "file holds more than one YAML document; put one contract per file",
                )
    except yaml.YAMLError as exc:
        if loader is not yaml.SafeLoader:  # the pure-Python parser words errors better
            return _check_limits(text, shown, yaml.SafeLoader)
        if isinstance(exc, yaml.MarkedYAMLError):
            return _yaml_problem(exc, shown)
        return _p(shown, 1, 1, f"invalid YAML: {exc}")
    return None


def _yaml_problem(exc: yaml.MarkedYAMLError, shown: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    what = exc.problem or "syntax error"
    if exc.context:
        what = f"{exc.context}, {what}"
    return _p(shown, line, col, f"invalid YAML: {what}")


_CONSTRUCTOR = yaml.SafeLoader("")


def _convert(node: yaml.Node, shown: str, problems: list[Problem], budget: _Budget) -> Node:
    loc = Location(shown, node.start_mark.line + 1, node.start_mark.column + 1)
    budget.spend(shown, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Node] = {}
        key_locs: dict[str, Location] = {}
        for key_node, value_node in node.value:
            kloc = Location(shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    Problem(kloc, "YAML merge keys (`<<`) are not supported; write the keys out")
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(kloc, "mapping keys must be plain strings"))
                continue
            key = str(key_node.value)
            if key in out:
                first = key_locs[key]
                problems.append(
                    Problem(
                        kloc,
                        f"duplicate key '{key}' (first defined at line "
                        f"{first.line}); YAML keeps only one of them",
                    )
                )
                continue
            out[key] = _convert(value_node, shown, problems, budget)
            key_locs[key] = kloc
        return Node(out, loc, key_locs)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(v, shown, problems, budget) for v in node.value], loc)
    try:
        value = _CONSTRUCTOR.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problems.append(Problem(loc, f"invalid value: {exc}"))
        value = None
    return Node(value, loc)


def _p(shown: str, line: int, col: int, message: str) -> Problem:
    return Problem(Location(shown, line, col), message)
