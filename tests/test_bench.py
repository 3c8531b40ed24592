"""The benchmark's correctness part (bench/contenders.py): every contender that is installed
passes a small clean data set and fails a small faulty one (a bad label, a duplicated id) on
exactly the checks those break, as `./run bench` requires before it times anything.

datacontract-cli is not a project dependency: `./run bench` installs it into its own
virtualenv under target/bench/ (a few minutes from the package registry). The suite uses that
virtualenv when it is there and does not build it (set LABELPACT_BENCH_DATACONTRACT=1 to build
it here); without it the two datacontract-cli contenders are skipped, and say so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import contenders as lab
import peers
from report import targets

ROWS = 2000
ALL = lab.contenders(datacontract=True)
# The suite dry-runs the contenders of the simple checks, where the bench's own mapping of each
# tool's output to check ids lives; the all-checks contenders run labelpact's own paths (dbt
# build, GX, validate), which the end-to-end tests hold to every fault. `./run bench` dry-runs
# all of them before it times anything.
SIMPLE = [c for c in ALL if c.scope == "simple"]
NAMES = [f"{c.name} ({c.scope})" for c in SIMPLE]


def _datacontract_available() -> bool:
    if peers.datacontract_ready():
        return True
    if os.environ.get("LABELPACT_BENCH_DATACONTRACT") == "1":
        peers.datacontract_venv()
        return True
    return False


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """One dry run of every installed contender, two at a time, on copies of the data."""
    base = tmp_path_factory.mktemp("bench")
    with_dc = _datacontract_available()
    clean = lab.prepare(ROWS, datacontract=with_dc, base=base / "data")
    faulty = lab.prepare(ROWS, faulty=True, datacontract=with_dc, base=base / "data")
    found = lab.contenders(datacontract=with_dc, work=base / "work")
    found = [c for c in found if c.scope == "simple"]
    return lab.dry_run(found, clean, faulty, work=base / "work")


@pytest.mark.slow
@pytest.mark.dbt
@pytest.mark.parametrize("name", NAMES)
def test_contender_passes_clean_data_and_fails_the_faults(
    dry_run: dict[str, dict[str, Any]], name: str
) -> None:
    if name not in dry_run:
        pytest.skip(
            f"{name}: datacontract-cli's virtualenv ({peers.DATACONTRACT_VENV}) is not built; "
            "`./run bench` builds it, or LABELPACT_BENCH_DATACONTRACT=1 here"
        )
    record = dry_run[name]
    assert record["problems"] == []
    assert record["clean_failing"] == []
    assert record["clean_exit"] == 0
    assert record["faulty_exit"] == 1
    assert set(record["faulty_failing"]) == lab.FAULTS


def _run(exit: int) -> lab.Run:
    return lab.Run(wall_s=1.0, cpu_s=1.0, peak_mb=1.0, exit=exit, output="")


@pytest.mark.parametrize(
    ("clean", "faulty", "complaint"),
    [
        ((0, set()), (0, set()), "passes (exit 0)"),  # a no-op
        ((1, set(peers.CHECKS)), (1, set(peers.CHECKS)), "the clean data set fails"),
        ((0, set()), (1, {peers.UNIQUE}), "does not fail ['annotations.label"),
        ((0, set()), (1, {*lab.FAULTS, peers.SCHEMA}), "also fails ['annotations.schema']"),
    ],
)
def test_the_dry_run_rejects_a_contender_that_misses_or_invents_failures(
    clean: tuple[int, set[str]], faulty: tuple[int, set[str]], complaint: str
) -> None:
    contender = ALL[0]
    problems = lab.verdict(contender, (_run(clean[0]), clean[1]), (_run(faulty[0]), faulty[1]))
    assert any(complaint in p for p in problems), problems
    with pytest.raises(lab.BenchError, match="would time a no-op"):
        lab.require_correct({contender.name: {"problems": problems}})


def test_datacontract_results_map_to_the_simple_checks() -> None:
    report = {
        "checks": [
            {"result": "failed", "type": "field_unique", "field": "annotation_id"},
            {"result": "failed", "type": "field_invalid_values", "field": "label"},
            {"result": "failed", "type": "field_type", "field": "confidence"},
            {"result": "warning", "type": "field_type", "field": "tool"},
            {"result": "passed", "type": "field_required", "field": "tool"},
        ]
    }
    assert peers.datacontract_failing(report) == {*lab.FAULTS, peers.SCHEMA}
    assert {f"annotations.{c}.not_null" for c in peers.REQUIRED} <= set(peers.CHECKS)
    assert len(peers.CHECKS) == 14


def test_targets_say_met_or_missed_by_how_much() -> None:
    def result(wall: float, cpu: float, peak: float = 100.0) -> dict[str, float]:
        return {"wall_s": wall, "cpu_s": cpu, "peak_mb": peak}

    phases = {"fingerprints (+ batch state), samples": {"wall_s": 0.5, "cpu_s": 0.5}}
    payload = {
        "rows": 1000,
        "scale": {},
        "profiles": {"simple": {"phases": phases}},
        "results": {
            "floor (one hand-written DuckDB scan) (simple)": result(1.0, 1.0),
            "labelpact validate (simple)": result(4.0, 2.0),
            "datacontract-cli 1.2.8 on the DuckDB file (simple)": result(2.0, 2.0),
            "GX 1.x over SQL (compiled suite) (simple)": result(10.0, 8.0),
            "labelpact validate (all)": result(5.0, 3.0, peak=2048.0),
        },
    }
    text = "\n".join(targets(payload))
    assert (
        "| validate (simple) / datacontract-cli on the DuckDB file | 2.00x | 1.0x | "
        "missed by 2.00x | CPU ratio 1.00x |" in text
    )
    assert "| validate (simple) / GX over SQL (simple) | 0.40x | 0.5x | met |" in text
    assert "| validate (all) / floor | 5.00x | 6.0x | met |" in text
    assert "| validate (all) peak RSS | 2048.00 MB | 1024.0 MB | missed by 2.00x |" in text
    assert "not measured" in text  # the large runs were not part of this payload
