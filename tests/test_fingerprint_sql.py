"""Each dialect's fingerprint and schema query, run on the real engine (DuckDB, PostgreSQL,
Spark): the same rows in any order give the same fingerprint; a changed value, a NULL moved to
another column, an added or removed row give another; the fingerprint of two parts combines
(sum and xor) into the fingerprint of the whole, as incremental validation relies on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import ENGINES
from sqlglot import exp

from validator.compiler.sql.dialects import get_dialect

Rows = list[tuple[Any, ...]]
BASE: Rows = [(1, "x", None), (2, "y", "z"), (None, None, "w"), (4, "", "v")]
VARIANTS: dict[str, Rows] = {
    "one value changed": [(1, "x", None), (2, "y", "Z"), (None, None, "w"), (4, "", "v")],
    "a NULL moved to the next column": [
        (1, None, "x"),
        (2, "y", "z"),
        (None, None, "w"),
        (4, "", "v"),
    ],
    "empty text instead of NULL": [(1, "x", ""), (2, "y", "z"), (None, None, "w"), (4, "", "v")],
    "a row added": [*BASE, (5, "u", None)],
    "a row removed": BASE[:-1],
    "a row duplicated": [*BASE, BASE[0]],
}
TYPES = {"duckdb": "INTEGER", "postgres": "INTEGER", "spark": "INT"}


class Engine:
    """Create a typed table `fp_t (a integer, b text, c text)` and run queries, per engine."""

    def __init__(self, name: str, load: Callable[[Rows], None], run: Callable[[str], Rows]):
        self.name, self.load, self.run = name, load, run
        self.dialect = get_dialect(name)

    def fingerprint(self, rows: Rows) -> tuple[int, int, int]:
        self.load(rows)
        sql = self.dialect.fingerprint(exp.to_table("fp_t"), ["a", "b", "c"])
        n, total, xor = self.run(sql.sql(dialect=self.dialect.sqlglot))[0]
        return int(n), int(total or 0), int(xor or 0)


def _values(rows: Rows, literal: Callable[[Any], str]) -> str:
    return ", ".join("(" + ", ".join(literal(v) for v in r) + ")" for r in rows)


def _sql_literal(v: Any) -> str:
    return "NULL" if v is None else str(v) if isinstance(v, int) else f"'{v}'"


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    name = request.param
    if name == "duckdb":
        import duckdb

        con = duckdb.connect()

        def load(rows: Rows) -> None:
            con.execute("CREATE OR REPLACE TABLE fp_t (a INTEGER, b VARCHAR, c VARCHAR)")
            con.execute(f"INSERT INTO fp_t VALUES {_values(rows, _sql_literal)}")

        yield Engine(name, load, lambda sql: con.execute(sql).fetchall())
        con.close()
    elif name == "postgres":
        import psycopg2

        params = request.getfixturevalue("pg_server").params
        con = psycopg2.connect(**{k: v for k, v in params.items() if k != "password"})
        con.autocommit = True
        cur = con.cursor()

        def load(rows: Rows) -> None:
            cur.execute("DROP TABLE IF EXISTS fp_t")
            cur.execute("CREATE TABLE fp_t (a INTEGER, b VARCHAR, c VARCHAR)")
            cur.execute(f"INSERT INTO fp_t VALUES {_values(rows, _sql_literal)}")

        def run(sql: str) -> Rows:
            cur.execute(sql)
            return list(cur.fetchall())

        yield Engine(name, load, run)
        cur.execute("DROP TABLE IF EXISTS fp_t")
        con.close()
    else:
        spark = request.getfixturevalue("spark_server").session

        def load(rows: Rows) -> None:
            spark.sql(
                "CREATE OR REPLACE TEMP VIEW fp_t AS SELECT CAST(a AS INT) AS a, CAST(b AS "
                f"STRING) AS b, CAST(c AS STRING) AS c FROM VALUES {_values(rows, _sql_literal)}"
                " AS v(a, b, c)"
            )

        yield Engine(name, load, lambda sql: [tuple(r) for r in spark.sql(sql).collect()])


def test_same_rows_in_another_order_same_fingerprint(engine: Engine) -> None:
    assert engine.fingerprint(BASE) == engine.fingerprint(list(reversed(BASE)))
    assert engine.fingerprint(BASE)[0] == len(BASE)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_any_change_changes_the_fingerprint(engine: Engine, variant: str) -> None:
    assert engine.fingerprint(VARIANTS[variant]) != engine.fingerprint(BASE)


def test_fingerprints_of_parts_combine_into_the_whole(engine: Engine) -> None:
    first, second = engine.fingerprint(BASE[:2]), engine.fingerprint(BASE[2:])
    whole = engine.fingerprint(BASE)
    assert whole == (first[0] + second[0], first[1] + second[1], first[2] ^ second[2])


def test_schema_query_reports_names_order_and_types(engine: Engine) -> None:
    engine.load(BASE)
    table = exp.to_table("fp_t")
    rows = engine.run(engine.dialect.schema_query(table).sql(dialect=engine.dialect.sqlglot))
    schema = engine.dialect.schema_rows(rows)
    assert [n for n, _ in schema] == ["a", "b", "c"]
    assert schema[0][1] == TYPES[engine.name]
    assert schema[1][1] != schema[0][1]
