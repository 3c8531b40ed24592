"""Errors a person can act on: every user error knows where it happened."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of every `labelpact` command."""

    OK = 0
    """Everything passed."""
    VIOLATIONS = 1
    """At least one check (or lint rule) with severity error failed."""
    WARNINGS = 2
    """Only checks with severity warn failed."""
    INVALID = 3
    """Invalid input (bad contract, bad option) or an engine error (dbt, GX, warehouse)."""


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based position in a file."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One lint finding: where, what, and optionally what was probably meant."""

    loc: Location
    message: str
    hint: str = ""
    severity: str = "error"
    excerpt: bool = True  # False when the file cannot be shown as text

    def render(self, with_excerpt: bool = True) -> str:
        text = f"{self.loc}: {self.severity}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        if with_excerpt and self.excerpt:
            excerpt = _excerpt(self.loc)
            if excerpt:
                text += "\n" + excerpt
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.loc.path, self.loc.line, self.loc.col, self.message)


def _excerpt(loc: Location) -> str:
    """Two lines: the offending source line and a caret under the column."""
    try:
        with open(loc.path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                if number == loc.line:
                    text = text.rstrip("\n")[:200]
                    return f"    {text}\n    {' ' * max(loc.col - 1, 0)}^"
                if number > loc.line:
                    break
    except OSError:
        return ""
    return ""


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """`did you mean 'x'?` for the closest choice, or a list of valid choices when none is close."""
    ordered = sorted(str(c) for c in choices)
    close = difflib.get_close_matches(str(word), ordered, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if len(ordered) <= 12:
        return "expected one of: " + ", ".join(ordered)
    return ""


def render_problems(problems: list[Problem], limit: int = 50, excerpts: bool = True) -> str:
    """All problems sorted by location, capped with '... and N more'."""
    ordered = sorted(problems, key=Problem.sort_key)
    lines = [p.render(excerpts) for p in ordered[:limit]]
    if len(ordered) > limit:
        lines.append(f"... and {len(ordered) - limit} more")
    return "\n".join(lines)


class LabelpactError(Exception):
    """Root of every error labelpact raises on purpose; its message is shown without traceback."""

    exit_code: ExitCode = ExitCode.INVALID


@dataclass
class ContractError(LabelpactError):
    """One or more contracts are invalid; carries every problem found."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return render_problems(self.problems)


class EngineError(LabelpactError):
    """dbt, Great Expectations or the warehouse failed to run (not a check failure)."""


class UsageError(LabelpactError):
    """A command was called with options that cannot work together or a missing path."""


@dataclass
class RecordError(LabelpactError):
    """An input file (a tool's export, an ODCS document) is malformed at a named record."""

    path: str
    record: str  # "line 42", "task 17 (item 3)", "<box> at line 30"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.record}: {self.message}"
