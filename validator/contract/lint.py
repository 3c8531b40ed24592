"""`labelpact lint`: every problem in every contract, in one pass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validator.contract.model import Contract
from validator.contract.resolve import lint_paths
from validator.errors import ContractError, ExitCode, Problem


@dataclass
class LintReport:
    """The outcome of linting a set of contract files."""

    contracts: list[Contract]
    problems: list[Problem]
    strict: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error" or self.strict]

    @property
    def exit_code(self) -> ExitCode:
        if self.errors:
            return ExitCode.VIOLATIONS
        if self.problems:
            return ExitCode.WARNINGS
        return ExitCode.OK

    def summary(self) -> str:
        if not self.problems:
            return f"{len(self.contracts)} contract(s) OK"
        n_err = len(self.errors)
        n_warn = len(self.problems) - n_err
        return (
            f"{n_err} error(s), {n_warn} warning(s) in "
            f"{len({p.loc.path for p in self.problems})} file(s)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "contracts": [c.name for c in self.contracts],
            "problems": [
                {
                    "path": p.loc.path,
                    "line": p.loc.line,
                    "col": p.loc.col,
                    "severity": p.severity,
                    "message": p.message,
                    "hint": p.hint,
                }
                for p in sorted(self.problems, key=Problem.sort_key)
            ],
            "exit_code": int(self.exit_code),
        }


def lint(paths: list[Path], strict: bool = False) -> LintReport:
    """Lint contract files or directories.

    >>> lint([Path("contracts")]).exit_code        # doctest: +SKIP
    <ExitCode.OK: 0>
    """
    try:
        contracts, problems = lint_paths(paths, strict=strict)
    except ContractError as exc:  # e.g. a path that does not exist
        return LintReport([], exc.problems, strict)
    return LintReport(contracts, problems, strict)
