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
  the audit results: `incremental_run.ContractRun._matched_signature`); an audit of an older
  label that arrived or changed since sends the rule to the whole table;
- items without annotations keep their stored failures while the items that no new row names
  hash as the whole items relation did in the last run (the same one pass, over the items):
  then the new rows name only items that are new as well, and every new item is named. A new
  row naming an older item (which may repair a failure) or a new item nobody labels sends the
  rule to the whole table;
- everything else (one instruction version per split, the registry, the per-annotator
  turnaround) runs on the whole table, and says so: a figure that is not a sum (a
  percentile), or a rule over the whole registry.

New batches are found without counting the old ones (`batches.new_batch_counts`): one `count(*)` of
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
from pathlib import Path
from typing import Any

from sqlglot import exp

from validator.compiler.kinds import Incremental
from validator.compiler.kinds.base import Summed
from validator.compiler.plan import Check, Plan
from validator.contract.model import Contract
from validator.engines.warehouse import Warehouse
from validator.errors import EngineError, LabelpactError
from validator.settings import Settings
from validator.verdict.batches import (
    Batches,
    batch_column,
    batch_fingerprints,
    relation_signature,
    relation_table,
)
from validator.verdict.run_metrics import Figures, figures

STATE_FORMAT = 4  # 4: fingerprints of relations whose rows name the contract's
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
    (`matched_relations`)."""
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
    a fingerprint shows (`incremental_run.ContractRun._matched_signature`). A relation matched
    in two ways (by other columns, or from rows another filter keeps) is left out: its checks
    read the whole table."""
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
            return relation_table(wh, relations[name])

        try:
            if p.sums_are_values:  # the figures the run fetched, or read now
                rows = figures(wh, check, rel, known)
            else:
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
