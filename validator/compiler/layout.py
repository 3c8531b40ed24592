"""Where compiled artifacts go inside a dbt project.

The targets render to canonical directories (`models/labelpact`, `checks/labelpact`,
`macros/labelpact`, `expectations`); a `Layout` places them where the project reads them: under
the first of its `model-paths`, `test-paths` and `macro-paths` in `dbt_project.yml` (so a
project with dbt's default `tests/` gets `tests/labelpact`), or where `labelpact.yml` beside it
says (`models:`, `tests:`, `macros:`, `expectations:`, each a path relative to the project).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from validator.errors import UsageError

SETTINGS_FILE = "labelpact.yml"
CANONICAL = {
    "models": "models/labelpact",
    "tests": "checks/labelpact",
    "macros": "macros/labelpact",
    "expectations": "expectations",
}


@dataclass(frozen=True)
class Layout:
    models: str = CANONICAL["models"]
    tests: str = CANONICAL["tests"]
    macros: str = CANONICAL["macros"]
    expectations: str = CANONICAL["expectations"]

    @classmethod
    def of_project(cls, root: Path) -> Layout:
        """The layout of the dbt project at `root` (canonical when it has no dbt_project.yml)."""
        project = _read_yaml(root / "dbt_project.yml")
        given: dict[str, str] = {}
        if project:
            for key, paths_key, default in (
                ("models", "model-paths", "models"),
                ("tests", "test-paths", "tests"),
                ("macros", "macro-paths", "macros"),
            ):
                paths = project.get(paths_key) or [default]
                given[key] = f"{str(paths[0]).rstrip('/')}/labelpact"
        settings = read_settings(root)
        for f in fields(cls):
            if isinstance(settings.get(f.name), str):
                given[f.name] = str(settings[f.name]).rstrip("/")
        return cls(**given)

    @property
    def dirs(self) -> tuple[str, ...]:
        return (self.models, self.tests, self.macros, self.expectations)

    def place(self, files: dict[str, str]) -> dict[str, str]:
        """Move canonically named artifacts into this layout's directories."""
        if self == Layout():
            return files
        moved = {}
        for rel, text in files.items():
            for key, canonical in CANONICAL.items():
                if rel.startswith(canonical + "/"):
                    rel = getattr(self, key) + rel[len(canonical) :]
                    break
            moved[rel] = text
        return moved


def read_settings(root: Path) -> dict[str, Any]:
    """labelpact's own settings of the project at `root` (`labelpact.yml`), or {}."""
    return _read_yaml(root / SETTINGS_FILE)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping at the top level")
    return data
