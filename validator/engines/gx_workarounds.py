"""The one place that works around GX 1.x defects on these engines (each switchable, so a test
can show the defect without the workaround and its absence with it)."""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from validator.compiler.plan import Check
from validator.compiler.targets import gx as gx_target
from validator.engines.gx_sources import ParquetSource, Source, SqlSource


@dataclass(frozen=True)
class Workarounds:
    """Known GX 1.x defects on these engines, each handled here and switchable for tests.

    pinned_connection: GX runs a query inside `with engine.connect()` and fetches the rows
        after the block (`execute_query`, GX #10738, #11579). Leaving the block rolls back
        SQLAlchemy's implicit transaction; duckdb-engine's cursor *is* the DuckDB connection,
        whose one pending result that ROLLBACK replaces, so every fetch returns no rows (a
        NullPool raises "No open result set"). A StaticPool does not help: the rollback is
        SQLAlchemy's, not the pool's. Fix: keep one connection open for the run, as GX
        already does for SQLite and SQL Server.
    catalog_reflection: column reflection runs PostgreSQL catalog queries that DuckDB 2.0
        lacks (pg_catalog.pg_collation); GX then falls back to `SELECT * FROM <table>`
        without the schema (wrong table or "does not exist") and no column types, so every
        column expectation errors and type checks cannot pass. Fix: read
        information_schema.columns.
    regex_as_sql: GX refuses expect_column_values_to_match_regex on DuckDB ("Regex is not
        supported for dialect duckdb"). Fix: run that check as an unexpected-rows query
        rendered by labelpact (REGEXP_MATCHES, the same search semantics as GX elsewhere).
    sql_over_parquet: unexpected_rows_expectation is SQL-only; on pandas GX reports "No
        provider found". Fix: run the same query in DuckDB over the parquet files; the result
        says `evaluated_by="duckdb"`.
    """

    pinned_connection: bool = True
    catalog_reflection: bool = True
    regex_as_sql: bool = True
    sql_over_parquet: bool = True

    def sql_datasource(self, source: SqlSource, context: Any, name: str) -> Any:
        """GX's SQL datasource, with the DuckDB execution-engine fixes when they apply."""
        kwargs = {"connect_args": dict(source.connect_args)} if source.connect_args else {}
        if source.duckdb_engine and (self.pinned_connection or self.catalog_reflection):
            ds = _duckdb_datasource_type()(name=name, connection_string=source.url, kwargs=kwargs)
            ds._workarounds = self  # read by the execution engine it creates
            return context.data_sources.add_sql(datasource=ds)
        return context.data_sources.add_sql(name=name, connection_string=source.url, kwargs=kwargs)

    def adapt(
        self,
        expectation: dict[str, Any],
        check: Check,
        key: tuple[str, ...],
        source: Source,
        relation_for: gx_target.RelationFor,
    ) -> tuple[str, dict[str, Any]]:
        """(who runs it: "gx" | "duckdb", the expectation to run) for one expectation.

        Also spells column types the way GX compares them on this engine (an engine setting,
        not a defect, but changed here so that every rewrite of the suite is in one place).
        """
        e = copy.deepcopy(expectation)
        if (
            e["type"] == "expect_column_values_to_match_regex"
            and not source.gx_regex
            and self.regex_as_sql
        ):
            query = gx_target.unexpected_rows_query(check, key, source.dialect, relation_for)
            e.update(type="unexpected_rows_expectation", kwargs={"unexpected_rows_query": query})
        if (
            e["type"] == "unexpected_rows_expectation"
            and not source.gx_sql
            and self.sql_over_parquet
        ):
            return "duckdb", e
        if e["type"] == "expect_column_values_to_be_of_type":
            name = e["kwargs"]["type_"]
            e["kwargs"]["type_"] = source.type_names.get(name, name)
        return "gx", e

    def run_sql(self, source: Source, queries: list[tuple[Check, str, str]]) -> dict[str, Any]:
        """{check id: answer} for (check, own table, query) GX cannot run: DuckDB runs them."""
        assert isinstance(source, ParquetSource)
        import duckdb

        out: dict[str, Any] = {}
        con = duckdb.connect()
        try:
            for path in sorted(source.directory.glob("*.parquet")):
                view = exp.Create(
                    this=exp.to_table(path.stem, quoted=True),
                    kind="VIEW",
                    expression=exp.select("*").from_(
                        exp.func("read_parquet", exp.Literal.string(str(path)))
                    ),
                )
                con.execute(view.sql(dialect="duckdb"))
            for check, table, query in queries:
                sql = query.format(batch=source.relation(table))  # as GX fills {batch}
                counted = exp.select(exp.Count(this=exp.Star())).from_(
                    exp.maybe_parse(sql, dialect="duckdb").subquery("f")
                )
                try:
                    row = con.execute(counted.sql(dialect="duckdb")).fetchone()
                    out[check.id] = _sql_answer(check, int(row[0]) if row else 0, "")
                except duckdb.Error as exc:
                    out[check.id] = _sql_answer(check, None, str(exc).strip())
        finally:
            con.close()
        return out


WORKAROUNDS = Workarounds()


def _sql_answer(check: Check, n: int | None, error: str) -> dict[str, Any]:
    """An unexpected-rows result shaped like `_answer`'s."""
    return {
        "check_id": check.id,
        "part": None,
        "column": None,
        "type": "unexpected_rows_expectation",
        "success": n == 0 and not error,
        "observed_value": n,
        "unexpected_count": None,
        "details": None,
        "error": error,
    }


def _fmt(relation: str) -> str:
    """A relation as text inside a query GX will `str.format`."""
    return relation.replace("{", "{{").replace("}", "}}")


@functools.cache
def _duckdb_datasource_type() -> type:
    """A GX SQL datasource whose execution engine applies the DuckDB workarounds.

    Built on first use (importing GX takes seconds). The leading underscore keeps GX from
    registering it as a new datasource type. One function because the subclasses must be
    defined after GX's (lazily imported) base classes, and belong together.
    """
    import sqlalchemy as sa
    from great_expectations.compatibility import pydantic
    from great_expectations.datasource.fluent import SQLDatasource
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    class _CatalogInspector:
        """The two inspector calls GX makes, answered from information_schema."""

        def __init__(self, engine: _PinnedEngine) -> None:
            self.engine = engine
            self.dialect = engine.engine.dialect

        def get_pk_constraint(self, table_name: str, schema: str | None = None) -> dict:
            return {"constrained_columns": []}  # GX only uses it for display

        def get_columns(self, table_name: str, schema: str | None = None) -> list[dict]:
            query = sa.text(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = :t AND table_schema = COALESCE(:s, "
                "current_schema()) ORDER BY ordinal_position"
            )
            with self.engine.get_connection() as con:
                rows = con.execute(query, {"t": str(table_name), "s": schema}).fetchall()
            return [{"name": name, "type": _sa_type(sa, data_type)} for name, data_type in rows]

    class _PinnedEngine(SqlAlchemyExecutionEngine):
        workarounds: Workarounds = WORKAROUNDS  # set per run by the datasource below

        @contextlib.contextmanager
        def get_connection(self) -> Iterator[Any]:
            if not self.workarounds.pinned_connection:
                with super().get_connection() as con:
                    yield con
                return
            if self._connection is None:
                self._connection = self.engine.connect()
            try:
                yield self._connection
            except Exception:
                # One failed query aborts DuckDB's transaction; without a rollback every
                # later query on the shared connection fails too.
                self._connection.rollback()
                raise

        def get_inspector(self) -> Any:
            if self.workarounds.catalog_reflection:
                return _CatalogInspector(self)
            return super().get_inspector()

        def close(self) -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self.engine.dispose()

    class _WorkaroundSQLDatasource(SQLDatasource):
        _workarounds: Workarounds = pydantic.PrivateAttr(WORKAROUNDS)

        @property
        def execution_engine_type(self) -> type:
            return _PinnedEngine

        def get_execution_engine(self) -> Any:
            engine = super().get_execution_engine()
            engine.workarounds = self._workarounds  # type: ignore[attr-defined]
            return engine

    return _WorkaroundSQLDatasource


def _sa_type(sa: Any, data_type: str) -> Any:
    """A SQLAlchemy type for a DuckDB type name (`DECIMAL(18,3)`, `TIMESTAMP WITH TIME ZONE`)."""
    base = data_type.split("(", 1)[0].strip().upper()
    if base == "TIMESTAMP WITH TIME ZONE":
        return sa.types.TIMESTAMP(timezone=True)
    return getattr(sa.types, base.replace(" ", "_"), sa.types.NullType)()
