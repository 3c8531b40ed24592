"""Run each contract's GX suite through a real GX checkpoint; one result per check id.

    results = run_suites(plans, duckdb_path=Path("target/labelpact.duckdb"), schema="raw")

An ephemeral GX context gets one datasource, a table asset and whole-table batch definition per
contract, one ValidationDefinition per suite and one Checkpoint. Suites are rendered by
`targets.gx` from the same plans as the committed JSON. Everything GX gets wrong on these
engines is handled by `gx_workarounds.Workarounds`, and only there; where GX reads
the tables is `gx_sources`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.compiler.plan import Check, Kind, Plan
from validator.compiler.targets import gx as gx_target
from validator.contract.model import Contract
from validator.engines.gx_sources import (
    Source,
    _source,
)
from validator.engines.gx_workarounds import (
    WORKAROUNDS,
    Workarounds,
    _fmt,
)
from validator.errors import EngineError, LabelpactError

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
