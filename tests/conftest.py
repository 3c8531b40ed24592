"""Shared fixtures: one parsed dbt project per engine and one warehouse per fault, per session.

The end-to-end suites are parametrised over engines (`engine` fixture): DuckDB (a file per
fault) and a real PostgreSQL server started for the session (fault data swapped into the
`raw` schema before each build, so one parsed dbt manifest serves every fault).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

ROOT = Path(__file__).resolve().parent.parent
E2E_ROWS = 3000  # enough for every batch-level rule, small enough for ~1 s per dbt build
ENGINES = ("duckdb", "postgres")


class DuckDBWarehouses:
    """Lazily generates one DuckDB warehouse per fault and caches its dbt build result."""

    name = "duckdb"

    def __init__(self, base: Path) -> None:
        from validator.dbt_run import DbtProject

        self.base = base
        self.project = DbtProject(ROOT)
        self._builds: dict[str | None, Any] = {}

    def path(self, fault: str | None) -> Path:
        from validator import exampledata

        db = self.base / (fault or "clean") / "labelpact.duckdb"
        if not db.exists():
            exampledata.generate(db, rows=E2E_ROWS, seed=7, fault=fault)
        return db

    def env(self, fault: str | None) -> dict[str, str]:
        return {"LABELPACT_DUCKDB": str(self.path(fault))}

    def build(self, fault: str | None) -> Any:
        if fault not in self._builds:
            self._builds[fault] = self.project.build(env=self.env(fault))
        return self._builds[fault]


class PostgresWarehouses(DuckDBWarehouses):
    """The same faults, loaded into a real PostgreSQL server one at a time."""

    name = "postgres"

    def __init__(self, base: Path, duckdb: DuckDBWarehouses, params: dict[str, str]) -> None:
        from validator.dbt_run import DbtProject

        self.base = base
        self.duckdb = duckdb
        self.params = params
        self.project = DbtProject(ROOT, target="postgres")
        self._builds = {}
        self.loaded: str | bool | None = False

    def path(self, fault: str | None) -> Path:
        return self.duckdb.path(fault)

    def load(self, fault: str | None) -> None:
        from validator import exampledata

        if self.loaded is False or self.loaded != fault:
            exampledata.load_into_postgres(self.duckdb.path(fault), self.params)
            self.loaded = fault

    def env(self, fault: str | None) -> dict[str, str]:
        self.load(fault)
        return {f"LABELPACT_PG_{k.upper()}": v for k, v in self.params.items()}


@pytest.fixture(scope="session")
def duckdb_warehouses(tmp_path_factory: pytest.TempPathFactory) -> DuckDBWarehouses:
    return DuckDBWarehouses(tmp_path_factory.mktemp("warehouses"))


@pytest.fixture(scope="session")
def pg_server():  # type: ignore[no-untyped-def]
    from pgserver import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_warehouses(pg_server, duckdb_warehouses, tmp_path_factory):  # type: ignore[no-untyped-def]
    return PostgresWarehouses(tmp_path_factory.mktemp("pg"), duckdb_warehouses,
                              pg_server.params)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> DuckDBWarehouses:
    """The warehouses of one engine; end-to-end tests run once per engine."""
    return request.getfixturevalue(f"{request.param}_warehouses")


@pytest.fixture()
def warehouses(duckdb_warehouses: DuckDBWarehouses) -> DuckDBWarehouses:
    return duckdb_warehouses
