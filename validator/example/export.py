"""A small annotation-tool export, as `labelpact import` writes one: besides the labels it
carries the rows a real export carries and agreement must not count - cancelled (skipped)
annotations and gold (ground-truth) answers. `examples/export/contracts/` holds its contract,
whose rules count only non-cancelled, non-gold annotations (`where:`).

Per batch of ten items, three annotators label each item; the third deviates on every fifth
item. Gold answers (the item's true label, by `reviewer`) exist for batches b1 and b2. In b2
and b3 every other item also has a cancelled draft by `ann_4` (label `other`, low score), and
in b3 two items lost a label to a cancellation: they have two counted annotations, not three.
`export_adjudications` decides the items whose counted labels disagree (the third annotator's
deviations); the cancelled drafts make more items look disputed to a rule that counts them.

    python -m validator.example.export target/export.duckdb
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

SCHEMA = "raw_export"
TABLE = "export_annotations"
COLUMNS = (
    ("annotation_id", "BIGINT"),
    ("item_id", "VARCHAR"),
    ("annotator", "VARCHAR"),
    ("label", "VARCHAR"),
    ("score", "DOUBLE"),
    ("batch", "VARCHAR"),
    ("is_cancelled", "BOOLEAN"),
    ("is_gold", "BOOLEAN"),
)
ADJUDICATIONS = "export_adjudications"
ADJUDICATION_COLUMNS = (
    ("item_id", "VARCHAR"),
    ("decision", "VARCHAR"),
    ("adjudicator", "VARCHAR"),
    ("rationale", "VARCHAR"),
)
LABELS = ("cat", "dog", "bird")
SHORT_ITEMS = {"b3_i03", "b3_i07"}  # a cancellation took the third label


def rows() -> list[tuple[Any, ...]]:
    """The export's rows, in annotation_id order (deterministic)."""
    out: list[tuple[Any, ...]] = []

    def add(item: str, who: str, label: str | None, score: float, batch: str, **flag: bool) -> None:
        out.append(
            (
                len(out) + 1,
                item,
                who,
                label,
                score,
                batch,
                flag.get("cancelled", False),
                flag.get("gold", False),
            )
        )

    for b in (1, 2, 3):
        batch = f"b{b}"
        for i in range(10):
            item, truth = f"{batch}_i{i:02d}", LABELS[(i + b) % len(LABELS)]
            for a in (1, 2, 3):
                if a == 3 and item in SHORT_ITEMS:
                    add(item, "ann_3", "other", 0.1, batch, cancelled=True)
                    continue
                wrong = a == 3 and i % 5 == 0
                label = LABELS[(i + b + 1) % len(LABELS)] if wrong else truth
                add(item, f"ann_{a}", label, 0.7 + 0.05 * a, batch)
            if b in (1, 2):
                add(item, "reviewer", truth, 1.0, batch, gold=True)
            if b in (2, 3) and i % 2 == 0:
                add(item, "ann_4", "other", 0.1, batch, cancelled=True)
    return out


def adjudications() -> list[tuple[Any, ...]]:
    """A decision for every item whose non-cancelled, non-gold labels disagree."""
    return [
        (f"b{b}_i{i:02d}", LABELS[(i + b) % len(LABELS)], "lead", "majority of the annotators")
        for b in (1, 2, 3)
        for i in (0, 5)
    ]


def write_duckdb(path: Path, schema: str = SCHEMA) -> int:
    """Write the export and its adjudications to `<schema>` in a DuckDB file; returns the
    export's rows."""
    import duckdb

    data = rows()
    con = duckdb.connect(str(path))
    try:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for table, columns, values in (
            (TABLE, COLUMNS, data),
            (ADJUDICATIONS, ADJUDICATION_COLUMNS, adjudications()),
        ):
            ddl = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns)
            con.execute(f'CREATE OR REPLACE TABLE "{schema}"."{table}" ({ddl})')
            marks = ", ".join("?" for _ in columns)
            con.executemany(f'INSERT INTO "{schema}"."{table}" VALUES ({marks})', values)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return len(data)


if __name__ == "__main__":  # pragma: no cover
    print(write_duckdb(Path(sys.argv[1])))
