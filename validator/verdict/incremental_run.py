"""The incremental run of one contract (`validate --incremental`; see `verdict/incremental.py`
for what it computes how, and when it gives up)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from validator.compiler.kinds import UniqueKey
from validator.compiler.kinds.base import filtered_rows
from validator.compiler.plan import Check, Plan
from validator.compiler.sql.checks import RelationFor, failing_rows
from validator.contract.model import Contract
from validator.engines.warehouse import Warehouse
from validator.verdict.batches import (
    SMALL_RELATION,
    Batches,
    batch_column,
    batch_counts,
    batch_values,
    in_batches,
    new_batch_counts,
    other_batches,
    relation_table,
)
from validator.verdict.incremental import (
    MAX_SUMS,
    NotIncremental,
    item_column,
    matched_relations,
    mode,
    other_relations,
    signatures,
)


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
        self.matched = matched_relations(plan)  # contract -> the check matching its rows
        self.signatures = signatures(wh, plan, contracts, self.relations, skip=set(self.matched))
        # contract -> whether its rows that no new row matches are as the last run left them
        self.matched_same: dict[str, bool] = {}
        for name, check in self.matched.items():
            self.signatures[name], self.matched_same[name] = self._matched_signature(check)
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
            .from_(relation_table(self.wh, relation or self.own))
            .where(in_batches(self.batch, batch_values(self.new)))
            .subquery("lp_new")
        )

    def _check_corrections(self) -> None:
        r = self.contract.sections.revisions
        if r is None or not self.new:
            return
        key, parent = _q(self.wh, self.contract.key[0]), _q(self.wh, r.parent)
        new = self._sql(self.restricted())
        old = self._sql(other_batches(self.batch, batch_values(self.new)))
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
            .from_(relation_table(self.wh, relation).as_("r"))
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

    def _items_all_new(self, item: str) -> bool:
        """Whether the fingerprints already show that no old row names an item a new row
        names: every old row's item was in the items relation (its reference had no failures)
        and the items that no new row names hash as before, so any item a new row names is
        one the relation did not have (else that item's row would have left the unchanged
        part), hence no old row's."""
        for check in self.plan.checks:
            look = check.params.lookup(check)
            if look is None or look[2] != item:
                continue
            if (
                self._matched_like(look)
                and getattr(self.matched[look[0]].params, "where", None) is None
                and self.matched_same[look[0]]
                and int(self.state["failures"][check.id]) == 0
            ):
                return True
        return False

    def _matched_like(self, look: tuple[str, str, str]) -> bool:
        """Whether a lookup (contract, its column, ours) goes by the columns its relation's
        rows are matched by (`matched_relations`)."""
        check = self.matched.get(look[0])
        return check is not None and check.params.matched_records() == look

    def _items_reason(self) -> str | None:
        """Why rules per item cannot run on the new batches alone (None: they can)."""
        item = item_column(self.contract)
        if item is None or not self.new:
            return None
        new = self._sql(self.restricted())
        old = self._sql(other_batches(self.batch, batch_values(self.new)))
        i = _q(self.wh, item)
        # An inner join on the new items first: the old batches' rows are only scanned, and
        # the old-batch condition is evaluated on the few that match.
        if not self._items_all_new(item) and self._count(
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
            if lookup and lookup[0] == name and self._matched_like(lookup):
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
                return self._holding_new(name, looked_up[1], looked_up[2], "lp_looked_up")
            if (
                how == "items"
                and (item_records := check.params.item_records()) is not None
                and (name == item_records[0])
            ):
                own_item = item_column(self.contract)
                assert own_item, "items mode is chosen only for contracts with an item column"
                return self._holding_new(name, item_records[1], own_item, "lp_records")
            return relation_table(self.wh, self.relations[name])

        return rel

    def _holding_new(self, name: str, theirs: str, ours: str, alias: str) -> exp.Expr:
        """Contract `name`'s relation, only its rows whose column `theirs` holds a value of
        the new rows' column `ours` (a semi-join)."""
        mine = exp.select(exp.column(ours, quoted=True)).from_(self.restricted())
        return (
            exp.select("*")
            .from_(relation_table(self.wh, self.relations[name]))
            .where(exp.column(theirs, quoted=True).isin(query=mine))
            .subquery(alias)
        )

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
        new_rows = self._sql(in_batches(self.batch, batch_values(self.new)))
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
    if how == "items":
        return (p.item_records() or (None,))[0]
    if how in ("rows", "unmatched"):
        return (p.matched_records() or (None,))[0]
    return None


def _q(wh: Warehouse, name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=wh.dialect.sqlglot)
