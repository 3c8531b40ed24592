"""`labelpact init`: set labelpact up in an existing dbt project, and start contracts from tables.

Idempotent: it writes `labelpact.yml` and the contracts directory only when they are missing,
and never overwrites a contract unless asked to.
"""

from __future__ import annotations

import getpass
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from validator.compiler.layout import SETTINGS_FILE, Layout, read_settings
from validator.errors import UsageError

SETTINGS_TEXT = """\
# labelpact's settings for this dbt project (every path is relative to this file).
contracts: contracts             # contract files: lint, compile, validate and gate read them
ledger: .labelpact/ledger.jsonl  # the append-only, tamper-evident record of verdicts
# Compiled artifacts go under the first model-, test- and macro-path of dbt_project.yml
# ({models}, {tests}, {macros}) and {expectations}/;
# override with `models:`, `tests:`, `macros:` and `expectations:`.
"""


def init_project(project_dir: Path, say: Callable[[str], None]) -> Path:
    """Write labelpact's settings and an empty contracts directory; returns the directory."""
    if not (project_dir / "dbt_project.yml").is_file():
        raise UsageError(
            f"no dbt_project.yml in {project_dir.resolve()}: run `labelpact init` in a dbt "
            "project (or pass --project-dir); `dbt init` creates one"
        )
    settings = project_dir / SETTINGS_FILE
    if settings.exists():
        say(f"kept {settings} (already there)")
    else:
        layout = Layout.of_project(project_dir)
        settings.write_text(
            SETTINGS_TEXT.format(
                models=layout.models,
                tests=layout.tests,
                macros=layout.macros,
                expectations=layout.expectations,
            ),
            encoding="utf-8",
        )
        say(f"wrote {settings}")
    contracts = contracts_dir(project_dir)
    if contracts.is_dir():
        say(f"kept {contracts}/ (already there)")
    else:
        contracts.mkdir(parents=True)
        say(f"created {contracts}/")
    return contracts


def contracts_dir(project_dir: Path) -> Path:
    return project_dir / str(read_settings(project_dir).get("contracts", "contracts"))


def default_owner() -> str:
    """Who answers for a new contract: git's user.email, else the login name."""
    try:
        email = subprocess.run(
            ["git", "config", "user.email"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except OSError:
        email = ""
    return email or getpass.getuser()


def contract_name(relation: str) -> str:
    """A contract name for a relation: its table name, made a valid identifier."""
    name = re.sub(r"\W+", "_", relation.split(".")[-1].strip('"`')).strip("_").lower()
    return name or "contract"
