"""Golden compiled artifacts: tests/golden/<case>/contracts/*.yml -> tests/golden/<case>/expected/.

Regenerate after an intended change with `python tests/golden_compile.py` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from validator.project import compile_contracts
from validator.resolve import load_contracts

GOLDEN = Path(__file__).parent / "golden"


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
    return {str(p.relative_to(base)): p.read_text(encoding="utf-8")
            for p in sorted(base.rglob("*")) if p.is_file()}


if __name__ == "__main__":
    for case in cases():
        out = GOLDEN / case / "expected"
        shutil.rmtree(out, ignore_errors=True)
        for rel, text in compiled(case).items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_text(text, encoding="utf-8")
        print(f"wrote {case}")
