"""Shared fixtures: one parsed dbt project per engine and one warehouse per fault, per session.

The end-to-end suites are parametrised over engines (`engine` fixture): DuckDB (a file per
fault), a real PostgreSQL server and a local Apache Spark session (local[2], through
dbt-spark's `session` method), each started once per test session. PostgreSQL and Spark get
each fault's data swapped into their `raw` schema before its build, so one parsed dbt
manifest serves every fault.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import E2E_ROWS, ROOT

ENGINES = ("duckdb", "postgres", "spark")
# Engine-parametrised test modules that do not run on Spark yet, and why (shown as skips).
SPARK_UNSUPPORTED: dict[str, str] = {}


# On Spark each fault costs a dbt build (~10 s) and GX's Spark datasource about one Spark job
# per expectation (~60 s per fault). The default run covers one fault per kind of rendering
# there (a column rule, a regex, another contract's relation, a cross-contract aggregate, a
# recursive CTE, agreement, per-annotator rules, turnaround's running-count percentiles, a
# warning, the schema); the other Spark cases carry the `spark_full` mark:
# `./run tests -m spark_full` runs them.
SPARK_FAULTS = {
    None,
    "bad_pattern",
    "orphan_item",
    "unadjudicated_disagreement",
    "revision_cycle",
    "low_agreement",
    "careless_annotator",
    "hasty_annotator",
    "label_skew",
    "mistyped_column",
}
# GX on Spark (~45 s a fault): a failing built-in expectation (the regex, with its count) where
# every other expectation runs and passes, and the schema. Failing unexpected-rows queries on
# Spark are held to dbt's counts by tests/test_filters_engines.py.
SPARK_GX_FAULTS = {"bad_pattern", "mistyped_column"}


def _uses_spark(item: pytest.Item) -> bool:
    """Whether `item` runs on the shared Spark session (an engine parameter, however named, or
    the Spark fixtures; a `dialect` parameter only renders SQL)."""
    params = getattr(item, "callspec", None)
    named = params is not None and any(
        value == "spark" and key != "dialect" for key, value in params.params.items()
    )
    fixtures = getattr(item, "fixturenames", ())
    return named or "spark_server" in fixtures or "spark_warehouses" in fixtures


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # `./run tests` runs pytest-xdist workers (`--dist loadgroup`): every Spark test goes to
        # one worker, so one JVM serves them all, as in a serial run.
        if not _uses_spark(item):
            continue
        item.add_marker(pytest.mark.xdist_group("spark"))
        params = getattr(item, "callspec", None)
        if params is None or params.params.get("engine") != "spark":
            continue
        if "fault" not in params.params:
            continue
        cross = item.module is not None and item.module.__name__ == "test_cross_engine"
        if params.params["fault"] not in (SPARK_GX_FAULTS if cross else SPARK_FAULTS):
            item.add_marker(pytest.mark.spark_full)


class DuckDBWarehouses:
    """Lazily generates one DuckDB warehouse per fault and caches its dbt build result."""

    name = "duckdb"
    target: str | None = None  # the dbt target in the repository's profiles.yml

    def __init__(self, base: Path) -> None:
        from validator.engines.dbt_runner import DbtProject

        self.base = base
        self.project = DbtProject(ROOT)
        self._builds: dict[str | None, Any] = {}

    def path(self, fault: str | None) -> Path:
        from validator.example import data as exampledata

        db = self.base / (fault or "clean") / "labelpact.duckdb"
        if not db.exists():
            exampledata.generate(db, rows=E2E_ROWS, seed=7, fault=fault)
        return db

    def env(self, fault: str | None) -> dict[str, str]:
        return {"LABELPACT_DUCKDB": str(self.path(fault))}

    def settings(self, fault: str | None, ledger: Path, db: Path | None = None) -> Any:
        """Settings whose profile points at this engine with `fault` loaded (DuckDB: the
        file `db` when given, e.g. a copy a test may change)."""
        from validator.settings import Settings

        env = self.env(fault) | ({"LABELPACT_DUCKDB": str(db)} if db else {})
        return Settings(project_dir=ROOT, target=self.target, ledger_path=ledger, env=env)

    def build(self, fault: str | None) -> Any:
        if fault not in self._builds:
            self._builds[fault] = self.project.build(env=self.env(fault))
        return self._builds[fault]


class PostgresWarehouses(DuckDBWarehouses):
    """The same faults, loaded into a real PostgreSQL server one at a time."""

    name = "postgres"
    target = "postgres"

    def __init__(self, base: Path, duckdb: DuckDBWarehouses, params: dict[str, str]) -> None:
        from validator.engines.dbt_runner import DbtProject

        self.base = base
        self.duckdb = duckdb
        self.params = params
        self.project = DbtProject(ROOT, target="postgres")
        self._builds = {}
        self.loaded: str | bool | None = False

    def path(self, fault: str | None) -> Path:
        return self.duckdb.path(fault)

    def load(self, fault: str | None) -> None:
        from validator.example import data as exampledata

        if self.loaded is False or self.loaded != fault:
            exampledata.load_into_postgres(self.duckdb.path(fault), self.params)
            self.loaded = fault

    def env(self, fault: str | None) -> dict[str, str]:
        self.load(fault)
        return {f"LABELPACT_PG_{k.upper()}": v for k, v in self.params.items()}


class SparkWarehouses(PostgresWarehouses):
    """The same faults, loaded into a local Spark session one at a time."""

    name = "spark"
    target = "spark"

    def __init__(self, base: Path, duckdb: DuckDBWarehouses, server: Any) -> None:
        from validator.engines.dbt_runner import DbtProject

        self.base = base
        self.duckdb = duckdb
        self.server = server
        self.project = DbtProject(ROOT, target="spark")
        self._builds = {}
        self.loaded = False

    def load(self, fault: str | None) -> None:
        if self.loaded is False or self.loaded != fault:
            self.server.load(self.duckdb.path(fault))
            self.loaded = fault

    def env(self, fault: str | None) -> dict[str, str]:
        self.load(fault)
        return dict(self.server.env)


@pytest.fixture(scope="session")
def duckdb_warehouses(tmp_path_factory: pytest.TempPathFactory) -> DuckDBWarehouses:
    return DuckDBWarehouses(tmp_path_factory.mktemp("warehouses"))


@pytest.fixture(scope="session")
def pg_server():  # type: ignore[no-untyped-def]
    from helpers.pgserver import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_warehouses(pg_server, duckdb_warehouses, tmp_path_factory):  # type: ignore[no-untyped-def]
    return PostgresWarehouses(tmp_path_factory.mktemp("pg"), duckdb_warehouses, pg_server.params)


@pytest.fixture(scope="session")
def spark_server():  # type: ignore[no-untyped-def]
    from helpers.sparkserver import SparkServer

    server = SparkServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark_warehouses(spark_server, duckdb_warehouses, tmp_path_factory):  # type: ignore[no-untyped-def]
    return SparkWarehouses(tmp_path_factory.mktemp("spark"), duckdb_warehouses, spark_server)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> DuckDBWarehouses:
    """The warehouses of one engine; end-to-end tests run once per engine."""
    if request.param == "spark" and request.module.__name__ in SPARK_UNSUPPORTED:
        pytest.skip(f"not on Spark: {SPARK_UNSUPPORTED[request.module.__name__]}")
    return request.getfixturevalue(f"{request.param}_warehouses")


@pytest.fixture()
def warehouses(duckdb_warehouses: DuckDBWarehouses) -> DuckDBWarehouses:
    return duckdb_warehouses
