"""Run the compiled checks on the warehouse connection, sharing scans (issue #17).

`dbt build` runs each check as its own node: for every test dbt renders Jinja, opens a
connection, wraps the query in `select count(*) ... from (<test>)` and writes its artifacts,
so at 1M rows dbt's per-node work costs several times the checks' own SQL. `validate` instead
has dbt build only the models (`dbt run`: the views and tables, each model's enforced contract
being its schema check, and the shared per-item aggregates), then runs the checks here:

- row rules over one relation (not null, accepted values, pattern, ranges, not in future,
  custom expressions: every check whose failing-rows query is `SELECT ... FROM <relation>
  WHERE <condition>` with a condition that reads no other relation) are counted together in
  one aggregate query per relation, `SUM(CASE WHEN <condition> THEN 1 ELSE 0 END)` each: one
  scan instead of one per check, with the same count as `WHERE <condition>`;
- checks that judge a kind's per-group figures (agreement per batch, per annotator: a
  failing-rows query `SELECT * FROM (<values>) AS q WHERE <condition>`) fetch the figures
  once, each flagged `CASE WHEN <condition> THEN 1 ELSE 0 END`: their sum is the count of
  `WHERE <condition>`, and the figures are kept (`CheckRun.values`) for the run's metrics,
  which would otherwise compute the same figures again (`verdict/run_metrics.py`);
- every other check runs as `SELECT count(*) FROM (<its query>)`, its query being the text of
  the singular test dbt runs on this engine (`targets.dbt.singular_query`) or, for the generic
  column tests, the kind's failing-rows query, counted the way dbt's test macro counts
  (a duplicated value of `unique` is one failure; `labelpact_unique_key` groups NULL keys too).

A check is skipped, as dbt skips it, when a model it reads did not build. The counts are held to
dbt's: `tests/test_check_runner.py` compares them with `dbt build` for every fault of the
example data on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from validator.compiler.kinds import DbtForm, Kind
from validator.compiler.plan import Check, Plan
from validator.compiler.sql.checks import _PLACEHOLDER, failing_rows, fill_placeholders
from validator.compiler.sql.rows import col
from validator.compiler.targets.dbt import item_stats_models, singular_query
from validator.engines.dbt_runner import BuildResult, CheckOutcome
from validator.engines.warehouse import Warehouse
from validator.errors import EngineError

Log = Callable[[str], None]


@dataclass
class Query:
    """One statement run for the checks: its SQL and the checks whose counts it returns."""

    sql: str
    checks: list[str]
    seconds: float = 0.0


@dataclass
class CheckRun:
    """The outcome of every check, and the statements that produced them."""

    outcomes: dict[str, CheckOutcome] = field(default_factory=dict)
    queries: list[Query] = field(default_factory=list)
    # check id -> the rows of its kind's `values` (per-group figures), for checks run valued
    values: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)


def _filter(query: exp.Expr) -> tuple[exp.Expr, exp.Expr] | None:
    """(source, condition) when `query` is `SELECT <columns> FROM <source> WHERE <condition>`
    and nothing more (no join, grouping, ordering or limit), else None."""
    if not isinstance(query, exp.Select):
        return None
    used = {k for k, v in query.args.items() if v}
    if used - {"expressions", "from_", "from", "where"} or "where" not in used:
        return None
    source = query.args.get("from_") or query.args.get("from")
    if source is None:
        return None
    return source.this, query.args["where"].this


def row_condition(query: exp.Expr, relation: exp.Table) -> exp.Expr | None:
    """The condition of `query` when it is `SELECT <columns> FROM relation WHERE <condition>`
    over `relation` alone (no join, grouping, subquery, aggregate or window), else None."""
    parts = _filter(query)
    if parts is None or parts[0] != relation:
        return None
    condition = parts[1]
    if any(condition.find(t) for t in (exp.Select, exp.Subquery, exp.AggFunc, exp.Window)):
        return None
    return condition


def valued_query(query: exp.Expr) -> exp.Select | None:
    """For `query` = `SELECT * FROM (<values>) AS q WHERE <condition>`: `SELECT *, CASE WHEN
    <condition> THEN 1 ELSE 0 END AS lp_failing FROM (<values>) AS q` (every row of the
    figures, flagged as the filter keeps it), else None."""
    parts = _filter(query)
    if parts is None or not isinstance(parts[0], exp.Subquery):
        return None
    if len(query.expressions) != 1 or not isinstance(query.expressions[0], exp.Star):
        return None
    flag = exp.alias_(_case(parts[1]), "lp_failing")
    return exp.select(exp.Star(), flag).from_(parts[0].copy())


class Runner:
    """The checks of some plans, run on one open warehouse connection."""

    def __init__(
        self, wh: Warehouse, relations: dict[str, str], models: BuildResult, log: Log
    ) -> None:
        self.wh, self.relations, self.models, self.log = wh, relations, models, log
        self.run = CheckRun()

    def table(self, name: str) -> exp.Table:
        return exp.to_table(self.relations[name], dialect=self.wh.dialect.sqlglot)

    def sql(self, node: exp.Expr) -> str:
        return self.wh.dialect.render(node)

    def check_all(self, plans: list[Plan]) -> CheckRun:
        folded: dict[str, list[tuple[Check, exp.Expr]]] = {}
        alone: list[tuple[Check, str, exp.Select | None]] = []
        for plan in plans:
            stats = {c.id: m for m, cs in item_stats_models(plan).items() for c in cs}
            for check in plan.checks:
                if check.kind is Kind.SCHEMA:
                    continue
                skipped = self._unbuilt(self._reads(check, plan, stats.get(check.id)))
                if skipped:
                    self._outcome(check, None, 0.0, "", f"skipped: model {skipped} did not build")
                    continue
                query = self._failing(check, plan) if check.id not in stats else None
                condition = (
                    None if query is None else row_condition(query, self.table(check.contract))
                )
                if condition is not None:
                    folded.setdefault(check.contract, []).append((check, condition))
                else:
                    valued = self._valued(check, query)
                    count = self._count_sql(check, plan, stats.get(check.id))
                    alone.append((check, count, valued))
        for contract, checks in folded.items():
            self._folded(contract, checks)
        for check, sql, valued in alone:
            self._alone(check, sql, valued)
        self._shared_times()
        return self.run

    def _reads(self, check: Check, plan: Plan, stats_model: str | None) -> set[str]:
        """The models dbt's test of `check` reads (its `ref()`s)."""
        if check.params.dbt is DbtForm.SINGULAR:
            text = singular_query(check, plan.contract, self.wh.dialect, stats_model)
            return {m.group(2) for m in _PLACEHOLDER.finditer(text) if m.group(2)}
        return {check.contract, *check.params.relations()}

    def _unbuilt(self, reads: set[str]) -> str | None:
        """A model the check reads that did not build (dbt skips such a check)."""
        for name in sorted(reads):
            if self.models.models.get(name, "success") != "success":
                return name
        return None

    def _failing(self, check: Check, plan: Plan) -> exp.Expr | None:
        """The kind's failing-rows query of `check` (None: the kind has no SQL rendering)."""
        try:
            return failing_rows(check, self.table, self.wh.dialect, plan.contract.key)
        except ValueError:
            return None

    @staticmethod
    def _valued(check: Check, query: exp.Expr | None) -> exp.Select | None:
        """The flagged figures of a singular check judging its kind's `values` (small: one row
        per group or annotator), see `valued_query`."""
        if query is None or check.params.dbt is not DbtForm.SINGULAR:
            return None
        return valued_query(query) if hasattr(check.params, "values") else None

    def _count_sql(self, check: Check, plan: Plan, stats_model: str | None) -> str:
        """`SELECT count(*)` over the query dbt's test of `check` runs."""
        d = self.wh.dialect
        if check.kind is Kind.UNIQUE_KEY:  # as the macro `labelpact_unique_key`: NULLs group
            cols = [col(c) for c in getattr(check.params, "columns", ())]
            inner: str = self.sql(
                exp.select(*cols)
                .from_(self.table(check.contract))
                .group_by(*[c.copy() for c in cols])
                .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
            )
        elif check.params.dbt is DbtForm.SINGULAR:
            inner = fill_placeholders(
                singular_query(check, plan.contract, d, stats_model), self.relations.__getitem__
            )
        else:
            inner = self.sql(failing_rows(check, self.table, d, plan.contract.key))
        return f"SELECT count(*) FROM ({inner}) AS lp_failing"

    def _folded(self, contract: str, checks: list[tuple[Check, exp.Expr]]) -> None:
        counts = [
            exp.alias_(
                exp.func("COALESCE", exp.Sum(this=_case(cond)), _zero()),
                f"lp_f{i}",
            )
            for i, (_, cond) in enumerate(checks)
        ]
        query = exp.select(*counts).from_(self.table(contract))
        sql = self.sql(query)
        started = time.monotonic()
        try:
            _, rows = self.wh.query(sql)
        except EngineError as exc:  # one bad check must not take the others: one by one
            self.wh.recover()
            self.log(f"shared scan of {contract} failed ({exc}); running its checks one by one")
            for check, cond in checks:
                self._alone(check, self._one_sql(check, cond))
            return
        seconds = time.monotonic() - started
        self.run.queries.append(Query(sql, [c.id for c, _ in checks], seconds))
        for (check, cond), n in zip(checks, rows[0], strict=True):
            self._outcome(check, int(n), seconds / len(checks), self._one_sql(check, cond))

    def _one_sql(self, check: Check, cond: exp.Expr) -> str:
        query = exp.select(exp.Count(this=exp.Star())).from_(self.table(check.contract))
        return self.sql(query.where(cond.copy()))

    def _alone(self, check: Check, sql: str, valued: exp.Select | None = None) -> None:
        """Run `sql` (a count), or the `valued` figures whose flags sum to that count."""
        started = time.monotonic()
        run = sql if valued is None else self.sql(valued)
        try:
            _, rows = self.wh.query(run)
        except EngineError as exc:
            self.wh.recover()
            self._outcome(check, None, time.monotonic() - started, sql, str(exc), error=True)
            return
        seconds = time.monotonic() - started
        self.run.queries.append(Query(run, [check.id], seconds))
        if valued is None:
            failures = int(rows[0][0])
        else:
            failures = sum(int(r[-1]) for r in rows)
            self.run.values[check.id] = [tuple(r[:-1]) for r in rows]
        self._outcome(check, failures, seconds, sql)

    def _outcome(
        self,
        check: Check,
        failures: int | None,
        seconds: float,
        sql: str,
        message: str = "",
        error: bool = False,
    ) -> None:
        if error:
            status = "error"
        elif failures is None:
            status = "skipped"
        elif failures:
            status = "warn" if check.severity == "warn" else "fail"
            plural = "" if failures == 1 else "s"
            message = f"Got {failures} result{plural}, configured to {status} if != 0"
        else:
            status = "pass"
        self.run.outcomes[check.id] = CheckOutcome(
            check.id,
            check.contract,
            status,
            failures,
            message,
            check.severity,
            seconds,
            sql,
        )

    def _shared_times(self) -> None:
        """A shared per-item model's build time is its readers' (as `dbt build` reports)."""
        outcomes = self.run.outcomes
        for ids, seconds in self.models.shared:
            readers = [i for i in ids if i in outcomes]
            for i in readers:
                o = outcomes[i]
                outcomes[i] = CheckOutcome(
                    o.check_id,
                    o.contract,
                    o.status,
                    o.failures,
                    o.message,
                    o.severity,
                    o.duration + seconds / len(readers),
                    o.sql,
                )


def _case(condition: exp.Expr) -> exp.Case:
    """`CASE WHEN condition THEN 1 ELSE 0 END`: 1 exactly for the rows `WHERE condition` keeps."""
    then = exp.If(this=condition.copy(), true=exp.Literal.number(1))
    return exp.Case(ifs=[then], default=_zero())


def _zero() -> exp.Expr:
    return exp.Literal.number(0)


def run_checks(
    wh: Warehouse,
    plans: list[Plan],
    relations: dict[str, str],
    models: BuildResult,
    log: Log | None = None,
) -> CheckRun:
    """Every check of `plans` but the schema checks (`models` carries those: dbt's run of the
    models), on `wh`; `relations` maps contracts and shared models to their relations."""
    return Runner(wh, relations, models, log or (lambda _m: None)).check_all(plans)
