"""Contract evolution (`diff`) and the generated data dictionary (`docs`)."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT

from validator.cli import main
from validator.contract.diff import diff, read_contract
from validator.contract.docs import render
from validator.contract.resolve import load_contracts

BASE = read_contract(str(ROOT / "contracts" / "annotations.yml"))


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        for key in parents:
            doc = doc.setdefault(key, {})
        if value is _DELETE:
            del doc[last]
        else:
            doc[last] = value

    return apply


_DELETE = object()

# (description, mutation, expected kind, expected breaking)
CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, bool]] = [
    ("remove a column", _set("columns/notes", _DELETE), "column_removed", True),
    ("add a column", _set("columns/reviewer", {"type": "varchar"}), "column_added", True),
    ("retype a column", _set("columns/confidence/type", "integer"), "column_type_changed", True),
    ("make a column required", _set("columns/notes/required", True), "required_added", True),
    ("make a column optional", _set("columns/label/required", False), "required_removed", False),
    ("add unique", _set("columns/item_id/unique", True), "unique_added", True),
    ("tighten a range", _set("columns/confidence/between", [0.1, 1]), "range_tightened", True),
    ("widen a range", _set("columns/confidence/between", [0, 2]), "range_widened", False),
    (
        "remove an accepted value",
        _set("columns/label/accepted_values", ["cat", "dog", "bird", "fish"]),
        "accepted_value_removed",
        True,
    ),
    (
        "add an accepted value",
        _set("columns/label/accepted_values", ["cat", "dog", "bird", "fish", "other", "horse"]),
        "accepted_value_added",
        False,
    ),
    (
        "change a pattern",
        _set("columns/annotator_id/pattern", "^a_[0-9]+$"),
        "pattern_changed",
        True,
    ),
    ("drop a pattern", _set("columns/annotator_id/pattern", _DELETE), "pattern_removed", False),
    (
        "add not_in_future",
        _set("columns/parent_annotation_id/not_in_future", True),
        "not_in_future_added",
        True,
    ),
    ("raise the agreement minimum", _set("agreement/min", 0.7), "threshold_tightened", True),
    ("lower the agreement minimum", _set("agreement/min", 0.5), "threshold_loosened", False),
    ("change the agreement metric", _set("agreement/metric", "fleiss_kappa"), "rule_changed", True),
    ("raise minimum coverage", _set("coverage/min_annotations", 3), "threshold_tightened", True),
    (
        "lower maximum low-confidence share",
        _set("uncertainty/batch/max_low_share", 0.1),
        "threshold_tightened",
        True,
    ),
    ("remove a role", _set("label_distribution", _DELETE), "role_removed", False),
    ("open the schema", _set("extra_columns", "allow"), "extra_columns_changed", False),
    (
        "edit a description",
        _set("columns/tool/description", "Tool and its version."),
        "description_changed",
        False,
    ),
    ("change the owner", _set("owner", "ml-data@example.org"), "owner_changed", False),
    ("move the source", _set("source", {"dbt_source": "raw.labels"}), "source_changed", True),
    ("warn becomes error", _set("label_distribution/severity", "error"), "severity_raised", True),
]


@pytest.mark.parametrize(("what", "mutate", "kind", "breaking"), CASES, ids=[c[0] for c in CASES])
def test_change_kinds_are_classified(
    what: str, mutate: Callable[[dict[str, Any]], None], kind: str, breaking: bool
) -> None:
    new = copy.deepcopy(BASE)
    mutate(new)
    report = diff(BASE, new)
    assert [(c.kind, c.breaking) for c in report.changes] == [(kind, breaking)]


def test_at_least_fifteen_change_kinds() -> None:
    assert len({kind for _, _, kind, _ in CASES}) >= 15


APPROVED_TOOL = "tool LIKE 'labelstudio-%' OR tool LIKE 'cvat-%'"
NO_NOTES = {"name": "no_notes_when_sure", "expression": "confidence < 0.9 OR notes IS NULL"}

# (description, mutation of the custom SQL checks, expected [(kind, path, breaking)])
CUSTOM_CASES: list[
    tuple[str, Callable[[list[dict[str, Any]]], None], list[tuple[str, str, bool]]]
] = [
    (
        "add a check",
        lambda checks: checks.append(dict(NO_NOTES)),
        [("custom_check_added", "checks.no_notes_when_sure", True)],
    ),
    (
        "remove a check",
        lambda checks: checks.clear(),
        [("custom_check_removed", "checks.approved_tool", False)],
    ),
    (
        "change its expression",
        lambda checks: checks[0].update(expression="tool IS NOT NULL"),
        [("custom_check_changed", "checks.approved_tool", True)],
    ),
    (
        "lower its severity",
        lambda checks: checks[0].update(severity="warn"),
        [("severity_lowered", "checks.approved_tool", False)],
    ),
    (
        "edit its description",
        lambda checks: checks[0].update(description="Approved tools."),
        [("description_changed", "checks.approved_tool", False)],
    ),
    (
        "rename it",
        lambda checks: checks[0].update(name="known_tool"),
        [
            ("custom_check_removed", "checks.approved_tool", False),
            ("custom_check_added", "checks.known_tool", True),
        ],
    ),
]


@pytest.mark.parametrize(
    ("what", "mutate", "expected"), CUSTOM_CASES, ids=[c[0] for c in CUSTOM_CASES]
)
def test_custom_sql_checks_are_diffed(
    what: str, mutate: Callable[[list[dict[str, Any]]], None], expected: list[tuple[str, str, bool]]
) -> None:
    assert [c["expression"] for c in BASE["checks"]] == [APPROVED_TOOL]
    new = copy.deepcopy(BASE)
    mutate(new["checks"])
    changes = diff(BASE, new).changes
    assert [(c.kind, c.path, c.breaking) for c in changes] == expected


def test_a_contract_gaining_its_first_custom_check_needs_a_major_bump() -> None:
    old = copy.deepcopy(BASE)
    del old["checks"]
    report = diff(old, BASE)
    assert [(c.kind, c.breaking) for c in report.changes] == [("custom_check_added", True)]
    assert "need a major version bump" in (report.version_problem or "")
    assert [(c.kind, c.breaking) for c in diff(BASE, old).changes] == [
        ("custom_check_removed", False)
    ]


def test_new_role_is_breaking() -> None:
    old = copy.deepcopy(BASE)
    del old["coverage"]
    assert [(c.kind, c.breaking) for c in diff(old, BASE).changes] == [("role_added", True)]


@pytest.mark.parametrize(
    ("new_version", "ok"), [("1.3.0", False), ("2.0.0", True), ("1.2.0", False), ("1.1.0", False)]
)
def test_breaking_change_needs_a_major_bump(new_version: str, ok: bool) -> None:
    new = copy.deepcopy(BASE)
    new["columns"].pop("notes")
    new["version"] = new_version
    assert (diff(BASE, new).version_problem is None) is ok


def test_non_breaking_change_needs_some_bump() -> None:
    new = copy.deepcopy(BASE)
    new["owner"] = "someone@example.org"
    assert "version stayed" in diff(BASE, new).version_problem  # type: ignore[operator]
    new["version"] = "1.2.1"
    assert diff(BASE, new).version_problem is None


def test_cli_diff_reads_git_revisions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    path = tmp_path / "c.yml"
    path.write_text(yaml.safe_dump(BASE, sort_keys=False))
    subprocess.run(["git", "add", "c.yml"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "v1"],
        cwd=tmp_path,
        check=True,
    )
    new = copy.deepcopy(BASE)
    new["columns"]["confidence"]["type"] = "integer"
    path.write_text(yaml.safe_dump(new, sort_keys=False))
    import os

    old_cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["diff", "HEAD:c.yml", "c.yml"]) == 1
    finally:
        os.chdir(old_cwd)
    out = capsys.readouterr().out
    assert "columns.confidence: BREAKING column_type_changed: double -> integer" in out
    assert "need a major version bump (1.2.0 -> 2.0.0), got 1.2.0" in out


def test_docs_cover_every_column_and_check() -> None:
    contracts = load_contracts([ROOT / "contracts"], strict=True)
    text = render(contracts, ROOT)
    for c in contracts:
        assert f"## {c.name} (version {c.version})" in text
        for name, col in c.columns.items():
            assert f"| `{name}` | {col.type} |" in text
            assert col.description in text
    assert "`annotations.agreement.krippendorff_alpha` (error): Krippendorff's alpha" in text


def test_docs_strict_fails_without_descriptions(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text(
        "contract: c\nversion: 1.0.0\nowner: o\n"
        "source: {dbt_source: raw.c}\n"
        "columns:\n  id: {type: varchar}\n"
    )
    assert main(["docs", str(tmp_path), "-o", str(tmp_path / "d.md"), "--strict"]) == 3
    assert main(["docs", str(tmp_path), "-o", str(tmp_path / "d.md")]) == 0
    assert "| `id` | varchar |" in (tmp_path / "d.md").read_text()
