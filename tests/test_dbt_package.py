"""labelpact as a dbt package (packages.yml): its macros install cleanly, nothing of it builds,
and each generic test passes on good data and fails on the row that breaks it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

DBT = str(Path(sys.executable).with_name("dbt"))
PACKAGE = ROOT / "validator" / "dbt_package"

GOOD = """select * from (values
  (1, 'cat', 'ann_1', 0.9, timestamp '2026-01-01', 10),
  (2, 'dog', 'ann_2', 0.4, timestamp '2026-01-02', 11)
) as t(id, label, annotator, confidence, labeled_at, item)"""
# each row breaks exactly one rule (the last duplicates the first's key)
BAD = """select * from (values
  (1, 'zebra', 'ann_1', 0.9, timestamp '2026-01-01', 10),
  (2, 'dog', 'bob', 0.4, timestamp '2026-01-02', 11),
  (3, 'cat', 'ann_3', 1.5, timestamp '2026-01-03', 10),
  (4, 'cat', 'ann_4', 0.5, timestamp '2999-01-01', 10),
  (5, 'cat', 'ann_5', 0.5, timestamp '2026-01-05', 99),
  (5, 'cat', 'ann_6', 0.5, timestamp '2026-01-06', 11)
) as t(id, label, annotator, confidence, labeled_at, item)"""
TESTS = """
    data_tests:
      - labelpact.unique_key: {arguments: {columns: [id, label]}}
    columns:
      - name: label
        data_tests: [{labelpact.accepted_values: {arguments: {values: [cat, dog]}}}]
      - name: annotator
        data_tests: [{labelpact.pattern: {arguments: {pattern: '^ann_[0-9]+$'}}}]
      - name: confidence
        data_tests: [{labelpact.between: {arguments: {min: 0, max: 1}}}]
      - name: labeled_at
        data_tests: [labelpact.not_in_future]
      - name: item
        data_tests: [{labelpact.relationship: {arguments: {to: "ref('items')", field: item}}}]
"""


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("consumer")
    (root / "models").mkdir()
    (root / "dbt_project.yml").write_text(
        'name: consumer\nversion: "1.0.0"\nconfig-version: 2\nprofile: consumer\n'
    )
    (root / "profiles.yml").write_text(
        "consumer:\n  target: dev\n  outputs:\n    dev:\n"
        f"      type: duckdb\n      path: {root / 'wh.duckdb'}\n      threads: 2\n"
    )
    (root / "packages.yml").write_text(f"packages:\n  - local: {PACKAGE}\n")
    (root / "models" / "good.sql").write_text(GOOD)
    (root / "models" / "bad.sql").write_text(BAD)
    (root / "models" / "items.sql").write_text("select * from (values (10), (11)) as t(item)")
    schema = "version: 2\nmodels:\n"
    for m in ("good", "bad"):
        schema += f"  - name: {m}\n" + TESTS
    (root / "models" / "schema.yml").write_text(schema)
    return root


def _dbt(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DBT, *args, "--profiles-dir", str(root), "--project-dir", str(root)],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
    )


def test_package_installs_builds_nothing_and_its_tests_catch_each_bad_row(consumer: Path) -> None:
    deps = _dbt(consumer, "deps")
    assert deps.returncode == 0, deps.stdout + deps.stderr
    build = _dbt(consumer, "build", "--log-format", "json")
    events = [json.loads(line) for line in build.stdout.splitlines() if line.startswith("{")]
    warnings = [e["info"]["msg"] for e in events if e["info"]["level"] == "warn"]
    assert warnings == []  # no deprecation or config warning caused by the package
    results = json.loads((consumer / "target" / "run_results.json").read_text())["results"]
    models = {r["unique_id"] for r in results if r["unique_id"].startswith("model.")}
    # nothing of the package itself was built: only the consumer's three models
    assert models == {"model.consumer.good", "model.consumer.bad", "model.consumer.items"}
    tests = {
        r["unique_id"].split(".")[2]: (r["status"], r["failures"])
        for r in results
        if r["unique_id"].startswith("test.")
    }
    assert len(tests) == 12
    assert all(name.startswith("labelpact_") for name in tests)
    on_good = {n: s for n, s in tests.items() if "_good_" in n}
    on_bad = {n: s for n, s in tests.items() if "_bad_" in n}
    assert set(on_good.values()) == {("pass", 0)}, on_good
    assert set(on_bad.values()) == {("fail", 1)}, on_bad  # each test catches its one row
    assert build.returncode == 1  # the bad model's tests fail the build, as they should
