"""Golden compiled artifacts: tests/golden/<case>/contracts/*.yml -> tests/golden/<case>/expected/.

Regenerate every golden with `./run regen` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers import ROOT
from validator.compiler.artifacts import compile_contracts
from validator.contract.resolve import load_contracts

GOLDEN = ROOT / "tests" / "golden"


def cases() -> list[str]:
    return sorted(p.name for p in GOLDEN.iterdir() if (p / "contracts").is_dir())


def compiled(case: str) -> dict[str, str]:
    old = Path.cwd()
    os.chdir(GOLDEN / case)  # paths in headers are relative to the case, as a user would run
    try:
        return compile_contracts(load_contracts([Path("contracts")]), root=Path("."))
    finally:
        os.chdir(old)


def expected(case: str) -> dict[str, str]:
    base = GOLDEN / case / "expected"
    return {
        str(p.relative_to(base)): p.read_text(encoding="utf-8")
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }
