"""`labelpact validate --incremental`: validate new batches in proportion to their size.

A contract opts in with `incremental: {batch: <column>}`. Every full `validate` leaves a state
file per such contract (beside the ledger): the row count and fingerprint of every batch, each
check's failure count, the column signature of the relation and the size of every relation a
check reads. An incremental run then finds the batches that are new since, and:

- row rules (not null, accepted values, ranges, provenance, instruction versions, custom
  expressions, references, ...), rules per batch (agreement, uncertainty, label mix, audited
  error rates, when grouped by the batch column) and revision chains (the parent exists, no
  cycle, a correction is later than what it corrects) run on the new batches only; their
  failures add to the stored ones. A relation the new rows look values up in (the items of a
  reference, the audit results of their labels) is read only where it holds their values. For
  revision chains this holds because the run goes on only while no row of a new batch and no
  row of an older one name each other as parent: every chain lies within the old batches or
  within the new ones;
- uniqueness is checked for the values the new rows carry, against the whole table, so a key
  duplicated across an old and a new batch is caught; a value that was already duplicated is
  not counted twice;
- rules per item (coverage, adjudication, one current row per lineage) run on the new batches
  when the items in them are new items and the adjudication records of old items are as
  before; otherwise they run on the whole table;
- per-annotator agreement keeps, per annotator, the number of labels with a reference and how
  many of those agree with it; a label's reference depends only on its item, so under the same
  conditions as rules per item the new batches' counts add to the stored ones and the rule
  judges the totals (else it reads the whole table). The per-annotator rates of low-confidence
  and of corrected labels keep their counts the same way, added up whatever items the new
  batches label (each row counts on its own), and so do the counts per annotator and label
  that the label mix is computed from. So do the audited error rates: each audit result
  names one label, and the audits naming the new batches' labels add to each group's stored
  counts while the audit results naming older labels hash as in the last run (one pass over
  the audit results: `ContractRun._matched_signature`); an audit of an older label that arrived
  or changed since sends the rule to the whole table;
- items without annotations keep their stored failures while the items that no new row names
  hash as the whole items relation did in the last run (the same one pass, over the items):
  then the new rows name only items that are new as well, and every new item is named. A new
  row naming an older item (which may repair a failure) or a new item nobody labels sends the
  rule to the whole table;
- everything else (one instruction version per split, the registry, the per-annotator
  turnaround) runs on the whole table, and says so: a figure that is not a sum (a
  percentile), or a rule over the whole registry.

New batches are found without counting the old ones (`new_batch_counts`): one `count(*)` of
the relation checks the stored sizes still add up, and only the rows of batches that sort
after the last validated one (a range the warehouse can skip old blocks for; for text ids
also in natural order, `b10000` after `b9999`), or failing that the rows outside the
validated batches, are grouped and counted.

The fingerprint of the data is the stored fingerprint of the old batches plus that of the new
ones (row hashes are summed and xor-ed, so this equals the fingerprint of the whole table that
`gate` recomputes). When the assumptions do not hold (a validated batch changed or vanished, a
correction in a new batch corrects an old row or an old row names a new one as its parent, the
columns changed, no state yet), the run is a full validation and says why.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp

from validator.compiler.kinds import Incremental, UniqueKey
from validator.compiler.kinds.base import Summed, filtered_rows
from validator.compiler.plan import Check, Plan
from validator.compiler.sql.checks import RelationFor, failing_rows
from validator.compiler.sql.templates import literal
from validator.contract.model import Contract
from validator.engines.warehouse import Warehouse, fingerprint_hash
from validator.errors import EngineError, LabelpactError
from validator.settings import Settings
from validator.verdict.run_metrics import Figures, figures

STATE_FORMAT = 4  # 4: fingerprints of relations whose rows name the contract's
SMALL_RELATION = 100_000  # other relations up to this size are compared by content, not size
MAX_SUMS = 10_000  # a check's sums are kept up to this many rows (groups, or group and label)


class NotIncremental(LabelpactError):
    """The data or the state do not allow an incremental run; the reason says why."""


def state_path(settings: Settings, contract: str) -> Path:
    return settings.ledger_path.parent / "state" / f"{contract}.json"


def item_column(contract: Contract) -> str | None:
    s = contract.sections
    for section in (s.coverage, s.agreement, s.adjudication):
        if section is not None and section.item:
            return section.item
    return None


def batch_column(contract: Contract) -> str:
    """The column naming each row's batch (contracts with an `incremental` section)."""
    assert contract.sections.incremental is not None, "not an incremental contract"
    return contract.sections.incremental.batch


def mode(check: Check, contract: Contract) -> str:
    """How an incremental run computes `check`: rows | unique | items | sums | row_sums |
    unmatched | full | schema (as its kind declares: `Params.incremental`)."""
    p = check.params
    if p.incremental is Incremental.PER_GROUP:
        return "rows" if p.group_column() == batch_column(contract) else "full"
    if p.incremental is Incremental.ROW_SUMS and p.group_column() == batch_column(contract):
        return "rows"  # groups of new batches only: nothing to add to
    if p.incremental in (Incremental.PER_ITEM, Incremental.ITEM_SUMS):
        item = item_column(contract)
        if item is None or item not in p.item_columns():
            return "full"
        return "items" if p.incremental is Incremental.PER_ITEM else "sums"
    return {
        Incremental.SCHEMA: "schema",
        Incremental.ROWS: "rows",
        Incremental.UNIQUE: "unique",
        Incremental.ROW_SUMS: "row_sums",
        Incremental.UNMATCHED: "unmatched",
        Incremental.FULL: "full",
    }[p.incremental]


def other_relations(check: Check) -> set[str]:
    """Other contracts' relations the check reads (its kind's `relation()` parameters)."""
    return check.params.relations() - {check.contract}


def signatures(
    wh: Warehouse,
    plan: Plan,
    contracts: dict[str, Contract],
    relations: dict[str, str],
    skip: set[str] | frozenset[str] = frozenset(),
) -> dict[str, dict[str, Any]]:
    """`relation_signature` of every other contract's relation the plan's checks read (but
    `skip`), with a fingerprint whatever its size for those whose rows name the contract's
    (`keyed_relations`)."""
    read = set().union(*(other_relations(c) for c in plan.checks)) - skip
    matched = matched_relations(plan)
    return {
        name: relation_signature(wh, relations[name], contracts[name], exact=name in matched)
        for name in sorted(read)
    }


def matched_relations(plan: Plan) -> dict[str, Check]:
    """Other contracts whose rows checks run from the new batches match to the plan's
    contract's rows (ROW_SUMS and UNMATCHED kinds with `Params.matched_records`): contract ->
    such a check. The checks hold while the rows that no new row matches are as before, which
    a fingerprint shows (`ContractRun._matched_signature`). A relation matched in two ways (by
    other columns, or from rows another filter keeps) is left out: its checks read the whole
    table."""
    found: dict[str, dict[tuple[Any, ...], Check]] = {}
    for check in plan.checks:
        matched = check.params.matched_records()
        if matched is None or mode(check, plan.contract) not in ("rows", "row_sums", "unmatched"):
            continue
        way = (*matched[1:], getattr(check.params, "where", None))
        found.setdefault(matched[0], {})[way] = check
    return {name: next(iter(ways.values())) for name, ways in found.items() if len(ways) == 1}


def measure(
    wh: Warehouse,
    plan: Plan,
    contracts: dict[str, Contract],
    relations: dict[str, str],
    source: str,
    known: Figures | None = None,
) -> dict[str, Any]:
    """What a full validation records for later incremental runs (besides failure counts).
    `known`: the `values` rows the run's checks fetched, by check id (the per-group sums of
    ITEM_SUMS kinds are taken from them, else read).

    Batches are fingerprinted on the contract's `source` relation with every column it has,
    as `Warehouse.fingerprint` does for the whole relation, so their total is that
    fingerprint (see `source_fingerprint`)."""
    own = relations[plan.contract.name]
    schema = [list(c) for c in wh.schema(source)]
    columns = [name for name, _ in schema]
    try:
        model_columns: list[list[str]] | None = [list(c) for c in wh.columns(own)]
    except EngineError:  # the model was not built (its schema check failed): no signature,
        model_columns = None  # so the next incremental run validates in full
    return {
        "batches": batch_fingerprints(wh, source, plan.contract, columns),
        "columns": model_columns,
        "signatures": signatures(wh, plan, contracts, relations),
        "source": {"relation": source, "schema": schema},
        "sums": _sums(wh, plan, relations, known or {}),
    }


def _sums(
    wh: Warehouse, plan: Plan, relations: dict[str, str], known: Figures
) -> dict[str, list[list[Any]]]:
    """Per check run from sums (ITEM_SUMS, ROW_SUMS kinds), its `sums` over the whole table
    (a check whose query failed, or with more than MAX_SUMS rows of them, has none: the next
    incremental run reads the whole table)."""
    out: dict[str, list[list[Any]]] = {}
    for check in plan.checks:
        p = check.params
        if mode(check, plan.contract) not in ("sums", "row_sums"):
            continue
        assert isinstance(p, Summed), f"{check.kind} runs from sums"

        def rel(name: str) -> exp.Table:
            return _table(wh, relations[name])

        try:
            rows = figures(wh, check, rel, known) if p.sums_are_values else None
            if rows is None:
                rows = wh.query(p.sums(check, rel).sql(dialect=wh.dialect.sqlglot))[1]
        except EngineError:
            continue
        if len(rows) <= MAX_SUMS:
            out[check.id] = [list(r) for r in p.add(rows)]
    return out


def source_fingerprint(wh: Warehouse, state: dict[str, Any]) -> dict[str, Any]:
    """The fingerprint of the source relation, from its batches' fingerprints."""
    batches = state["batches"]
    if not isinstance(batches, Batches):
        batches = Batches(batches)
    return {
        "relation": state["source"]["relation"],
        **batches.total(),
        "algorithm": wh.fingerprint_algorithm(),
        "schema": state["source"]["schema"],
    }


# ---------------------------------------------------------------------------------------------
# What a run measures: per-batch counts and fingerprints, relation sizes, column signatures.


@dataclass
class Batches:
    """Per batch value (JSON-encoded, so NULL and non-strings are keys too): rows, sum, xor."""

    rows: dict[str, list[Any]]

    def total(self) -> dict[str, Any]:
        n = sum(int(v[0]) for v in self.rows.values())
        total, xor = 0, 0
        for _, s, x in self.rows.values():
            total += int(s)
            xor ^= int(x)
        return {"rows": n, "hash": fingerprint_hash(total, xor)}


def _table(wh: Warehouse, relation: str) -> exp.Table:
    return exp.to_table(relation, dialect=wh.dialect.sqlglot)


def batch_fingerprints(
    wh: Warehouse,
    relation: str | exp.Expr,
    contract: Contract,
    columns: list[str],
    only: list[Any] | None = None,
) -> Batches:
    """Row count, hash sum and hash xor per batch (the `fingerprint` of each batch)."""
    batch = batch_column(contract)
    source = _table(wh, relation) if isinstance(relation, str) else relation
    query = wh.dialect.fingerprint(source, columns)
    query = query.select(exp.column(batch, quoted=True).as_("lp_batch")).group_by(
        exp.column(batch, quoted=True)
    )
    if only is not None:
        query = query.where(_in_batches(batch, only))
    _, rows = wh.query(query.sql(dialect=wh.dialect.sqlglot))
    return Batches({_key(b): [int(n), str(s or 0), str(x or 0)] for n, s, x, b in rows})


def batch_counts(wh: Warehouse, relation: str, batch: str) -> dict[str, int]:
    col = exp.column(batch, quoted=True)
    query = exp.select(col, exp.Count(this=exp.Star())).from_(_table(wh, relation)).group_by(col)
    _, rows = wh.query(query.sql(dialect=wh.dialect.sqlglot))
    return {_key(b): int(n) for b, n in rows}


def new_batch_counts(
    wh: Warehouse, relation: str, batch: str, known: dict[str, int]
) -> tuple[int, dict[str, int]]:
    """(rows of `relation`, rows per batch outside the `known` batches (key -> stored rows)).

    Finding new batches without counting the old ones' rows: one `count(*)` of the relation
    is the change detector (the stored sizes plus the new rows must add up to it; most
    warehouses answer it from metadata). When it says nothing is new, that is all. Otherwise
    the rows whose batch sorts after the last known one are grouped and counted: a range
    filter, which warehouses with min/max statistics (DuckDB's zone maps, Parquet, Snowflake
    micro-partitions) answer by skipping the old batches' blocks when batches are appended in
    order; for text ids, then those sorting after the last one in natural order (longer, or
    as long and greater: `b10000` after `b9999`, which the warehouse sorts before it). Only
    when neither accounts for every new row (batch ids out of order, NULL batches, or an old
    batch changed) does one pass over the batch column group and count the rows outside the
    known batches. What the detector cannot see: rows moved between old
    batches, or deleted from one and added to another in equal numbers (as an edit inside a
    batch that keeps its size: run a full validation on a schedule)."""
    table = _table(wh, relation)
    _, rows = wh.query(
        exp.select(exp.Count(this=exp.Star())).from_(table).sql(dialect=wh.dialect.sqlglot)
    )
    total = int(rows[0][0])
    expected = total - sum(known.values())
    if expected <= 0:
        return total, {}
    col = exp.column(batch, quoted=True)
    values = _values(list(known))
    for after in _after_known(col, values):
        tail = _grouped_counts(wh, table, col, after)
        if sum(tail.values()) == expected and not set(tail) & set(known):
            return total, tail
    outside = _grouped_counts(wh, table, col, _old_batches(batch, values))
    return total, outside


def _after_known(col: exp.Column, values: list[Any]) -> list[exp.Expr]:
    """Conditions for the batches that sort after every known one, when all known values are
    strings or all integers: in the warehouse's order, and for strings in natural order."""
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return [col.copy() > literal(max(values))]
    if not values or not all(isinstance(v, str) for v in values):
        return []
    last = max(values, key=lambda v: (len(v), v))
    length = exp.Length(this=col.copy())
    natural = exp.or_(
        length > exp.Literal.number(len(last)),
        exp.and_(length.copy().eq(exp.Literal.number(len(last))), col.copy() > literal(last)),
    )
    return [col.copy() > literal(max(values)), natural]


def _grouped_counts(
    wh: Warehouse, table: exp.Table, col: exp.Column, where: exp.Expr
) -> dict[str, int]:
    query = (
        exp.select(col.copy(), exp.Count(this=exp.Star()))
        .from_(table.copy())
        .where(where)
        .group_by(col.copy())
    )
    _, rows = wh.query(query.sql(dialect=wh.dialect.sqlglot))
    return {_key(b): int(n) for b, n in rows}


def relation_signature(
    wh: Warehouse, relation: str, contract: Contract, exact: bool = False
) -> dict[str, Any]:
    """Size of a relation, and its fingerprint when it is small enough to hash every time
    (or `exact`)."""
    if not exact:
        _, rows = wh.query(
            exp.select(exp.Count(this=exp.Star()))
            .from_(_table(wh, relation))
            .sql(dialect=wh.dialect.sqlglot)
        )
        n = int(rows[0][0])
        if n > SMALL_RELATION:
            return {"rows": n}
    fp = wh.fingerprint(relation, list(contract.columns))
    return {"rows": fp["rows"], "hash": fp["hash"]}


def _key(value: Any) -> str:
    return json.dumps(
        value if value is None or isinstance(value, (int, float, str)) else str(value)
    )


def _values(keys: list[str]) -> list[Any]:
    return [json.loads(k) for k in keys]


def _old_batches(batch: str, keys: list[Any]) -> exp.Expr:
    """Rows of every other batch (a NULL batch included when it is not among `keys`)."""
    return exp.func("COALESCE", exp.Not(this=exp.paren(_in_batches(batch, keys))), exp.true())


def _in_batches(batch: str, keys: list[Any]) -> exp.Expr:
    """`batch IN (...)`, with NULL batches matched explicitly."""
    col = exp.column(batch, quoted=True)
    values = [v for v in keys if v is not None]
    parts: list[exp.Expr] = []
    if values:
        parts.append(exp.In(this=col, expressions=[literal(v) for v in values]))
    if len(values) < len(keys):
        parts.append(exp.Is(this=col.copy(), expression=exp.Null()))
    return exp.or_(*parts) if parts else exp.false()


# ---------------------------------------------------------------------------------------------
# State: written by every full validation, read and advanced by incremental ones.


def write_state(
    settings: Settings,
    contract: Contract,
    relations: dict[str, str],
    measured: dict[str, Any],
    failures: dict[str, int | None],
    ledger_seq: int | None,
) -> None:
    """Record `measure`'s result and the failure counts of a validation that passed through
    the ledger as entry `ledger_seq`."""
    from validator import __version__
    from validator.compiler.artifacts import write_artifacts

    path = state_path(settings, contract.name)
    state = {
        "format": STATE_FORMAT,
        "labelpact": __version__,
        "contract": contract.name,
        "version": contract.version,
        "ledger_seq": ledger_seq,
        "relations": relations,
        "columns": measured["columns"],
        "batches": measured["batches"].rows,
        "signatures": measured["signatures"],
        "source": measured["source"],
        "sums": measured["sums"],
        "failures": failures,
    }
    write_artifacts({path.name: json.dumps(state, sort_keys=True) + "\n"}, path.parent)


def read_state(settings: Settings, contract: Contract) -> dict[str, Any]:
    from validator import __version__

    path = state_path(settings, contract.name)
    if not path.exists():
        raise NotIncremental(f"no state for '{contract.name}' yet (a full validation writes it)")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotIncremental(f"state file {path} is unreadable ({exc})") from exc
    if state.get("format") != STATE_FORMAT or state.get("labelpact") != __version__:
        raise NotIncremental(f"state file {path} was written by another labelpact version")
    if state.get("version") != contract.version:
        raise NotIncremental(
            f"contract '{contract.name}' changed version since the last full "
            f"validation ({state.get('version')} -> {contract.version})"
        )
    if any(v is None for v in state["failures"].values()):
        raise NotIncremental("the last full validation had checks that did not run")
    return state


# ---------------------------------------------------------------------------------------------
# The incremental run of one contract.


@dataclass
class Outcome:
    failures: int | None  # None: a check without a count (the schema, as in a full run)
    mode: str
    duration: float
    sql: str


class ContractRun:
    """Everything an incremental run of one contract needs, measured once."""

    def __init__(
        self, wh: Warehouse, plan: Plan, contracts: dict[str, Contract], state: dict[str, Any]
    ) -> None:
        self.wh, self.plan, self.contracts, self.state = wh, plan, contracts, state
        self.contract = plan.contract
        self.batch = batch_column(self.contract)
        self.relations: dict[str, str] = state["relations"]
        self.own = self.relations[self.contract.name]
        self.source: str = state["source"]["relation"]
        self.source_columns = [name for name, _ in state["source"]["schema"]]
        self._check_columns()
        self.new = self._new_batches()
        self._check_corrections()
        matched = matched_relations(plan)
        self.signatures = signatures(wh, plan, contracts, self.relations, skip=set(matched))
        # contract -> whether its rows that no new row matches are as the last run left them
        self.matched_same: dict[str, bool] = {}
        self.matched_by: dict[str, tuple[str, str]] = {}  # contract -> (its column, ours)
        for name, check in matched.items():
            self.signatures[name], self.matched_same[name] = self._matched_signature(check)
            self.matched_by[name] = check.params.matched_records()[1:]  # type: ignore[index]
        self.items_reason = self._items_reason()
        self.sums: dict[str, list[list[Any]]] = {}  # ITEM_SUMS checks' totals after this run

    def _check_columns(self) -> None:
        if [list(c) for c in self.wh.columns(self.own)] != self.state["columns"]:
            raise NotIncremental(
                f"the columns of {self.own} changed since the last full validation"
            )
        if [list(c) for c in self.wh.schema(self.source)] != self.state["source"]["schema"]:
            raise NotIncremental(
                f"the columns of {self.source} changed since the last full validation"
            )

    def _new_batches(self) -> list[str]:
        """The batches not validated before, found without counting the old batches' rows
        (`new_batch_counts`); an old batch that changed size stops the run."""
        before: dict[str, list[Any]] = self.state["batches"]
        known = {key: int(info[0]) for key, info in before.items()}
        total, new = new_batch_counts(self.wh, self.own, self.batch, known)
        if total != sum(int(info[0]) for info in before.values()) + sum(new.values()):
            # Some old batch changed: only now count every batch, to say which one.
            now = batch_counts(self.wh, self.own, self.batch)
            for key, info in before.items():
                if now.get(key) != info[0]:
                    raise NotIncremental(
                        f"batch {json.loads(key)!r} changed since it was "
                        f"validated ({info[0]} -> {now.get(key, 0)} rows)"
                    )
            raise NotIncremental(f"the row count of {self.own} changed in validated batches")
        return sorted(new)

    def restricted(self, relation: str | None = None) -> exp.Expr:
        """The contract's relation (or `relation`: its source), new batches only."""
        return (
            exp.select("*")
            .from_(_table(self.wh, relation or self.own))
            .where(_in_batches(self.batch, _values(self.new)))
            .subquery("lp_new")
        )

    def _check_corrections(self) -> None:
        r = self.contract.sections.revisions
        if r is None or not self.new:
            return
        key, parent = _q(self.wh, self.contract.key[0]), _q(self.wh, r.parent)
        new = self._sql(self.restricted())
        old = self._sql(_old_batches(self.batch, _values(self.new)))
        # Inner joins on the few parents the new rows name, and on the new keys: the old keys
        # and parents are only scanned.
        sql = (
            f"SELECT count(*) FROM {self.own} AS o JOIN (SELECT DISTINCT {parent} AS p "
            f"FROM {new} WHERE {parent} IS NOT NULL) AS c ON o.{key} = c.p WHERE {old}"
        )
        if self._count(sql):
            raise NotIncremental("a correction in a new batch corrects a row of an older batch")
        # The other way round (a row validated before named a key that only now arrived: its
        # revision_parent failure would now be fixed, and the new row no longer current).
        sql = (
            f"SELECT count(*) FROM {self.own} AS o JOIN (SELECT DISTINCT {key} AS k "
            f"FROM {new}) AS n ON o.{parent} = n.k WHERE o.{parent} IS NOT NULL AND {old}"
        )
        if self._count(sql):
            raise NotIncremental("a row of an older batch names a row of a new batch as its parent")

    def _matched_signature(self, check: Check) -> tuple[dict[str, Any], bool]:
        """(the signature of the relation `check` matches rows to, whether its rows that no
        row of the new batches matches hash as the whole relation did in the last run), in one
        pass: rows a new row matches may be new, any other change shows."""
        matched = check.params.matched_records()
        assert matched is not None, "a check of `matched_relations`"
        name, theirs, ours = matched
        relation = self.relations[name]
        columns = list(self.contracts[name].columns)
        mine = filtered_rows(check, self._rel_for(check, "rows"))
        new_keys = exp.select(exp.column(ours, quoted=True).as_("lp_k")).from_(mine).distinct()
        flagged = (
            exp.select(
                "r.*",
                exp.case()
                .when(exp.column("lp_k", "k").is_(exp.null()), exp.Literal.number(0))
                .else_(exp.Literal.number(1))
                .as_("lp_new"),
            )
            .from_(_table(self.wh, relation).as_("r"))
            .join(
                new_keys.subquery("k"),
                on=exp.column(theirs, "r", quoted=True).eq(exp.column("lp_k", "k")),
                join_type="left",
            )
            .subquery("lp_r")
        )
        query = (
            self.wh.dialect.fingerprint(flagged, columns)
            .select(exp.column("lp_new"))
            .group_by(exp.column("lp_new"))
        )
        _, rows = self.wh.query(self._sql(query))
        parts = {int(flag): [int(n), str(h or 0), str(x or 0)] for n, h, x, flag in rows}
        total = Batches({str(flag): part for flag, part in parts.items()}).total()
        older = Batches({"0": parts[0]} if 0 in parts else {}).total()
        stored = self.state["signatures"].get(name, {})
        return total, "hash" in stored and older == stored

    def _items_reason(self) -> str | None:
        """Why rules per item cannot run on the new batches alone (None: they can)."""
        item = item_column(self.contract)
        if item is None or not self.new:
            return None
        new = self._sql(self.restricted())
        old = self._sql(_old_batches(self.batch, _values(self.new)))
        i = _q(self.wh, item)
        # An inner join on the new items first: the old batches' rows are only scanned, and
        # the old-batch condition is evaluated on the few that match.
        if self._count(
            f"SELECT count(*) FROM {self.own} AS o JOIN (SELECT DISTINCT {i} AS lp_i FROM "
            f"{new} WHERE {i} IS NOT NULL) AS n ON o.{i} = n.lp_i WHERE {old}"
        ):
            return "the new batches label items that older batches labelled too"
        records_of = {x for c in self.plan.checks if (x := c.params.item_records()) is not None}
        for contract, rec_item in sorted(records_of):
            before = self.state["signatures"].get(contract, {}).get("rows")
            rec = _q(self.wh, rec_item)
            n = self._count(
                f"SELECT count(*) FROM {self.relations[contract]} WHERE {rec} IS NULL OR {rec} "
                f"NOT IN (SELECT {i} FROM {new} WHERE {i} IS NOT NULL)"
            )
            if n != before:
                return "adjudication records of older items changed"
        return None

    def _sql(self, node: exp.Expr) -> str:
        return node.sql(dialect=self.wh.dialect.sqlglot)

    def _count(self, sql: str) -> int:
        _, rows = self.wh.query(sql)
        return int(rows[0][0])

    # -- one check --------------------------------------------------------------------------

    def run(self, check: Check) -> Outcome:
        started = time.monotonic()
        before = int(self.state["failures"][check.id])
        how = mode(check, self.contract)
        if how == "schema":  # the column signature was compared above
            return Outcome(None, how, time.monotonic() - started, "")
        if how in ("sums", "row_sums"):
            return self._summed(check, how, before, started)
        if how == "unmatched":
            if self._matched_same(check) and not self._others_changed(check, before, how):
                return Outcome(before, how, time.monotonic() - started, "")
            how = "full"
        if how in ("rows", "items") and self._others_changed(check, before, how):
            how = "full"
        if how == "rows" and not self._matched_same(check):
            how = "full"
        if how == "items" and self.items_reason:
            how = "full"
        if not self.new and how != "full":
            return Outcome(before, how, time.monotonic() - started, "")
        if how == "unique":
            sql = self._unique_sql(check)
            return Outcome(before + self._count(sql), how, time.monotonic() - started, sql)
        rel = self._rel_for(check, how)
        query = failing_rows(check, rel, self.wh.dialect, self.contract.key)
        sql = f"SELECT count(*) FROM ({self._sql(query)}) AS lp_f"
        found = self._count(sql)
        total = found if how == "full" else before + found
        return Outcome(total, how, time.monotonic() - started, sql)

    def _summed(self, check: Check, how: str, before: int, started: float) -> Outcome:
        """A check run from sums: the stored per-group sums plus those of the new batches
        (ITEM_SUMS: when per-item rules may read only them), else the whole table's; the rule
        judges the totals."""
        p: Any = check.params
        stored = self.state["sums"].get(check.id)
        scope = "items" if how == "sums" else "rows"
        if (
            stored is None
            or (how == "sums" and self.items_reason)
            or not self._matched_same(check)
            or self._others_changed(check, before, scope)
        ):
            how = "full"
        sql = ""
        if how == "full" or self.new:
            read = self._rel_for(check, "full" if how == "full" else scope)
            sql = self._sql(p.sums(check, read))
            found = self.wh.query(sql)[1]
            rows = p.add(found) if how == "full" else p.add(stored, found)
        else:
            rows = p.add(stored)
        if len(rows) > MAX_SUMS:  # too many to keep, or to judge held in a query
            query = failing_rows(check, self._rel_for(check, "full"), self.wh.dialect, ())
            sql = f"SELECT count(*) FROM ({self._sql(query)}) AS lp_f"
            return Outcome(self._count(sql), "full", time.monotonic() - started, sql)
        self.sums[check.id] = [list(r) for r in rows]
        judged = f"SELECT count(*) FROM ({self._sql(p.judge_rows(rows))}) AS lp_f"
        failures = self._count(judged) if rows else 0
        return Outcome(failures, how, time.monotonic() - started, sql or judged)

    def _matched_same(self, check: Check) -> bool:
        """Whether the rows the check matches to this contract's rows, other than those new
        rows match, are as in the last run (True: it matches none)."""
        matched = check.params.matched_records()
        return matched is None or self.matched_same.get(matched[0], False)

    def _others_changed(self, check: Check, failures_before: int, how: str) -> bool:
        lookup = check.params.lookup(check) if how == "rows" else None
        for name in other_relations(check):
            if name == _records_of(check, how):
                continue  # compared in `_items_reason` / `_matched_signature`
            if lookup and lookup[0] == name and self.matched_by.get(name) == lookup[1:]:
                # fingerprinted: the rows no new row names are as before, so old rows find
                # what they found (a failure might now be fixed: then the whole table)
                if not self.matched_same[name] or failures_before:
                    return True
                continue
            old, now = self.state["signatures"].get(name), self.signatures.get(name)
            if old is None or now is None or old == now:
                continue
            small = "hash" in now and now["rows"] <= SMALL_RELATION
            if small or now["rows"] < old["rows"] or failures_before:
                return True  # small relations: any change; large ones: shrank, or may fix
        return False

    def _rel_for(self, check: Check, how: str) -> RelationFor:
        p = check.params
        # A relation new rows look values up in, or whose rows are matched to theirs: only
        # its rows holding the new rows' values matter (read through a semi-join).
        looked_up = (p.lookup(check) or p.matched_records()) if how == "rows" else None

        def rel(name: str) -> exp.Expr:
            if how != "full" and name == self.contract.name:
                return self.restricted()
            if looked_up is not None and name == looked_up[0]:
                mine = exp.select(exp.column(looked_up[2], quoted=True)).from_(self.restricted())
                return (
                    exp.select("*")
                    .from_(_table(self.wh, self.relations[name]))
                    .where(exp.column(looked_up[1], quoted=True).isin(query=mine))
                    .subquery("lp_looked_up")
                )
            if (
                how == "items"
                and (item_records := check.params.item_records()) is not None
                and (name == item_records[0])
            ):
                item = exp.column(item_records[1], quoted=True)
                own_item = item_column(self.contract)
                assert own_item, "items mode is chosen only for contracts with an item column"
                mine = exp.select(exp.column(own_item, quoted=True)).from_(self.restricted())
                return (
                    exp.select("*")
                    .from_(_table(self.wh, self.relations[name]))
                    .where(item.isin(query=mine))
                    .subquery("lp_records")
                )
            return _table(self.wh, self.relations[name])

        return rel

    def sample_relation(self, check: Check, how: str) -> RelationFor | None:
        """Relations to draw failing rows from: the new batches where the check read them
        (a failure carried over from earlier runs has no sample here), else whole tables."""
        return self._rel_for(check, how) if how in ("rows", "items") else None

    def _unique_sql(self, check: Check) -> str:
        """Values carried by new rows that are now duplicated and were not before."""
        if check.column:
            cols = [check.column]
        else:
            assert isinstance(check.params, UniqueKey)
            cols = list(check.params.columns)
        q = [_q(self.wh, c) for c in cols]
        new_rows = self._sql(_in_batches(self.batch, _values(self.new)))
        notnull = " AND ".join(f"{c} IS NOT NULL" for c in q) if check.column else "1 = 1"
        tup = ", ".join(q)
        match = (
            f"{q[0]} IN (SELECT {q[0]} FROM {self.own} WHERE {new_rows})"
            if len(q) == 1
            else f"({tup}) IN (SELECT {tup} FROM {self.own} WHERE {new_rows})"
        )
        return (
            f"SELECT count(*) FROM (SELECT {tup}, count(*) AS n, "
            f"sum(CASE WHEN {new_rows} THEN 0 ELSE 1 END) AS n_old FROM {self.own} "
            f"WHERE {notnull} AND {match} GROUP BY {tup}) AS lp_u "
            "WHERE n > 1 AND n_old <= 1"
        )


def _records_of(check: Check, how: str) -> str | None:
    """The contract whose records a check reads item by item (`how` = items), or matched to
    its rows (rows, unmatched), if any."""
    p = check.params
    records = {
        "items": p.item_records(),
        "rows": p.matched_records(),
        "unmatched": p.matched_records(),
    }
    found = records.get(how)
    return found[0] if found is not None else None


def _q(wh: Warehouse, name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=wh.dialect.sqlglot)
