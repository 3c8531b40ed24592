"""Lint: golden messages for bad contracts, and the examples stay clean."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers.golden_lint import cases, expected_path, render_case

from validator.cli import main
from validator.contract.lint import lint
from validator.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("case", cases())
def test_golden_lint_output(case: str) -> None:
    assert render_case(case) == expected_path(case).read_text(encoding="utf-8")


def test_golden_corpus_is_large_enough() -> None:
    assert len(cases()) >= 20


def test_example_contracts_are_clean() -> None:
    report = lint([ROOT / "contracts"], strict=True)
    assert report.problems == []
    assert sorted(c.name for c in report.contracts) == [
        "adjudications",
        "annotations",
        "audit_results",
        "instruction_versions",
        "items",
    ]


def test_fifty_megabyte_file_is_refused_quickly(tmp_path: Path) -> None:
    big = tmp_path / "big.yml"
    with big.open("w") as handle:
        handle.write("contract: big\ncolumns:\n")
        line = "  c{}: {{type: varchar}}\n"
        i = 0
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(line.format(i) * 1)
            i += 1
    report = lint([big])
    assert [p.message for p in report.problems] == [
        "file is 50.0 MB; contract files are limited to 5 MB"
    ]
    assert report.exit_code == ExitCode.VIOLATIONS


def test_all_problems_reported_in_one_pass(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yml").write_text(
            f"contract: {name}\nversion: 1.0.0\nowner: o\nsource: {{dbt_source: raw.{name}}}\n"
            "columns:\n  id: {type: strng, requird: true}\n"
        )
    report = lint([tmp_path])
    assert len(report.problems) == 4
    assert {p.loc.path for p in report.problems} == {
        str(tmp_path / "a.yml"),
        str(tmp_path / "b.yml"),
    }


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    report = lint([tmp_path / "nope"])
    assert [p.message for p in report.problems] == ["no such file or directory"]


def test_bom_is_accepted(tmp_path: Path) -> None:
    text = (ROOT / "contracts" / "items.yml").read_bytes()
    (tmp_path / "items.yml").write_bytes(b"\xef\xbb\xbf" + text)
    assert lint([tmp_path]).problems == []


def test_cli_lint_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("contract: x\n")
    assert main(["lint", str(bad), "--format", "json"]) == ExitCode.VIOLATIONS
    out = json.loads(capsys.readouterr().out)
    assert out["exit_code"] == 1
    assert {p["message"] for p in out["problems"]} == {
        "contract file is missing required key 'version'",
        "contract file is missing required key 'owner'",
        "contract file is missing required key 'source'",
        "contract file is missing required key 'columns'",
    }
    assert main(["lint", str(ROOT / "contracts")]) == ExitCode.OK


def test_strict_requires_descriptions(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text(
        "contract: c\nversion: 1.0.0\nowner: o\nsource: {dbt_source: raw.c}\n"
        "columns:\n  id: {type: varchar}\n"
    )
    assert lint([tmp_path]).problems == []
    strict = lint([tmp_path], strict=True)
    assert [p.message for p in strict.problems] == [
        "column 'id' has no description (strict mode)",
        "contract 'c' has no description (strict mode)",
    ]


def test_lint_defaults_to_the_projects_contracts_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without paths, lint (like compile and docs) reads `contracts` of labelpact.yml in the
    project found as dbt finds it; a project without one is invalid input (3), not violations."""
    project = tmp_path / "team"
    (project / "specs").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: team\nprofile: team\n")
    (project / "labelpact.yml").write_text("contracts: specs\n")
    shutil.copy(ROOT / "contracts" / "instruction_versions.yml", project / "specs")
    assert main(["lint", "--project-dir", str(project)]) == 0
    assert "1 contract(s) OK" in capsys.readouterr().out
    (project / "labelpact.yml").write_text("contracts: missing\n")
    assert main(["lint", "--project-dir", str(project)]) == ExitCode.INVALID
    assert "no contracts directory" in capsys.readouterr().err
