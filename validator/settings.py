"""One typed settings object, passed explicitly.

The project and warehouse are found the way dbt finds them, with dbt's precedence:

- project directory: `--project-dir`, else `DBT_PROJECT_DIR`, else the nearest directory at or
  above the working directory that holds `dbt_project.yml`, else the working directory;
- profiles directory: `--profiles-dir`, else `DBT_PROFILES_DIR`, else the project directory
  when it holds `profiles.yml`, else `~/.dbt`;
- target: `--target`, else `DBT_TARGET`, else the profile's default target.

labelpact has no connection settings of its own: every connection is the dbt profile's (see
`validator.engines.warehouse`). labelpact's own settings live in the project's `labelpact.yml`
(`labelpact init` writes it): `contracts` (default `contracts`) and `ledger`. The ledger:
`--ledger`, else `LABELPACT_LEDGER`, else `ledger` of labelpact.yml, else
`<project>/.labelpact/ledger.jsonl`. Keys: `LABELPACT_SIGNING_KEY`, `LABELPACT_TRUSTED_KEYS`,
`LABELPACT_PSEUDONYM_KEY` over the project's `labelpact.yml` (`signing_key`, `trusted_keys`,
`pseudonym_key`, paths relative to the project).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    """Where the project, its dbt profile and the ledger are.

    `env` holds environment variables for dbt's `env_var()` on top of the process environment
    (the repository's own profiles.yml takes its DuckDB file and PostgreSQL server from them);
    every dbt build and warehouse connection of a run renders the profile with it.
    """

    project_dir: Path = Path(".")
    profiles_dir: Path | None = None  # None: the project directory
    target: str | None = None  # dbt target in profiles.yml (None: the profile's default)
    ledger_path: Path = Path(".labelpact/ledger.jsonl")
    env: Mapping[str, str] = field(default_factory=dict)
    # Ed25519 key that signs every ledger entry (`labelpact keys generate`), and the public
    # keys (files, or directories of *.pub) whose signatures `ledger verify` and `gate` accept.
    signing_key: Path | None = None
    trusted_keys: tuple[Path, ...] = ()
    # A secret file keying the pseudonyms under which the ledger keeps per-annotator figures
    # of personal-data columns (`verdict/pseudonyms.py`); None: it keeps no such figures.
    pseudonym_key: Path | None = None

    @property
    def profiles(self) -> Path:
        """The directory dbt reads profiles.yml from."""
        return self.profiles_dir or self.project_dir

    @property
    def contracts_dir(self) -> Path:
        """`contracts` of the project's labelpact.yml (default `contracts/`)."""
        from validator.compiler.layout import read_settings

        return self.project_dir / str(read_settings(self.project_dir).get("contracts", "contracts"))

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, cwd: Path | None = None, **flags: Any
    ) -> Settings:
        """Flags (None: not given) over the environment over dbt's defaults.

        >>> Settings.from_env({"DBT_TARGET": "postgres"}, target="spark").target
        'spark'
        """
        env = os.environ if environ is None else environ
        given = {k: v for k, v in flags.items() if v is not None}
        here = cwd or Path.cwd()
        project = Path(
            given.pop("project_dir", None) or env.get("DBT_PROJECT_DIR") or find_project_dir(here)
        )
        profiles = given.pop("profiles_dir", None) or env.get("DBT_PROFILES_DIR")
        if not profiles:
            profiles = project if (project / "profiles.yml").is_file() else (Path.home() / ".dbt")
        target = given.pop("target", None) or env.get("DBT_TARGET") or None
        keys = _file_settings(project)
        from_file = keys.pop("ledger_path", None)
        ledger = given.pop("ledger_path", None) or env.get("LABELPACT_LEDGER")
        ledger_path = Path(ledger) if ledger else from_file
        ledger_path = ledger_path or project / ".labelpact" / "ledger.jsonl"
        if env.get("LABELPACT_SIGNING_KEY"):
            keys["signing_key"] = Path(env["LABELPACT_SIGNING_KEY"])
        if env.get("LABELPACT_PSEUDONYM_KEY"):
            keys["pseudonym_key"] = Path(env["LABELPACT_PSEUDONYM_KEY"])
        if env.get("LABELPACT_TRUSTED_KEYS"):
            keys["trusted_keys"] = tuple(
                Path(k) for k in env["LABELPACT_TRUSTED_KEYS"].split(os.pathsep) if k
            )
        return cls(
            project_dir=project,
            profiles_dir=Path(profiles),
            target=target,
            ledger_path=ledger_path,
            **(keys | given),
        )


def find_project_dir(start: Path) -> Path:
    """dbt's default: the nearest of `start` and its parents holding dbt_project.yml (`.` when
    it is the working directory itself, so messages name files as the user sees them)."""
    for directory in (start, *start.parents):
        if (directory / "dbt_project.yml").is_file():
            return Path(".") if directory == Path.cwd() else directory
    return Path(".") if start == Path.cwd() else start


def _file_settings(project_dir: Path) -> dict[str, Any]:
    """Settings from the project's `labelpact.yml` (paths relative to the project)."""
    from validator.compiler.layout import read_settings

    block = read_settings(project_dir)
    out: dict[str, Any] = {}
    if block.get("ledger"):
        out["ledger_path"] = project_dir / str(block["ledger"])
    if block.get("signing_key"):
        out["signing_key"] = project_dir / str(block["signing_key"])
    if block.get("pseudonym_key"):
        out["pseudonym_key"] = project_dir / str(block["pseudonym_key"])
    keys = block.get("trusted_keys")
    if keys:
        keys = [keys] if isinstance(keys, str) else keys
        out["trusted_keys"] = tuple(project_dir / str(k) for k in keys)
    return out
