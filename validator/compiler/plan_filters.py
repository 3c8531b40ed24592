"""What a section's row filter (`where:`) adds to the checks planned from it: the filter as
parameters (kinds deriving from `kinds.Filtered` render it) and as words in the description."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from validator.compiler.kinds.roles import RoleNotNull
from validator.contract.resolve import REQUIRED_ROLES

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


def plan_filtered_roles(b: Builder) -> None:
    """The role columns of a filtered section are non-null on the rows the section keeps
    (unfiltered sections make their role columns `required` outright, in `resolve`)."""
    for section, roles in REQUIRED_ROLES.items():
        block = getattr(b.s, section, None)
        if block is None or getattr(block, "where", None) is None:
            continue
        for role in roles:
            name = getattr(block, role, None)
            if not name or b.c.columns[name].required:
                continue
            b.add(
                f"{section}.{role}_not_null",
                RoleNotNull(role_column=name, **filtered(b, block)),
                f"{name} ({section} {role}) is never null{scope(block)}",
                column=name,
            )
