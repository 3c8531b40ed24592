"""Docs that cannot go stale: every command and every check type is in the README."""

from __future__ import annotations

import pytest
from helpers import ROOT

from validator.cli import COMMANDS, main
from validator.compiler.plan import Kind

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_every_check_type_is_documented(kind: str) -> None:
    assert kind in README


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_documented_and_has_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert f"labelpact {command}" in README
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and f"labelpact {command}" in out
    assert "exit codes:" in out


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    assert "./run demo" in first_block and "./run tests" in first_block
    assert (
        "bash .ci/run" in (ROOT / ".ci" / "run").read_text()
        or "./run tests" in (ROOT / ".ci" / "run").read_text()
    )


def test_version_names_labelpact_and_the_tools_it_drives(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from importlib import metadata

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"labelpact {metadata.version('labelpact')} (")
    assert f"dbt-core {metadata.version('dbt-core')}" in out
