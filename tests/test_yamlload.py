"""The located YAML loader: positions, limits and hostile documents."""

from __future__ import annotations

import time

from validator.contract.yamlload import MAX_DEPTH, load_bytes


def test_every_node_knows_its_line_and_column() -> None:
    node, problems = load_bytes(b"a: 1\nb:\n  c: [x, y]\n", "f.yml")
    assert problems == []
    assert node is not None
    c = node.value["b"].value["c"]
    assert (c.loc.line, c.loc.col) == (3, 6)
    assert (c.value[1].loc.line, c.value[1].loc.col) == (3, 10)
    assert node.value["b"].key_locs["c"].line == 3
    assert node.plain() == {"a": 1, "b": {"c": ["x", "y"]}}


def test_duplicate_keys_are_reported_not_silently_merged() -> None:
    _, problems = load_bytes(b"a: 1\na: 2\n", "f.yml")
    assert [(p.loc.line, p.message) for p in problems] == [
        (2, "duplicate key 'a' (first defined at line 1); YAML keeps only one of them")
    ]


def test_alias_bomb_is_refused_in_bounded_time() -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    start = time.process_time()
    node, problems = load_bytes("\n".join(lines).encode(), "bomb.yml")
    assert node is None
    assert "alias" in problems[0].message
    assert time.process_time() - start < 5  # CPU time: load on the machine must not fail it


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    text = "x: " + "[" * 5000 + "]" * 5000
    node, problems = load_bytes(text.encode(), "deep.yml")
    assert node is None
    assert problems[0].message == f"document is nested deeper than {MAX_DEPTH} levels; refusing it"


def test_merge_keys_and_non_string_keys_are_reported() -> None:
    _, problems = load_bytes(b"base: &b {x: 1}\nother:\n  <<: *b\n? [1, 2]\n: v\n", "f.yml")
    assert sorted(p.message for p in problems) == [
        "YAML merge keys (`<<`) are not supported; write the keys out",
        "mapping keys must be plain strings",
    ]


def test_multiple_documents_are_refused() -> None:
    _, problems = load_bytes(b"a: 1\n---\nb: 2\n", "f.yml")
    assert problems[0].message == (
        "file holds more than one YAML document; put one contract per file"
    )


def test_nul_byte_is_binary() -> None:
    _, problems = load_bytes(b"a: 1\n\x00\n", "f.yml")
    assert problems[0].message.startswith("file contains a NUL character")
