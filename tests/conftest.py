"""Shared fixtures: one parsed dbt project and one generated warehouse per fault, per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

ROOT = Path(__file__).resolve().parent.parent
E2E_ROWS = 3000  # enough for every batch-level rule, small enough for ~1 s per dbt build


class FaultWarehouses:
    """Lazily generates one DuckDB warehouse per fault and caches its dbt build result."""

    def __init__(self, base: Path) -> None:
        from validator.dbt_run import DbtProject

        self.base = base
        self.project = DbtProject(ROOT)
        self._builds: dict[str | None, object] = {}

    def path(self, fault: str | None) -> Path:
        from validator import exampledata

        db = self.base / (fault or "clean") / "labelpact.duckdb"
        if not db.exists():
            exampledata.generate(db, rows=E2E_ROWS, seed=7, fault=fault)
        return db

    def build(self, fault: str | None):  # type: ignore[no-untyped-def]
        if fault not in self._builds:
            db = self.path(fault)
            self._builds[fault] = self.project.build(env={"LABELPACT_DUCKDB": str(db)})
        return self._builds[fault]


@pytest.fixture(scope="session")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> FaultWarehouses:
    return FaultWarehouses(tmp_path_factory.mktemp("warehouses"))
