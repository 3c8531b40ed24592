"""Start a contract from a real table: profile it in the warehouse, write a contract to review.

`labelpact init --from raw.annotations` reads the relation's columns and types from the catalog
(`Warehouse.schema`), profiles the data
in one aggregate query (null counts, distinct counts, min/max) plus one small query per column
that has few values, and writes a contract that lints clean and passes `validate` on the data it
was inferred from: types exact, `required` where there are no nulls, `unique` where values are
distinct, `accepted_values` for small value sets, ranges for score-like columns. Annotation roles
(provenance, agreement, uncertainty, instructions, coverage) are proposed from column names and
values as commented suggestions the author confirms.

On large tables only the first `sample_rows` rows are profiled, and the contract says so: a rule
seen to hold on a sample may not hold on the rest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlglot import exp
from sqlglot.errors import ParseError

from validator.compiler.sql.dialects import Dialect
from validator.contract.spec import TYPES

QueryFn = Callable[[str], tuple[list[str], list[tuple[Any, ...]]]]

MAX_VALUES = 12  # a column with at most this many distinct values gets accepted_values
_SCORE = re.compile(r"(confidence|score|probability|prob|certainty)", re.I)
# Columns whose value set grows with the data (people, items, batches, free text): a small set
# seen today is no rule for tomorrow.
_OPEN_SET = re.compile(
    r"(_id$|^id$|annotator|labell?er|rater|worker|user|completed_by|batch|project|item|task|"
    r"note|comment|text|description|uri|url|path|name$)",
    re.I,
)


@dataclass
class ColumnProfile:
    name: str
    warehouse_type: str
    type: str | None  # contract type, None when the warehouse type has none
    nulls: int = 0
    distinct: int = 0
    low: Any = None
    high: Any = None
    values: list[Any] | None = None  # the value set when small


@dataclass
class TableProfile:
    relation: str
    rows: int  # rows profiled
    sampled: bool  # True when only the first rows were read
    columns: list[ColumnProfile] = field(default_factory=list)


def logical_type(warehouse_type: str, dialect: Dialect) -> str | None:
    """The contract type whose name in this warehouse is `warehouse_type`, or None (then the
    column has no contract type yet: DECIMAL, TIMESTAMP WITH TIME ZONE, VARCHAR(n) ...)."""
    try:
        found = exp.DataType.build(warehouse_type, dialect=dialect.sqlglot)
    except (ParseError, ValueError):
        return None
    for logical in TYPES:
        name = dialect.type_names.get(logical, logical)
        if exp.DataType.build(name, dialect=dialect.sqlglot) == found:
            return logical
    return None


def profile(
    query: QueryFn,
    dialect: Dialect,
    relation: str,
    columns: list[tuple[str, str]],
    sample_rows: int = 1_000_000,
) -> TableProfile:
    """Profile `relation` (whose columns are `columns`: name, warehouse type) in the warehouse."""
    table = exp.to_table(relation, dialect=dialect.sqlglot)
    source = exp.select("*").from_(table).limit(sample_rows + 1).subquery("t")
    cols = [ColumnProfile(name, wtype, logical_type(wtype, dialect)) for name, wtype in columns]
    aggregates: list[exp.Expr] = [exp.func("COUNT", exp.Star())]
    for c in cols:
        ref = exp.column(c.name, quoted=True)
        aggregates += [
            exp.func("COUNT", ref.copy()),
            exp.Count(this=exp.Distinct(expressions=[ref.copy()])),
        ]
        if c.type in ("bigint", "integer", "double", "date", "timestamp"):
            aggregates += [exp.func("MIN", ref.copy()), exp.func("MAX", ref.copy())]
    _, rows = query(exp.select(*aggregates).from_(source).sql(dialect=dialect.sqlglot))
    values = list(rows[0])
    n = int(values.pop(0))
    sampled = n > sample_rows
    n = min(n, sample_rows) if sampled else n
    for c in cols:
        non_null, c.distinct = int(values.pop(0)), int(values.pop(0))
        c.nulls = n - non_null if not sampled else max(0, n - non_null)
        if c.type in ("bigint", "integer", "double", "date", "timestamp"):
            c.low, c.high = values.pop(0), values.pop(0)
        if 0 < c.distinct <= MAX_VALUES and c.type in ("varchar", "bigint", "integer"):
            ref = exp.column(c.name, quoted=True)
            q = (
                exp.select(ref.copy())
                .distinct()
                .from_(source.copy())
                .where(exp.Not(this=exp.Is(this=ref.copy(), expression=exp.Null())))
            )
            _, found = query(q.sql(dialect=dialect.sqlglot))
            c.values = sorted(v[0] for v in found)
    return TableProfile(relation, n, sampled, cols)


# ------------------------------------------------------------------------------- writing


def _flow(data: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(data, default_flow_style=True, sort_keys=False, width=10_000)
    return text.strip()


def _column_rules(c: ColumnProfile, rows: int) -> dict[str, Any]:
    rules: dict[str, Any] = {"type": c.type}
    if rows and c.nulls == 0:
        rules["required"] = True
    if (
        rows
        and c.distinct == rows - c.nulls
        and c.distinct > MAX_VALUES
        and c.type in ("bigint", "integer", "varchar")
    ):
        rules["unique"] = True
    if c.values is not None and c.distinct < rows and not _OPEN_SET.search(c.name):
        rules["accepted_values"] = [_plain(v) for v in c.values]
    if c.type in ("double", "bigint", "integer") and _SCORE.search(c.name) and c.low is not None:
        low, high = float(c.low), float(c.high)
        # a probability-like column in [0, 1] gets the whole interval, not the observed one
        rules["between"] = [0, 1] if low >= 0 and high <= 1 else [_plain(c.low), _plain(c.high)]
    return rules


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _find(cols: list[ColumnProfile], *patterns: str, types: tuple[str, ...] = ()) -> str | None:
    for pattern in patterns:
        for c in cols:
            if re.search(pattern, c.name, re.I) and (not types or c.type in types):
                return c.name
    return None


def suggest_roles(p: TableProfile) -> list[str]:
    """Commented YAML lines proposing annotation sections from column names and values."""
    cols = [c for c in p.columns if c.type]
    annotator = _find(
        cols, r"annotator", r"labell?er", r"rater", r"worker", r"completed_by", r"user"
    )
    when = _find(
        cols,
        r"annotated_at",
        r"labell?ed_at",
        r"created_at",
        r"created",
        r"updated_at",
        r"_at$",
        types=("timestamp", "date"),
    )
    label = _find(
        cols,
        r"^label$",
        r"label",
        r"^result$",
        r"class",
        r"category",
        types=("varchar", "bigint", "integer", "boolean"),
    )
    confidence = _find(
        cols, r"confidence", r"probability", r"score", r"certainty", types=("double",)
    )
    version = _find(cols, r"instruction", r"guideline", r"version")
    item = _find(cols, r"item_id", r"task_id", r"example_id", r"item", r"task")
    batch = _find(cols, r"batch", r"project", r"job")
    tool = _find(cols, r"tool", r"source", r"platform")
    lines = []
    prov = {
        k: v
        for k, v in (
            ("annotator", annotator),
            ("timestamp", when),
            ("tool", tool),
            ("batch", batch),
        )
        if v
    }
    if prov:
        lines.append(f"# provenance: {_flow(prov)}")
    if confidence:
        lines.append(f"# uncertainty: {_flow({'confidence': confidence})}")
    if item and annotator and label:
        agreement: dict[str, Any] = {"item": item, "rater": annotator, "label": label}
        if batch:
            agreement["by"] = batch
        agreement.update({"metric": "krippendorff_alpha", "level": "nominal", "min": 0.6})
        lines.append(f"# agreement: {_flow(agreement)}")
        lines.append(f"# coverage: {_flow({'item': item, 'min_annotations': 2})}")
    if version:
        lines.append(
            f"# instructions: {_flow({'column': version, 'registry': 'REGISTRY'})}"
            "  # name your instruction-version registry contract"
        )
    return lines


def contract_text(
    p: TableProfile, name: str, source: dict[str, str], owner: str, command: str
) -> str:
    """A contract for the profiled table, as YAML with comments for the author to review."""
    typed = [c for c in p.columns if c.type]
    untyped = [c for c in p.columns if not c.type]
    scope = (
        f"the first {p.rows:,} rows (a sample: check the rules on the whole table)"
        if p.sampled
        else f"all {p.rows:,} rows"
    )
    out = [
        f"# Written by `{command}` from {scope} of {p.relation}.",
        "# Review every rule: they describe the data as it was, not as it must be.",
        f"contract: {name}",
        "version: 0.1.0",
        _flow({"owner": owner})[1:-1],
        f"description: Contract for {p.relation}, inferred by labelpact init.",
        f"source: {_flow(source)}",
    ]
    keys = [
        c.name
        for c in typed
        if c.nulls == 0
        and c.distinct == p.rows
        and p.rows > 0
        and c.type in ("bigint", "integer", "varchar")
    ]
    if keys:
        out.append(f"key: [{keys[0]}]")
    out.append("extra_columns: " + ("allow" if untyped else "forbid"))
    out.append("columns:")
    for c in typed:
        out.append(f"  {_flow({c.name: _column_rules(c, p.rows)})[1:-1]}")
    for c in untyped:
        out.append(
            f"  # {c.name}: warehouse type {c.warehouse_type} has no contract type yet "
            "(extra_columns: allow keeps it out of the schema check)"
        )
    roles = suggest_roles(p)
    if roles:
        out.append("# Suggested annotation roles, from column names (uncomment what is right):")
        out += roles
    return "\n".join(out) + "\n"
