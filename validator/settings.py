"""One typed settings object, passed explicitly. Precedence: flag > environment > file > default.

The file is the project's `labelpact.yml` (read here: `signing_key`, `trusted_keys`, paths
relative to the project)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    """Where the project, warehouse and ledger are."""

    project_dir: Path = Path(".")
    target: str | None = None  # dbt target in profiles.yml (default: the profile's default)
    duckdb_path: Path = Path("target/labelpact.duckdb")
    ledger_path: Path = Path(".labelpact/ledger.jsonl")
    pg: dict[str, str] = field(default_factory=dict)
    # DuckDB spills to disk beyond this (the same default as profiles.yml gives dbt).
    duckdb_memory: str = "1GB"
    # Ed25519 key that signs every ledger entry (`labelpact keys generate`), and the public
    # keys (files, or directories of *.pub) whose signatures `ledger verify` and `gate` accept.
    signing_key: Path | None = None
    trusted_keys: tuple[Path, ...] = ()

    @property
    def contracts_dir(self) -> Path:
        return self.project_dir / "contracts"

    @property
    def engine(self) -> str:
        """The warehouse labelpact reads itself (fingerprints, samples, ledger mirror)."""
        target = self.target or ""
        if target.startswith("spark") or target.startswith("databricks"):
            from validator.errors import UsageError

            raise UsageError(
                f"target '{target}': labelpact validate, gate and report read "
                "data through DuckDB or PostgreSQL; on Spark run the compiled "
                f"project with `dbt build --target {target}`"
            )
        return "postgres" if target.startswith("postgres") else "duckdb"

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt's profile so it points at the same warehouse as we do."""
        env = {"LABELPACT_DUCKDB": str(self.duckdb_path.resolve())}
        env.update({f"LABELPACT_PG_{k.upper()}": v for k, v in self.pg.items()})
        return env

    @classmethod
    def from_env(cls, **flags: Any) -> Settings:
        """Defaults, overridden by LABELPACT_* environment variables, overridden by flags."""
        env = os.environ
        s = cls(**_file_settings(Path(flags.get("project_dir") or cls.project_dir)))
        if env.get("LABELPACT_SIGNING_KEY"):
            s = replace(s, signing_key=Path(env["LABELPACT_SIGNING_KEY"]))
        if env.get("LABELPACT_TRUSTED_KEYS"):
            keys = tuple(Path(k) for k in env["LABELPACT_TRUSTED_KEYS"].split(os.pathsep) if k)
            s = replace(s, trusted_keys=keys)
        if env.get("LABELPACT_DUCKDB"):
            s = replace(s, duckdb_path=Path(env["LABELPACT_DUCKDB"]))
        if env.get("LABELPACT_LEDGER"):
            s = replace(s, ledger_path=Path(env["LABELPACT_LEDGER"]))
        if env.get("LABELPACT_DUCKDB_MEMORY"):
            s = replace(s, duckdb_memory=env["LABELPACT_DUCKDB_MEMORY"])
        if env.get("LABELPACT_TARGET"):
            s = replace(s, target=env["LABELPACT_TARGET"])
        pg = {
            k[len("LABELPACT_PG_") :].lower(): v
            for k, v in env.items()
            if k.startswith("LABELPACT_PG_")
        }
        if pg:
            s = replace(s, pg=pg)
        given = {k: v for k, v in flags.items() if v is not None}
        s = replace(s, **given)
        if (
            not s.ledger_path.is_absolute()
            and "ledger_path" not in given
            and not env.get("LABELPACT_LEDGER")
        ):
            s = replace(s, ledger_path=s.project_dir / s.ledger_path)
        return s


def _file_settings(project_dir: Path) -> dict[str, Any]:
    """Settings from the project's `labelpact.yml` (paths relative to the project)."""
    from validator.compiler.layout import read_settings

    block = read_settings(project_dir)
    out: dict[str, Any] = {}
    if block.get("signing_key"):
        out["signing_key"] = project_dir / str(block["signing_key"])
    keys = block.get("trusted_keys")
    if keys:
        keys = [keys] if isinstance(keys, str) else keys
        out["trusted_keys"] = tuple(project_dir / str(k) for k in keys)
    return out
