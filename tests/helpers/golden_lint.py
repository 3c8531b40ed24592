"""Golden lint output: one bad contract (file or directory) per case, expected text beside it.

Regenerate every golden with `./run regen` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers import ROOT
from validator.contract.lint import lint
from validator.errors import render_problems

GOLDEN = ROOT / "tests" / "lint_golden"


def cases() -> list[str]:
    return sorted(p.name for p in GOLDEN.iterdir() if p.suffix != ".out")


def render_case(name: str) -> str:
    """Lint output for one case, with paths relative to the golden directory."""
    old = Path.cwd()
    os.chdir(GOLDEN)
    try:
        report = lint([Path(name)])
        text = render_problems(report.problems) if report.problems else ""
        return f"{text}\n{report.summary()}\nexit code {int(report.exit_code)}\n"
    finally:
        os.chdir(old)


def expected_path(name: str) -> Path:
    return GOLDEN / (Path(name).stem + ".out")
