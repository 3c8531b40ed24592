"""What a section's row filter (`where:`) adds to the checks planned from it: the filter as
parameters (kinds deriving from `kinds.Filtered` render it) and as words in the description."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from validator.compiler.plan import Builder


def filtered(b: Builder, section: Any) -> dict[str, Any]:
    """Parameters restricting a check to the rows its section's `where:` keeps, if any."""
    where = getattr(section, "where", None)
    if where is None:
        return {}
    return {"where": where, "where_columns": tuple(b.c.columns)}


def scope(section: Any) -> str:
    """What a check's description adds for its section's `where:` ("" without one)."""
    where = getattr(section, "where", None)
    return "" if where is None else f" (over rows where {where})"
