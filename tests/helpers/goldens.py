"""Every golden file in one registry: `./run regen` rewrites them, a test fails when any is stale.

A golden is a function returning {absolute path: expected text} and the set of files on disk
it owns (so a file no case produces any more counts as stale, and regen removes it):

- `compile`   tests/golden/<case>/expected/: dbt + GX artifacts of hand-written contracts
- `dialects`  tests/golden_dialects/<dialect>/: each check's SQL per dialect
- `lint`      tests/lint_golden/*.out: lint output of bad contracts
- `corpus`    tests/lint_corpus.json: lint output of the generated bad-contract corpus
- `schema`    validator/schema/contract.schema.json: the JSON Schema (`labelpact schema`)
- `project`   models/labelpact, checks/labelpact, expectations/: the repository's own compiled
              example project (what `labelpact compile` writes; GX suites are compared here)

Usage: `./run regen` (all), `./run regen lint corpus` (some), `./run regen --check`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from helpers import ROOT, golden_compile, golden_dialects, golden_lint, lint_corpus
from validator.compiler.sql.dialects import DIALECTS

Files = dict[Path, str]
SCHEMA_FILE = ROOT / "validator" / "schema" / "contract.schema.json"


@dataclass(frozen=True)
class Golden:
    name: str
    files: Callable[[], Files]
    owned: Callable[[], set[Path]]


def _tree(*dirs: Path, pattern: str = "*") -> set[Path]:
    return {p for d in dirs if d.is_dir() for p in d.rglob(pattern) if p.is_file()}


def _compile_files() -> Files:
    out: Files = {}
    for case in golden_compile.cases():
        base = golden_compile.GOLDEN / case / "expected"
        out.update({base / rel: text for rel, text in golden_compile.compiled(case).items()})
    return out


def _compile_owned() -> set[Path]:
    return _tree(*(golden_compile.GOLDEN / c / "expected" for c in golden_compile.cases()))


def _dialect_files() -> Files:
    return {
        golden_dialects.GOLDEN / dialect / name: sql
        for dialect in sorted(DIALECTS)
        for name, sql in golden_dialects.rendered(dialect).items()
    }


def _lint_files() -> Files:
    return {golden_lint.expected_path(c): golden_lint.render_case(c) for c in golden_lint.cases()}


def _corpus_files() -> Files:
    expected = {name: lint_corpus.render(docs) for name, (_, docs) in lint_corpus.cases().items()}
    text = json.dumps(dict(sorted(expected.items())), indent=1, ensure_ascii=False) + "\n"
    return {lint_corpus.CORPUS: text}


def _project_files() -> Files:
    from validator.compiler.artifacts import compile_contracts
    from validator.contract.resolve import load_contracts

    old = Path.cwd()
    os.chdir(ROOT)  # headers carry paths relative to the project, as a user runs compile
    try:
        files = compile_contracts(load_contracts([Path("contracts")]), root=Path("."))
    finally:
        os.chdir(old)
    return {ROOT / rel: text for rel, text in files.items()}


def _schema_files() -> Files:
    from validator.contract.json_schema import json_schema

    return {SCHEMA_FILE: json.dumps(json_schema(), indent=2) + "\n"}


def _project_owned() -> set[Path]:
    from validator.compiler.layout import Layout

    return _tree(*(ROOT / d for d in Layout.of_project(ROOT).dirs))


GOLDENS = {
    g.name: g
    for g in (
        Golden("compile", _compile_files, _compile_owned),
        Golden("dialects", _dialect_files, lambda: _tree(golden_dialects.GOLDEN)),
        Golden("lint", _lint_files, lambda: _tree(golden_lint.GOLDEN, pattern="*.out")),
        Golden("corpus", _corpus_files, lambda: {lint_corpus.CORPUS}),
        Golden("schema", _schema_files, lambda: {SCHEMA_FILE}),
        Golden("project", _project_files, _project_owned),
    )
}


def stale(golden: Golden) -> list[str]:
    """Lines naming each file that differs from what the golden produces now."""
    files = golden.files()
    lines = []
    for path, text in sorted(files.items()):
        if not path.exists():
            lines.append(f"missing: {path.relative_to(ROOT)}")
        elif path.read_text(encoding="utf-8") != text:
            lines.append(f"changed: {path.relative_to(ROOT)}")
    lines += [f"not produced any more: {p.relative_to(ROOT)}" for p in golden.owned() - set(files)]
    return lines


def regenerate(golden: Golden) -> int:
    """Rewrite a golden's files; returns how many changed."""
    files = golden.files()
    changed = 0
    for path, text in files.items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed += 1
    for path in golden.owned() - set(files):
        path.unlink()
        changed += 1
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    names = [a for a in argv if not a.startswith("--")] or list(GOLDENS)
    unknown = [n for n in names if n not in GOLDENS]
    if unknown:
        print(f"unknown golden(s) {unknown}; known: {', '.join(GOLDENS)}", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        if check:
            lines = stale(GOLDENS[name])
            print(f"{name}: {'stale' if lines else 'current'}")
            for line in lines:
                print(f"  {line}")
            status |= bool(lines)
        else:
            print(f"{name}: {regenerate(GOLDENS[name])} file(s) changed")
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
