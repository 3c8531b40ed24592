"""Run each contract's GX suite through a real GX checkpoint; one result per check id.

    results = run_suites(plans, duckdb_path=Path("target/labelpact.duckdb"), schema="raw")

An ephemeral GX context gets one datasource, a table asset and whole-table batch definition per
contract, one ValidationDefinition per suite and one Checkpoint. Suites are rendered by
`targets.gx` from the same plans as the committed JSON. Everything GX gets wrong on these
engines is handled by `Workarounds`, and only there.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from sqlglot import exp

from validator.compiler.plan import Check, Kind, Plan
from validator.compiler.targets import gx as gx_target
from validator.contract.model import Contract
from validator.errors import EngineError, LabelpactError, UsageError

PREFIX = "labelpact"  # names of everything this module adds to (and removes from) a context


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome in one GX run."""

    check_id: str
    contract: str
    kind: str
    severity: str
    status: str  # pass | fail | warn (a failed check of severity warn) | error
    failures: int | None  # unexpected rows/values, when GX reports a count
    observed: Any  # GX's observed value (schema: {"columns": [...], "types": {...}})
    message: str = ""
    evaluated_by: str = "gx"  # "duckdb" where GX cannot run the check (see Workarounds)


# --------------------------------------------------------------------------------------------
# Where the tables are. Engine differences are class settings, never `if engine == ...`.
# --------------------------------------------------------------------------------------------


class Source:
    """Tables of one warehouse (or directory) and how GX reads them."""

    dialect: ClassVar[str] = "duckdb"  # SQL dialect of unexpected-rows queries
    gx_regex: ClassVar[bool] = True  # GX renders expect_column_values_to_match_regex here
    gx_sql: ClassVar[bool] = True  # GX runs unexpected_rows_expectation here
    dataframes: ClassVar[bool] = False  # each suite runs on a DataFrame (`batch_parameters`)
    # Committed type name (SQLAlchemy spelling) -> what GX compares on this engine.
    type_names: ClassVar[dict[str, str]] = {}

    def add_datasource(self, context: Any, name: str, workarounds: Workarounds) -> Any:
        raise NotImplementedError

    def add_asset(self, datasource: Any, table: str) -> Any:
        raise NotImplementedError

    def add_batch(self, asset: Any, name: str) -> Any:
        return asset.add_batch_definition(name)  # the whole table or file

    def batch_parameters(self, table: str) -> dict[str, Any] | None:
        """What GX needs at run time to read `table` (None: the asset says it all)."""
        return None

    def relation(self, table: str) -> str:
        """SQL text naming `table` in unexpected-rows queries."""
        raise NotImplementedError


class SqlSource(Source):
    """Any SQLAlchemy URL, read by GX's SQL datasource."""

    connect_args: ClassVar[dict[str, Any]] = {}
    duckdb_engine: ClassVar[bool] = False  # served by duckdb-engine: see Workarounds

    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema

    def add_datasource(self, context: Any, name: str, workarounds: Workarounds) -> Any:
        return workarounds.sql_datasource(self, context, name)

    def add_asset(self, datasource: Any, table: str) -> Any:
        with warnings.catch_warnings():
            # GX 1.14 deprecated `schema_name` in favour of the connection's default schema,
            # which a DuckDB URL cannot carry; it is still honoured.
            warnings.simplefilter("ignore", DeprecationWarning)
            return datasource.add_table_asset(name=table, table_name=table, schema_name=self.schema)

    def relation(self, table: str) -> str:
        return exp.table_(table, db=self.schema, quoted=True).sql(dialect=self.dialect)


class PostgresSource(SqlSource):
    dialect = "postgres"

    @classmethod
    def from_credentials(cls, credentials: Any, schema: str) -> SqlSource:
        """GX reads the warehouse of a dbt postgres profile with the profile's credentials."""
        from sqlalchemy.engine import URL

        url = URL.create(
            "postgresql+psycopg2",
            username=credentials.user,
            password=credentials.password or None,
            host=credentials.host,
            port=credentials.port,
            database=credentials.database,
        )
        return cls(url.render_as_string(hide_password=False), schema)

    # GX compares PostgreSQL's compiled type strings, case-insensitively (not run here yet).
    type_names = {"DOUBLE": "DOUBLE PRECISION", "TIMESTAMP": "TIMESTAMP WITHOUT TIME ZONE"}


class DuckDBSource(SqlSource):
    dialect = "duckdb"
    gx_regex = False  # GX: "Regex is not supported for dialect duckdb"
    connect_args = {"read_only": True}  # validation never writes
    duckdb_engine = True

    @classmethod
    def from_credentials(cls, credentials: Any, schema: str) -> SqlSource:
        """GX reads the file of a dbt duckdb profile."""
        return cls(f"duckdb:///{Path(credentials.path).resolve()}", schema)


class ParquetSource(Source):
    """`<table>.parquet` files in one directory, read by GX's pandas datasource."""

    dialect = "duckdb"  # unexpected-rows queries run in DuckDB over the files
    gx_sql = False  # GX: unexpected_rows_expectation has no pandas implementation
    # pandas dtypes as read with `dtype_backend="numpy_nullable"`: nullable integer columns
    # stay integers (Int64), so a column with a null still has its contracted type.
    type_names = {
        "BIGINT": "int64",
        "INTEGER": "int32",
        "VARCHAR": "str",
        "DOUBLE": "float64",
        "BOOLEAN": "bool",
        "DATE": "object",
        "TIMESTAMP": "datetime64",
    }

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, table: str) -> Path:
        return self.directory / f"{table}.parquet"

    def add_datasource(self, context: Any, name: str, workarounds: Workarounds) -> Any:
        return context.data_sources.add_pandas(name)

    def add_asset(self, datasource: Any, table: str) -> Any:
        path = self.path(table)
        if not path.is_file():
            raise UsageError(f"{path} does not exist")
        return datasource.add_parquet_asset(name=table, path=path, dtype_backend="numpy_nullable")

    def relation(self, table: str) -> str:
        return exp.to_identifier(table, quoted=True).sql(dialect="duckdb")


_SQL_SOURCES: dict[str, type[SqlSource]] = {"duckdb": DuckDBSource, "postgresql": PostgresSource}


# dbt adapter type -> the GX source that reads its warehouse with the profile's credentials.
_PROFILE_SOURCES: dict[str, Any] = {"duckdb": DuckDBSource, "postgres": PostgresSource}


def _source(
    duckdb_path: Path | str | None,
    sqlalchemy_url: str | None,
    parquet_dir: Path | str | None,
    schema: str,
    warehouse: Any = None,
) -> Source:
    given = [x for x in (duckdb_path, sqlalchemy_url, parquet_dir, warehouse) if x is not None]
    if len(given) != 1:
        raise UsageError("give exactly one of duckdb_path, sqlalchemy_url, parquet_dir, warehouse")
    if warehouse is not None:
        from validator.engines.gx_spark import SparkSource

        _PROFILE_SOURCES.setdefault("spark", SparkSource)
        adapter = warehouse.credentials.type
        if adapter not in _PROFILE_SOURCES:
            raise UsageError(
                f"GX does not run on dbt adapter '{adapter}' here (it runs on "
                f"{', '.join(sorted(_PROFILE_SOURCES))}); give --sqlalchemy-url or --parquet-dir"
            )
        return _PROFILE_SOURCES[adapter].from_credentials(warehouse.credentials, schema)
    if parquet_dir is not None:
        return ParquetSource(Path(parquet_dir))
    if duckdb_path is not None:
        path = Path(duckdb_path)
        if not path.is_file():
            raise UsageError(f"DuckDB database {path} does not exist")
        return DuckDBSource(f"duckdb:///{path.resolve()}", schema)
    assert sqlalchemy_url is not None
    backend = sqlalchemy_url.split(":", 1)[0].split("+", 1)[0]
    return _SQL_SOURCES.get(backend, SqlSource)(sqlalchemy_url, schema)


# --------------------------------------------------------------------------------------------
# The one place that works around GX defects.
# --------------------------------------------------------------------------------------------


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
    registering it as a new datasource type.
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


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def table_name(contract: Contract) -> str:
    """The table a contract is read from (the table part of its dbt source, else its name)."""
    if contract.source.kind == "dbt_source":
        return contract.source.schema_table[1]
    return contract.name


@dataclass
class _Outcome:
    """GX's answers for the expectations of one check."""

    evaluated_by: str = "gx"
    answers: list[dict[str, Any]] = field(default_factory=list)


def run_suites(
    plans: list[Plan],
    *,
    duckdb_path: Path | str | None = None,
    sqlalchemy_url: str | None = None,
    parquet_dir: Path | str | None = None,
    warehouse: Any = None,
    schema: str = "main",
    context: Any = None,
    workarounds: Workarounds = WORKAROUNDS,
) -> list[CheckResult]:
    """Validate every plan's tables with GX; results in plan order, one per check.

    Give exactly one of `duckdb_path`, `sqlalchemy_url`, `parquet_dir`, `warehouse` (a
    `Warehouse`: the dbt profile's target, read with its credentials). `context` reuses a GX
    context (default: a new ephemeral one); what this adds to it is removed afterwards.
    """
    source = _source(duckdb_path, sqlalchemy_url, parquet_dir, schema, warehouse)
    import great_expectations as gx

    ctx = context if context is not None else gx.get_context(mode="ephemeral")
    with _quiet(ctx):
        try:
            outcomes = _Run(gx, ctx, plans, source, workarounds).run()
        except LabelpactError:
            raise
        except Exception as exc:  # GX raises many types; to the user it is one engine error
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineError(f"Great Expectations failed: {first}") from exc
    return [_result(check, outcomes.get(check.id)) for p in plans for check in p.checks]


@contextlib.contextmanager
def _quiet(ctx: Any) -> Iterator[None]:
    """No progress bars and no expected GX warnings on stderr; both restored afterwards."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    old = ctx.variables.progress_bars
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    # "No sqlalchemy dialect found; relying on top-level sqlalchemy types" for every type
    # check on DuckDB: the top-level types are the ones the suites name.
    types_log = logging.getLogger("great_expectations.expectations.type_comparison")
    old_level = types_log.level
    types_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        ctx.variables.progress_bars = old
        types_log.setLevel(old_level)


class _Run:
    """One checkpoint run; everything it adds to the context is removed at the end."""

    def __init__(
        self, gx: Any, ctx: Any, plans: list[Plan], source: Source, workarounds: Workarounds
    ) -> None:
        self.gx, self.ctx, self.plans = gx, ctx, plans
        self.source, self.workarounds = source, workarounds
        self.tables = {p.contract.name: table_name(p.contract) for p in plans}
        self.outside: list[tuple[Check, str, str]] = []  # (check, table, query) for DuckDB
        self.added: list[tuple[Any, str]] = []
        self.table_of: dict[str, str] = {}  # validation definition name -> its table

    def relation(self, contract: str) -> str:
        return _fmt(self.source.relation(self.tables.get(contract, contract)))

    def run(self) -> dict[str, _Outcome]:
        outcomes: dict[str, _Outcome] = {}
        datasource = self.source.add_datasource(self.ctx, f"{PREFIX}_source", self.workarounds)
        self.added.append((self.ctx.data_sources, datasource.name))
        try:
            definitions = [
                d for p in self.plans if (d := self._definition(p, datasource)) is not None
            ]
            if definitions:
                for answer in self._checkpoint(definitions):
                    outcomes.setdefault(answer["check_id"], _Outcome()).answers.append(answer)
            if self.outside:
                for check_id, answer in self.workarounds.run_sql(self.source, self.outside).items():
                    outcomes[check_id] = _Outcome("duckdb", [answer])
        finally:
            self._cleanup(datasource)
        return outcomes

    def _definition(self, plan: Plan, datasource: Any) -> Any:
        """The ValidationDefinition of one plan (None when GX has nothing to run)."""
        c = plan.contract
        table = self.tables[c.name]
        checks = {check.id: check for check in plan.checks}
        suite_json = gx_target.suite(plan, dialect=self.source.dialect, relation_for=self.relation)
        kept = []
        for e in suite_json["expectations"]:
            check = checks[e["meta"]["labelpact"]["check_id"]]
            runner, adapted = self.workarounds.adapt(e, check, c.key, self.source, self.relation)
            if runner == "duckdb":
                self.outside.append((check, table, adapted["kwargs"]["unexpected_rows_query"]))
            else:
                kept.append(adapted)
        if not kept:
            return None
        name = f"{PREFIX}_{c.name}"
        suite_json.update(name=name, expectations=kept)
        asset = self.source.add_asset(datasource, table)
        batch = self.source.add_batch(asset, name)
        self.table_of[name] = table
        suite = self.ctx.suites.add(self.gx.ExpectationSuite(**suite_json))
        self.added.append((self.ctx.suites, suite.name))
        definition = self.ctx.validation_definitions.add(
            self.gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        self.added.append((self.ctx.validation_definitions, definition.name))
        return definition

    def _checkpoint(self, definitions: list[Any]) -> Iterator[dict[str, Any]]:
        checkpoint = self.ctx.checkpoints.add(
            self.gx.Checkpoint(
                name=f"{PREFIX}_checkpoint",
                validation_definitions=definitions,
                result_format={"result_format": "BASIC"},
            )
        )
        self.added.append((self.ctx.checkpoints, checkpoint.name))
        try:
            if not self.source.dataframes:
                suite_results = list(checkpoint.run().run_results.values())
            else:  # one DataFrame per table: each definition runs with its own
                suite_results = [
                    d.run(
                        batch_parameters=self.source.batch_parameters(self.table_of[d.name]),
                        result_format={"result_format": "BASIC"},
                    )
                    for d in definitions
                ]
        except Exception as exc:  # GX raises many types; all mean the run did not happen
            raise EngineError(f"Great Expectations run failed: {exc}") from exc
        for suite_result in suite_results:
            for r in suite_result.results:
                yield _answer(r)

    def _cleanup(self, datasource: Any) -> None:
        for store, name in reversed(self.added):
            with contextlib.suppress(Exception):  # cleanup must not hide the run's outcome
                store.delete(name)
        engine = getattr(datasource, "_execution_engine", None)
        if engine is not None:
            if hasattr(engine, "close"):
                engine.close()  # the pinned connection: releases the DuckDB file
            elif hasattr(engine, "engine"):
                engine.engine.dispose()
        # The datasource also caches its own SQLAlchemy engine (used to test the connection);
        # dispose it too, or the DuckDB file stays open in this process.
        cached = getattr(datasource, "_cached_engine", None) or getattr(datasource, "_engine", None)
        if cached is not None and hasattr(cached, "dispose"):
            with contextlib.suppress(Exception):
                cached.dispose()


def _answer(r: Any) -> dict[str, Any]:
    """The parts of one GX expectation result labelpact reports."""
    tag = (r.expectation_config.meta or {}).get("labelpact", {})
    info = r.exception_info or {}
    raised = (
        [info]
        if info.get("raised_exception")
        else [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    )
    result = r.result or {}
    return {
        "check_id": tag.get("check_id", "?"),
        "part": tag.get("part"),
        "column": r.expectation_config.kwargs.get("column"),
        "type": r.expectation_config.type,
        "success": bool(r.success) and not raised,
        "observed_value": result.get("observed_value"),
        "unexpected_count": result.get("unexpected_count"),
        "details": result.get("details"),
        "error": str(raised[0].get("exception_message", "")).strip() if raised else "",
    }


def _result(check: Check, outcome: _Outcome | None) -> CheckResult:
    def make(status: str, failures: int | None, observed: Any, message: str) -> CheckResult:
        if status == "fail" and check.severity == "warn":
            status = "warn"
        return CheckResult(
            check.id,
            check.contract,
            check.kind.value,
            check.severity,
            status,
            failures,
            observed,
            message,
            outcome.evaluated_by if outcome else "gx",
        )

    if outcome is None or not outcome.answers:
        return make("error", None, None, "Great Expectations did not report this check")
    if check.kind == Kind.SCHEMA:
        return make(*_schema_result(outcome.answers))
    a = outcome.answers[0]
    failures = a["unexpected_count"]
    if failures is None and type(a["observed_value"]) is int:
        failures = a["observed_value"]  # unexpected rows: GX observes their count
    observed = a["observed_value"] if a["observed_value"] is not None else failures
    if a["error"]:
        return make("error", None, None, a["error"])
    note = (
        " (run by DuckDB: GX has no pandas unexpected-rows query)"
        if outcome.evaluated_by == "duckdb"
        else ""
    )
    if a["success"]:
        return make("pass", failures, observed, note.strip(" ()"))
    return make(
        "fail",
        failures,
        observed,
        f"{failures} failing{note}" if failures is not None else f"failed{note}",
    )


def _schema_result(answers: list[dict[str, Any]]) -> tuple[str, int | None, Any, str]:
    """The schema check from its column-set and per-column type expectations."""
    columns = next(a for a in answers if a["part"] == "columns")
    mismatch = (columns["details"] or {}).get("mismatched", {})
    missing = set(mismatch.get("missing", []))
    problems = [f"missing column {c}" for c in sorted(missing)]
    problems += [f"extra column {c}" for c in mismatch.get("unexpected", [])]
    if columns["error"]:
        problems.append(columns["error"])
    types: dict[str, Any] = {}
    for a in answers:
        if a["part"] != "type":
            continue
        types[a["column"]] = a["observed_value"]
        if a["column"] in missing:
            continue  # its type check errors too; the missing column says it all
        if a["error"]:
            problems.append(f"{a['column']}: {a['error']}")
        elif not a["success"]:
            problems.append(f"{a['column']} has type {a['observed_value']}")
    observed = {"columns": columns["observed_value"], "types": types}
    if problems:
        return "fail", len(problems), observed, "; ".join(problems)
    return "pass", None, observed, ""
