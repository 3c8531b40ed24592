"""The `audits` section: the Wilson lower bound the SQL computes equals statsmodels'
`proportion_confint(method="wilson")` on randomised audit results; a group fails only when that
bound exceeds the limit; the section's references and rules are checked."""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist

import duckdb
import numpy as np
import pytest
import sqlglot
from helpers import ROOT
from statsmodels.stats.proportion import proportion_confint

from validator.compiler.kinds import AuditErrorRate
from validator.compiler.plan import Check, build_plans
from validator.compiler.sql.dialects import get_dialect
from validator.contract.resolve import load_contracts
from validator.errors import ContractError, Location


def _check(max_rate: float, confidence: float) -> Check:
    params = AuditErrorRate(
        by="annotator_id",
        key="annotation_id",
        records="audit_results",
        rec_annotation="annotation_id",
        rec_verdict="verdict",
        errors=("incorrect", "unclear"),
        max_rate=max_rate,
        z=NormalDist().inv_cdf(0.5 + confidence / 2),
    )
    return Check(
        "annotations.audits.annotator_error_rate", "annotations", "1.0.0", "o", "error", "",
        Location("x", 1, 1), params,
    )  # fmt: skip


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """60 annotators with 1-40 audits each and error rates from 0 to 0.9."""
    rng = np.random.default_rng(20)
    con = duckdb.connect()
    con.execute("CREATE TABLE annotations (annotation_id BIGINT, annotator_id VARCHAR)")
    con.execute("CREATE TABLE audit_results (annotation_id BIGINT, verdict VARCHAR)")
    ann, aud, next_id = [], [], 0
    for a in range(60):
        rate = rng.uniform(0, 0.9)
        for _ in range(int(rng.integers(1, 41))):
            next_id += 1
            ann.append((next_id, f"ann_{a}"))
            if rng.uniform() < 0.8:  # some labels were never audited
                wrong = rng.uniform() < rate
                verdict = rng.choice(["incorrect", "unclear"]) if wrong else "correct"
                aud.append((next_id, str(verdict)))
    con.executemany("INSERT INTO annotations VALUES (?, ?)", ann)
    con.executemany("INSERT INTO audit_results VALUES (?, ?)", aud)
    return con


def _run(con: duckdb.DuckDBPyConnection, check: Check) -> dict[str, tuple[float, ...]]:
    query = check.params.failing_rows(
        check, lambda name: __import__("sqlglot").exp.to_table(name), get_dialect("duckdb"), ()
    )
    return {r[0]: tuple(r[1:]) for r in con.execute(query.sql("duckdb")).fetchall()}


def _reference(con: duckdb.DuckDBPyConnection, alpha: float) -> dict[str, tuple[int, int, float]]:
    rows = con.execute(
        "SELECT a.annotator_id, count(*), count(*) FILTER (WHERE v.verdict <> 'correct') "
        "FROM annotations AS a JOIN audit_results AS v USING (annotation_id) GROUP BY 1"
    ).fetchall()
    return {
        g: (n, e, float(proportion_confint(e, n, alpha, method="wilson")[0])) for g, n, e in rows
    }


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_wilson_lower_bound_matches_statsmodels(con, confidence: float) -> None:  # type: ignore[no-untyped-def]
    got = _run(con, _check(max_rate=-1.0, confidence=confidence))  # every group "fails"
    ref = _reference(con, 1 - confidence)
    assert set(got) == set(ref) and len(ref) == 60
    for group, (n, e, lower) in ref.items():
        n_audited, n_errors, rate, low = got[group]
        assert (n_audited, n_errors) == (n, e)
        assert rate == pytest.approx(e / n, abs=1e-12)
        assert low == pytest.approx(lower, abs=1e-9)


@pytest.mark.parametrize("max_rate", [0.1, 0.3, 0.5])
def test_only_groups_whose_lower_bound_exceeds_the_limit_fail(con, max_rate: float) -> None:  # type: ignore[no-untyped-def]
    failing = set(_run(con, _check(max_rate=max_rate, confidence=0.95)))
    ref = _reference(con, 0.05)
    assert failing == {g for g, (_, _, lower) in ref.items() if lower > max_rate}
    # a bare ratio would fail more groups: the small ones the interval protects
    by_ratio = {g for g, (n, e, _) in ref.items() if e / n > max_rate}
    assert failing < by_ratio


@pytest.mark.parametrize("max_rate", [0.2, 0.4])
def test_counts_of_disjoint_labels_add_up_to_the_whole(con, max_rate: float) -> None:  # type: ignore[no-untyped-def]
    """What `validate --incremental` relies on (ROW_SUMS): `values` over two disjoint sets of
    labels, each with its audits, added per group equals `values` over all labels (rates and
    Wilson bounds recomputed from the summed counts), and the rule judges the totals alike."""
    check = _check(max_rate=max_rate, confidence=0.95)
    p = check.params
    assert isinstance(p, AuditErrorRate)

    def values(where: str) -> list[tuple[object, ...]]:
        part = sqlglot.parse_one(f"SELECT * FROM annotations WHERE {where}").subquery("s")
        tables = {"annotations": part, "audit_results": sqlglot.exp.to_table("audit_results")}
        query = p.values(check, lambda name: tables[name])
        return con.execute(query.sql("duckdb")).fetchall()

    whole = {r[0]: r[1:] for r in values("TRUE")}
    total = p.add(values("annotation_id % 3 = 0"), values("annotation_id % 3 <> 0"))
    assert {r[0] for r in total} == set(whole)
    for group, n, k, rate, lower in total:
        assert (n, k) == whole[group][:2]
        assert rate == pytest.approx(whole[group][2], abs=1e-12)
        assert lower == pytest.approx(whole[group][3], abs=1e-12)
    judged = {r[0] for r in con.execute(p.judge_rows(total).sql("duckdb")).fetchall()}
    assert judged == set(_run(con, check)) and judged


def test_example_contract_plans_both_groupings() -> None:
    plans = build_plans(load_contracts([ROOT / "contracts"]))
    checks = {c.id: c for p in plans for c in p.checks if c.kind == "audit_error_rate"}
    assert set(checks) == {
        "annotations.audits.annotator_error_rate",
        "annotations.audits.batch_error_rate",
    }
    p = checks["annotations.audits.batch_error_rate"].params
    assert isinstance(p, AuditErrorRate)
    assert (p.by, p.records, p.max_rate) == ("batch_id", "audit_results", 0.3)
    assert p.z == pytest.approx(1.959964, abs=1e-6)
    assert "Wilson" in checks["annotations.audits.batch_error_rate"].description


def _contracts(tmp_path: Path, audits: str, record: bool = True) -> None:
    (tmp_path / "a.yml").write_text(
        "contract: a\nversion: 1.0.0\nowner: o\nsource: {dbt_source: raw.a}\nkey: [id]\n"
        "columns:\n  id: {type: bigint}\n  who: {type: varchar}\n" + audits
    )
    rec = (
        "audit_record: {annotation: id, item: id, auditor: id, verdict: v, audited_at: t}\n"
        if record
        else ""
    )
    (tmp_path / "r.yml").write_text(
        "contract: r\nversion: 1.0.0\nowner: o\nsource: {dbt_source: raw.r}\n"
        "columns:\n  id: {type: bigint}\n  v: {type: varchar}\n  t: {type: timestamp}\n" + rec
    )


@pytest.mark.parametrize(
    ("audits", "record", "message"),
    [
        ("audits: {contract: r, max_error_rate: 0.2}\n", True, "needs `annotator:` or `batch:`"),
        ("audits: {contract: r, annotator: who, max_error_rate: 0.2}\n", False, "no `audit_rec"),
        ("audits: {contract: rr, annotator: who, max_error_rate: 0.2}\n", True, "did you mean"),
        ("audits: {contract: r, annotator: whom, max_error_rate: 0.2}\n", True, "whom"),
        ("audits: {contract: r, annotator: who, max_error_rate: 1.5}\n", True, "<= 1"),
    ],
)
def test_section_problems_are_reported(
    tmp_path: Path, audits: str, record: bool, message: str
) -> None:
    _contracts(tmp_path, audits, record)
    with pytest.raises(ContractError) as info:
        load_contracts([tmp_path])
    assert message in str(info.value)


def test_a_valid_section_resolves_and_makes_record_roles_required(tmp_path: Path) -> None:
    _contracts(tmp_path, "audits: {contract: r, annotator: who, max_error_rate: 0.2}\n")
    contracts = {c.name: c for c in load_contracts([tmp_path])}
    assert contracts["a"].depends_on() == {"r"}
    assert contracts["r"].columns["v"].required and contracts["r"].columns["t"].required
    assert contracts["a"].sections.audits is not None
    assert contracts["a"].sections.audits.error_verdicts == ("incorrect",)
