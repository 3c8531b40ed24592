"""The versions of labelpact and of the tools it drives: what the ledger records for every
validation and what `labelpact --version` prints."""

from __future__ import annotations

import contextlib
from importlib import metadata

DISTRIBUTIONS = ("labelpact", "dbt-core", "dbt-duckdb", "great-expectations", "duckdb", "sqlglot")


def versions(distributions: tuple[str, ...] = DISTRIBUTIONS) -> dict[str, str]:
    """Installed version of each of `distributions` (those not installed are left out)."""
    out = {}
    for dist in distributions:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    return out


def version_line() -> str:
    """`labelpact 0.1.0 (dbt-core 1.11.16, ...)`."""
    found = versions()
    own = found.pop("labelpact", "unknown")
    tools = ", ".join(f"{name} {v}" for name, v in found.items())
    return f"labelpact {own} ({tools})" if tools else f"labelpact {own}"
