"""Render each IR check as one read-only SELECT that returns the failing rows.

Queries are written as small SQL templates whose placeholders are replaced by sqlglot nodes:
`p_<name>` identifiers become quoted column names, `r_<name>` tables become relations and
`v_<name>` columns become literals. No user string is ever pasted into SQL text, so a column
named `select` or `label; drop table x` is just a quoted identifier.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from validator.compiler.plan import Check, Kind
from validator.compiler.sql.dialects import Dialect
from validator.compiler.sql.templates import literal as _literal
from validator.compiler.sql.templates import template

# A relation by contract name: a table, or a subquery standing in for one (incremental runs).
RelationFor = Callable[[str], exp.Expr]

# Targets that render SQL before the relations are known (dbt's `ref()`, GX's `{batch}`) put
# placeholder tables in and fill them in the rendered text; quoted or not, per dialect.
_PLACEHOLDER = re.compile(r"[\"`]?__lp_(batch|ref_([a-z][a-z0-9_]*))__[\"`]?")
BATCH_PLACEHOLDER = "__lp_batch__"


def placeholder(contract: str) -> exp.Table:
    """A stand-in table for a contract's relation (see `fill_placeholders`)."""
    return exp.to_table(f"__lp_ref_{contract}__")


def fill_placeholders(sql: str, relation: Callable[[str], str], batch: str = "") -> str:
    """Replace placeholder tables in rendered SQL: contracts via `relation`, the batch by
    `batch`. Contract names are identifiers, and user strings cannot contain `__lp_` (lint)."""

    def fill(m: re.Match[str]) -> str:
        return batch if m.group(1) == "batch" else relation(m.group(2))

    return _PLACEHOLDER.sub(fill, sql)


def failing_rows(
    check: Check, rel: RelationFor, dialect: Dialect, key: tuple[str, ...] = ()
) -> exp.Expr:
    """A SELECT returning one row per failure of `check` (empty result = pass).

    `rel(contract_name)` gives the relation of a contract; `key` are the columns shown to
    identify a failing row.
    """
    renderer = _RENDERERS.get(check.kind)
    if renderer is None:
        raise ValueError(f"check kind {check.kind} has no SQL rendering")
    return renderer(check, rel, dialect, key)


def _shown(key: tuple[str, ...], *extra: str | None) -> list[str]:
    cols = list(key)
    for col in extra:
        if col and col not in cols:
            cols.append(col)
    return cols


def _select_where(
    check: Check,
    rel: RelationFor,
    key: tuple[str, ...],
    condition: exp.Expr,
    *extra: str | None,
) -> exp.Select:
    cols = _shown(key, check.column, *extra)
    query = exp.select(*[exp.column(c, quoted=True) for c in cols]).from_(rel(check.contract))
    return query.where(condition)


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _not_null(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    assert check.column
    return _select_where(check, rel, key, exp.Is(this=_col(check.column), expression=exp.Null()))


def _unique(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    cols = [check.column] if check.column else list(check.params["columns"])
    group = [_col(c) for c in cols]
    notnull = exp.and_(*[exp.Not(this=exp.Is(this=_col(c), expression=exp.Null())) for c in cols])
    return (
        exp.select(*group, exp.alias_(exp.Count(this=exp.Star()), "n_rows"))
        .from_(rel(check.contract))
        .where(notnull)
        .group_by(*group)
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
    )


def _accepted(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    assert check.column
    cond = template(
        "SELECT 1 WHERE p_c IS NOT NULL AND NOT p_c IN (v_values)",
        ids={"p_c": check.column},
        values={"v_values": check.params["values"]},
    )
    return _select_where(check, rel, key, cond.args["where"].this)


def _pattern(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    assert check.column
    col = _col(check.column)
    cond = exp.and_(
        exp.Not(this=exp.Is(this=col, expression=exp.Null())),
        exp.Not(this=d.regex_match(col.copy(), check.params["pattern"])),
    )
    return _select_where(check, rel, key, cond)


def _between(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    assert check.column
    col = _col(check.column)
    parts: list[exp.Expr] = []
    if check.params.get("min") is not None:
        parts.append(exp.LT(this=col.copy(), expression=_literal(check.params["min"])))
    if check.params.get("max") is not None:
        parts.append(exp.GT(this=col.copy(), expression=_literal(check.params["max"])))
    return _select_where(check, rel, key, exp.or_(*parts))


def _not_in_future(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    assert check.column
    cond = exp.GT(
        this=_col(check.column),
        expression=exp.Cast(this=d.now(), to=exp.DataType.build("timestamp")),
    )
    return _select_where(check, rel, key, cond)


def _relationship(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    assert check.column
    # A left anti-join: DuckDB plans it as one hash join, about twice as fast as NOT EXISTS
    # here; the referenced side is made distinct so duplicates cannot multiply rows.
    return template(
        "SELECT t.p_c FROM r_t AS t LEFT JOIN (SELECT DISTINCT p_oc FROM r_o AS o) AS o "
        "ON o.p_oc = t.p_c WHERE t.p_c IS NOT NULL AND o.p_oc IS NULL",
        ids={"p_c": check.column, "p_oc": check.params["to_column"]},
        tables={"r_t": rel(check.contract), "r_o": rel(check.params["to"])},
    )


def _instruction_ids(check: Check) -> dict[str, str]:
    p = check.params
    ids = {
        "p_v": p["version_column"],
        "p_at": p["active_at"],
        "p_rv": p["reg_version"],
        "p_from": p["reg_from"],
    }
    if p.get("reg_to"):
        ids["p_to"] = p["reg_to"]
    if p.get("approved_by"):
        ids["p_by"] = p["approved_by"]
    if p.get("approved_at"):
        ids["p_appr"] = p["approved_at"]
    return ids


def _key_select(key: tuple[str, ...], alias: str, *extra: str) -> str:
    """Template text selecting key placeholders (k0, k1 ...) plus extra columns."""
    parts = [f"{alias}.p_k{i}" for i in range(len(key))] + [f"{alias}.{e}" for e in extra]
    return ", ".join(parts)


def _key_ids(key: tuple[str, ...]) -> dict[str, str]:
    return {f"p_k{i}": k for i, k in enumerate(key)}


def _instruction_known(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    return template(
        f"SELECT {_key_select(key, 't', 'p_v')} FROM r_t AS t LEFT JOIN (SELECT DISTINCT p_rv "
        "FROM r_r AS r) AS r ON r.p_rv = t.p_v WHERE t.p_v IS NOT NULL AND r.p_rv IS NULL",
        ids=_instruction_ids(check) | _key_ids(key),
        tables={"r_t": rel(check.contract), "r_r": rel(check.params["registry"])},
    )


def _instruction_approved(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    p = check.params
    cond = "r.p_by IS NULL"
    if p.get("approved_at"):
        cond += " OR r.p_appr IS NULL OR r.p_appr > t.p_at"
    return template(
        f"SELECT {_key_select(key, 't', 'p_v')} FROM r_t AS t JOIN r_r AS r ON r.p_rv = t.p_v "
        f"WHERE {cond}",
        ids=_instruction_ids(check) | _key_ids(key),
        tables={"r_t": rel(check.contract), "r_r": rel(p["registry"])},
    )


def _instruction_active(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    cond = "t.p_at < r.p_from"
    if check.params.get("reg_to"):
        cond += " OR (r.p_to IS NOT NULL AND t.p_at >= r.p_to)"
    return template(
        f"SELECT {_key_select(key, 't', 'p_v', 'p_at')} FROM r_t AS t JOIN r_r AS r "
        f"ON r.p_rv = t.p_v WHERE t.p_at IS NOT NULL AND ({cond})",
        ids=_instruction_ids(check) | _key_ids(key),
        tables={"r_t": rel(check.contract), "r_r": rel(check.params["registry"])},
    )


def _superseded(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    p = check.params
    scope = ""
    values: dict[str, Any] = {}
    if p.get("splits"):
        scope = " AND t.p_split IN (v_splits)"
        values["v_splits"] = p["splits"]
    return template(
        f"SELECT {_key_select(key, 't', 'p_v')} FROM r_t AS t WHERE t.p_v IS NOT NULL{scope} "
        "AND EXISTS (SELECT 1 FROM r_r AS r WHERE r.p_sup = t.p_v)",
        ids=_instruction_ids(check)
        | _key_ids(key)
        | {"p_sup": p["reg_supersedes"], "p_split": p.get("split") or "x"},
        values=values,
        tables={"r_t": _from_current(check, rel)(check.contract), "r_r": rel(p["registry"])},
    )


def _split_single(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    return template(
        "SELECT p_v, n_rows FROM (SELECT t.p_v, COUNT(*) AS n_rows, COUNT(*) OVER () AS "
        "n_versions FROM r_t AS t WHERE t.p_s IN (v_splits) AND t.p_v IS NOT NULL "
        "GROUP BY t.p_v) AS g WHERE n_versions > 1",
        ids={"p_v": check.params["version_column"], "p_s": check.params["split"]},
        values={"v_splits": check.params["splits"]},
        tables={"r_t": rel(check.contract)},
    )


def _split_allowed(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    ors = []
    for split, versions in sorted(check.params["allowed"].items()):
        part = template(
            "SELECT 1 WHERE p_s = v_split AND NOT p_v IN (v_versions)",
            ids={"p_s": check.params["split"], "p_v": check.params["version_column"]},
            values={"v_split": split, "v_versions": versions},
        )
        ors.append(part.args["where"].this)
    cols = _shown(key, check.params["split"], check.params["version_column"])
    return exp.select(*[_col(c) for c in cols]).from_(rel(check.contract)).where(exp.or_(*ors))


def _registry_overlap(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    p = check.params
    if p.get("retired_at"):
        cond = "(b.p_to IS NULL OR a.p_from < b.p_to) AND (a.p_to IS NULL OR b.p_from < a.p_to)"
    else:  # without an end, every two versions overlap from the later start on
        cond = "TRUE"
    return template(
        f"SELECT a.p_v AS version_a, b.p_v AS version_b FROM r_r AS a JOIN r_r AS b "
        f"ON a.p_v < b.p_v WHERE {cond}",
        ids={
            "p_v": p["version"],
            "p_from": p["effective_from"],
            "p_to": p.get("retired_at") or "x",
        },
        tables={"r_r": rel(check.contract)},
    )


def _notes_required(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    p = check.params
    cond = template(
        "SELECT 1 WHERE p_c < v_below AND (p_n IS NULL OR TRIM(p_n) = '')",
        ids={"p_c": p["confidence"], "p_n": p["notes"]},
        values={"v_below": p["below"]},
    )
    cols = _shown(key, p["confidence"])
    return (
        exp.select(*[_col(c) for c in cols])
        .from_(rel(check.contract))
        .where(cond.args["where"].this)
    )


def _batch_low(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    p = check.params
    return template(
        "SELECT * FROM (SELECT t.p_by, COUNT(t.p_c) AS n_labels, "
        "CAST(SUM(CASE WHEN t.p_c < v_below THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / "
        "COUNT(t.p_c) AS low_share FROM r_t AS t WHERE t.p_c IS NOT NULL GROUP BY t.p_by) AS g "
        "WHERE low_share > v_max",
        ids={"p_by": p["by"], "p_c": p["confidence"]},
        values={"v_below": p["below"], "v_max": p["max_share"]},
        tables={"r_t": rel(check.contract)},
    )


def _batch_mean(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    p = check.params
    return template(
        "SELECT * FROM (SELECT t.p_by, COUNT(t.p_c) AS n_labels, "
        "AVG(CAST(t.p_c AS DOUBLE PRECISION)) AS mean_confidence FROM r_t AS t "
        "WHERE t.p_c IS NOT NULL GROUP BY t.p_by) AS g "
        "WHERE mean_confidence < v_min OR mean_confidence > v_max",
        ids={"p_by": p["by"], "p_c": p["confidence"]},
        values={"v_min": p["min"], "v_max": p["max"]},
        tables={"r_t": rel(check.contract)},
    )


def current_rows(check: Check, rel: RelationFor) -> exp.Expr:
    """The contract's relation restricted to current (not superseded) rows, when revised."""
    p = check.params
    if not p.get("current_key"):
        return rel(check.contract)
    sub = template(
        "SELECT * FROM r_t AS t WHERE NOT EXISTS (SELECT 1 FROM r_t AS c WHERE c.p_parent = "
        "t.p_key)",
        ids={"p_parent": p["current_parent"], "p_key": p["current_key"]},
        tables={"r_t": rel(check.contract)},
    )
    return sub.subquery("cur")


def _from_current(check: Check, rel: RelationFor) -> RelationFor:
    """A relation lookup in which this check's own contract means its current rows."""
    current = current_rows(check, rel)

    def lookup(name: str) -> exp.Expr:
        if name == check.contract and isinstance(current, exp.Subquery):
            return current
        return rel(name)

    return lookup


def agreement_values(check: Check, rel: RelationFor) -> exp.Select:
    """Per group: `group_key`, `n_items`, `n_ratings`, `value` of an agreement check, over
    current rows (the check fails the groups below its minimum; reports show them all)."""
    from validator.compiler.sql.agreement import (
        agreement_query,  # the heaviest renderer; loaded when needed
    )

    p = check.params
    return agreement_query(
        current_rows(check, rel),
        item=p["item"],
        rater=p["rater"],
        label=p["label"],
        by=p.get("by"),
        metric=p["metric"],
        level=p.get("level", "nominal"),
        weights=p.get("weights"),
        categories=p.get("categories"),
    )


def _agreement(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    return template(
        "SELECT * FROM r_q AS a WHERE a.value < v_min",
        values={"v_min": check.params["min"]},
        tables={"r_q": agreement_values(check, rel).subquery("q")},
    )


def _disagreements(check: Check, rel: RelationFor) -> exp.Select:
    p = check.params
    return template(
        "SELECT t.p_item AS item, COUNT(DISTINCT t.p_label) AS n_labels FROM r_t AS t "
        "WHERE t.p_item IS NOT NULL AND t.p_label IS NOT NULL GROUP BY t.p_item",
        ids={"p_item": p["item"], "p_label": p["label"]},
        tables={"r_t": _from_current(check, rel)(check.contract)},
    )


def _adjudication_missing(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    p = check.params
    return template(
        "SELECT g.item, g.n_labels FROM r_g AS g WHERE g.n_labels > 1 AND NOT EXISTS "
        "(SELECT 1 FROM r_a AS a WHERE a.p_ritem = g.item)",
        ids={"p_ritem": p["rec_item"]},
        tables={
            "r_g": _disagreements(check, rel).subquery("g"),
            "r_a": rel(p["records"]),
        },
    )


def _adjudication_decision(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    p = check.params
    return template(
        "SELECT a.p_ritem, a.p_dec FROM r_a AS a WHERE a.p_dec IS NOT NULL AND NOT a.p_dec IN "
        "(v_values)",
        ids={"p_ritem": p["rec_item"], "p_dec": p["rec_decision"]},
        values={"v_values": p["values"]},
        tables={"r_a": rel(p["records"])},
    )


def _adjudication_unneeded(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    p = check.params
    return template(
        "SELECT a.p_ritem FROM r_a AS a WHERE NOT EXISTS (SELECT 1 FROM r_g AS g "
        "WHERE g.item = a.p_ritem AND g.n_labels > 1)",
        ids={"p_ritem": p["rec_item"]},
        tables={
            "r_g": _disagreements(check, rel).subquery("g"),
            "r_a": rel(p["records"]),
        },
    )


def _revision_parent(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    p = check.params
    return template(
        "SELECT t.p_key, t.p_parent FROM r_t AS t WHERE t.p_parent IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM r_t AS o WHERE o.p_key = t.p_parent)",
        ids={"p_key": p["key"], "p_parent": p["parent"]},
        tables={"r_t": rel(check.contract)},
    )


MAX_CHAIN = 100


def _revision_cycle(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    p = check.params
    # Walk parent pointers from every corrected row; a walk that returns to its start is a
    # cycle. Only rows with a parent take part, so the recursion touches the (small) set of
    # corrections, never the whole table; walks are bounded by MAX_CHAIN.
    return template(
        "WITH RECURSIVE edges AS (SELECT t.p_key AS child, t.p_parent AS parent FROM r_t AS t "
        "WHERE t.p_parent IS NOT NULL), "
        "walk(start, cur, depth) AS (SELECT e.child, e.parent, 1 FROM edges AS e "
        "UNION ALL SELECT w.start, e.parent, w.depth + 1 FROM walk AS w JOIN edges AS e "
        "ON e.child = w.cur WHERE w.cur <> w.start AND e.child <> e.parent "
        "AND w.depth < v_max) "
        "SELECT DISTINCT w.start AS p_key FROM walk AS w WHERE w.cur = w.start",
        ids={"p_key": p["key"], "p_parent": p["parent"]},
        values={"v_max": MAX_CHAIN},
        tables={"r_t": rel(check.contract)},
    )


def _revision_single(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    p = check.params
    lineage = list(p["lineage"])
    ids = {f"p_l{i}": c for i, c in enumerate(lineage)} | {
        "p_key": p["key"],
        "p_parent": p["parent"],
    }
    cols = ", ".join(f"t.p_l{i}" for i in range(len(lineage)))
    return template(
        f"SELECT {cols}, COUNT(*) AS n_current FROM r_t AS t WHERE NOT EXISTS (SELECT 1 FROM "
        f"r_t AS c WHERE c.p_parent = t.p_key) GROUP BY {cols} HAVING COUNT(*) <> 1",
        ids=ids,
        tables={"r_t": rel(check.contract)},
    )


def _revision_time(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    p = check.params
    return template(
        "SELECT c.p_key, c.p_parent, c.p_ts FROM r_t AS c JOIN r_t AS par "
        "ON par.p_key = c.p_parent WHERE c.p_ts <= par.p_ts AND c.p_key <> c.p_parent",
        ids={"p_key": p["key"], "p_parent": p["parent"], "p_ts": p["timestamp"]},
        tables={"r_t": rel(check.contract)},
    )


def _coverage(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    p = check.params
    op, bound = ("<", p["min"]) if check.kind == Kind.COVERAGE_MIN else (">", p["max"])
    return template(
        f"SELECT t.p_item, COUNT(*) AS n_annotations FROM r_t AS t WHERE t.p_item IS NOT NULL "
        f"GROUP BY t.p_item HAVING COUNT(*) {op} v_bound",
        ids={"p_item": p["item"]},
        values={"v_bound": bound},
        tables={"r_t": _from_current(check, rel)(check.contract)},
    )


def _coverage_missing(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    p = check.params
    return template(
        "SELECT i.p_iitem FROM r_i AS i WHERE NOT EXISTS (SELECT 1 FROM r_t AS t "
        "WHERE t.p_item = i.p_iitem)",
        ids={"p_item": p["item"], "p_iitem": p["items_item"]},
        tables={"r_t": rel(check.contract), "r_i": rel(p["items"])},
    )


def _label_share(check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]) -> exp.Select:
    p = check.params
    by = p.get("by")
    conds = []
    if p.get("max_share") is not None:
        conds.append("share > v_max")
    if p.get("min_share") is not None:
        conds.append("share < v_min")
    group = "t.p_by, t.p_label" if by else "t.p_label"
    part = "PARTITION BY t.p_by" if by else ""
    return template(
        f"SELECT * FROM (SELECT {group}, COUNT(*) AS n_labels, CAST(COUNT(*) AS DOUBLE "
        f"PRECISION) / SUM(COUNT(*)) OVER ({part}) AS share FROM r_t AS t WHERE t.p_label IS "
        f"NOT NULL GROUP BY {group}) AS g WHERE {' OR '.join(conds)}",
        ids={"p_by": by or "x", "p_label": p["label"]},
        values={"v_max": p.get("max_share"), "v_min": p.get("min_share")},
        tables={"r_t": _from_current(check, rel)(check.contract)},
    )


def _label_divergence(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    p = check.params
    ref: exp.Query | None = None
    for label, share in sorted(p["reference"].items()):
        row = exp.select(
            exp.alias_(_literal(str(label)), "label"),
            exp.alias_(exp.cast(_literal(float(share)), "double"), "share"),
        )
        ref = row if ref is None else exp.union(ref, row, distinct=False)
    assert ref is not None, "resolve guarantees a non-empty reference mix"
    segment = (
        exp.cast(exp.column(p["by"], quoted=True), "text")
        if p.get("by")
        else (exp.Literal.string("all"))
    )
    # Total variation: half the summed absolute share differences, over the union of the
    # labels seen and the labels expected (a missing label counts with share 0).
    return template(
        "WITH obs AS (SELECT v_seg AS seg, CAST(t.p_label AS VARCHAR) AS label, COUNT(*) AS n "
        "FROM r_t AS t WHERE t.p_label IS NOT NULL GROUP BY 1, 2), "
        "shares AS (SELECT seg, label, CAST(n AS DOUBLE PRECISION) / SUM(n) OVER "
        "(PARTITION BY seg) AS share FROM obs), "
        "grid AS (SELECT s.seg, r.label, r.share FROM (SELECT DISTINCT seg FROM obs) AS s "
        "CROSS JOIN r_ref AS r), "
        "diffs AS (SELECT COALESCE(g.seg, o.seg) AS seg, ABS(COALESCE(o.share, 0) - "
        "COALESCE(g.share, 0)) AS d FROM grid AS g FULL OUTER JOIN shares AS o "
        "ON o.seg = g.seg AND o.label = g.label) "
        "SELECT seg, SUM(d) / 2 AS divergence FROM diffs GROUP BY seg "
        "HAVING SUM(d) / 2 > v_max",
        ids={"p_label": p["label"]},
        values={"v_seg": segment, "v_max": p["max_divergence"]},
        tables={"r_t": _from_current(check, rel)(check.contract), "r_ref": ref.subquery("r")},
    )


def _custom_expression(
    check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
) -> exp.Select:
    from validator.compiler.sql.predicates import parse_predicate

    predicate = parse_predicate(check.params["expression"], check.params["columns"])
    used = sorted({c.name for c in predicate.find_all(exp.Column)})
    cols = _shown(key, *used)
    return (
        exp.select(*[_col(c) for c in cols])
        .from_(rel(check.contract))
        .where(exp.Not(this=exp.Paren(this=predicate)))
    )


Renderer = Callable[[Check, RelationFor, Dialect, tuple[str, ...]], exp.Expr]

_RENDERERS: dict[Kind, Renderer] = {
    Kind.NOT_NULL: _not_null,
    Kind.UNIQUE: _unique,
    Kind.UNIQUE_KEY: _unique,
    Kind.ACCEPTED_VALUES: _accepted,
    Kind.PATTERN: _pattern,
    Kind.BETWEEN: _between,
    Kind.NOT_IN_FUTURE: _not_in_future,
    Kind.RELATIONSHIP: _relationship,
    Kind.INSTRUCTION_KNOWN: _instruction_known,
    Kind.INSTRUCTION_APPROVED: _instruction_approved,
    Kind.INSTRUCTION_ACTIVE: _instruction_active,
    Kind.SPLIT_SINGLE_VERSION: _split_single,
    Kind.SPLIT_ALLOWED_VERSIONS: _split_allowed,
    Kind.REGISTRY_NO_OVERLAP: _registry_overlap,
    Kind.SUPERSEDED_VERSION: _superseded,
    Kind.NOTES_REQUIRED: _notes_required,
    Kind.BATCH_LOW_CONFIDENCE: _batch_low,
    Kind.BATCH_MEAN_CONFIDENCE: _batch_mean,
    Kind.AGREEMENT: _agreement,
    Kind.ADJUDICATION_MISSING: _adjudication_missing,
    Kind.ADJUDICATION_DECISION: _adjudication_decision,
    Kind.ADJUDICATION_UNNEEDED: _adjudication_unneeded,
    Kind.REVISION_PARENT: _revision_parent,
    Kind.REVISION_CYCLE: _revision_cycle,
    Kind.REVISION_SINGLE_CURRENT: _revision_single,
    Kind.REVISION_TIME_ORDER: _revision_time,
    Kind.COVERAGE_MIN: _coverage,
    Kind.COVERAGE_MAX: _coverage,
    Kind.COVERAGE_MISSING: _coverage_missing,
    Kind.LABEL_SHARE: _label_share,
    Kind.LABEL_DIVERGENCE: _label_divergence,
    Kind.CUSTOM_EXPRESSION: _custom_expression,
}


# --- Per-item statistics shared by several checks (dbt) ---------------------------------------
# Coverage and adjudication checks each group the current rows by item. The dbt project
# computes that aggregate once per run into a small table (one row per item, not a copy of the
# data) and those checks read it; `failing_rows` keeps the self-contained form for GX, samples
# and incremental runs. tests/test_cross_engine.py holds the two forms to the same counts.

ITEM_STATS_KINDS = frozenset(
    {Kind.COVERAGE_MIN, Kind.COVERAGE_MAX, Kind.ADJUDICATION_MISSING, Kind.ADJUDICATION_UNNEEDED}
)


def item_stats_key(check: Check) -> tuple[str, str, str | None, str | None] | None:
    """Checks with the same key can share one per-item aggregate (None: not such a check)."""
    if check.kind not in ITEM_STATS_KINDS:
        return None
    p = check.params
    return check.contract, p["item"], p.get("current_key"), p.get("current_parent")


def item_stats(checks: list[Check], rel: RelationFor) -> exp.Select:
    """One row per item of the current rows: `item`, `n_current` rows, `n_labels` distinct
    non-null labels (0 when no check of the group needs labels)."""
    first = checks[0]
    labels = {c.params["label"] for c in checks if c.params.get("label")}
    assert len(labels) <= 1, "one adjudication section per contract: one label column"
    n_labels = "COUNT(DISTINCT t.p_label)" if labels else "0"
    return template(
        f"SELECT t.p_item AS item, COUNT(*) AS n_current, {n_labels} AS n_labels FROM r_t AS t "
        "WHERE t.p_item IS NOT NULL GROUP BY t.p_item",
        ids={"p_item": first.params["item"], **({"p_label": labels.pop()} if labels else {})},
        tables={"r_t": _from_current(first, rel)(first.contract)},
    )


def from_item_stats(check: Check, stats: exp.Expr, rel: RelationFor) -> exp.Select:
    """The failing rows of an ITEM_STATS_KINDS check, read from its per-item aggregate."""
    p = check.params
    if check.kind in (Kind.COVERAGE_MIN, Kind.COVERAGE_MAX):
        op, bound = ("<", p["min"]) if check.kind == Kind.COVERAGE_MIN else (">", p["max"])
        return template(
            f"SELECT s.item, s.n_current AS n_annotations FROM r_s AS s "
            f"WHERE s.n_current {op} v_bound",
            values={"v_bound": bound},
            tables={"r_s": stats},
        )
    if check.kind == Kind.ADJUDICATION_MISSING:
        return template(
            "SELECT s.item, s.n_labels FROM r_s AS s WHERE s.n_labels > 1 AND NOT "
            "EXISTS (SELECT 1 FROM r_a AS a WHERE a.p_ritem = s.item)",
            ids={"p_ritem": p["rec_item"]},
            tables={"r_s": stats, "r_a": rel(p["records"])},
        )
    assert check.kind == Kind.ADJUDICATION_UNNEEDED
    return template(
        "SELECT a.p_ritem FROM r_a AS a WHERE NOT EXISTS (SELECT 1 FROM r_s AS s "
        "WHERE s.item = a.p_ritem AND s.n_labels > 1)",
        ids={"p_ritem": p["rec_item"]},
        tables={"r_s": stats, "r_a": rel(p["records"])},
    )
