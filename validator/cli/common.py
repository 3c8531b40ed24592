"""What the commands share: the project/profile/target options, settings, progress, output."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from validator.settings import Settings


# --- validate / gate / ledger ----------------------------------------------------------------


def _settings_args(p: argparse.ArgumentParser) -> None:
    _dbt_args(p)
    p.add_argument(
        "--ledger",
        type=Path,
        default=None,
        dest="ledger_path",
        help="ledger file (default $LABELPACT_LEDGER or .labelpact/ledger.jsonl)",
    )
    p.add_argument(
        "--signing-key",
        type=Path,
        default=None,
        help="Ed25519 private key that signs ledger entries and attestations (default "
        "$LABELPACT_SIGNING_KEY, or signing_key in labelpact.yml)",
    )
    p.add_argument(
        "--trusted-keys",
        type=Path,
        nargs="+",
        default=None,
        metavar="PATH",
        help="public keys (files, or directories of *.pub) whose signatures are accepted; "
        "with any, unsigned entries are refused (default $LABELPACT_TRUSTED_KEYS, "
        "or trusted_keys in labelpact.yml)",
    )


def _project_dir_arg(p: argparse.ArgumentParser) -> None:
    """dbt's option for finding the project, with dbt's precedence."""
    p.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="dbt project root (default $DBT_PROJECT_DIR, else the nearest directory at or "
        "above . holding dbt_project.yml)",
    )


def _dbt_args(p: argparse.ArgumentParser) -> None:
    """dbt's own options for finding the project and the warehouse, with dbt's precedence."""
    _project_dir_arg(p)
    p.add_argument(
        "--profiles-dir",
        type=Path,
        default=None,
        help="directory of profiles.yml (default $DBT_PROFILES_DIR, else the project "
        "directory if it holds one, else ~/.dbt)",
    )
    p.add_argument(
        "--target",
        default=None,
        help="dbt target of the profile: the warehouse every query runs on (default "
        "$DBT_TARGET, else the profile's default target)",
    )


def _settings(args: argparse.Namespace) -> Settings:
    from validator.settings import Settings

    return Settings.from_env(
        project_dir=args.project_dir,
        profiles_dir=args.profiles_dir,
        target=args.target,
        ledger_path=getattr(args, "ledger_path", None),
        signing_key=getattr(args, "signing_key", None),
        trusted_keys=tuple(args.trusted_keys) if getattr(args, "trusted_keys", None) else None,
    )


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"  {message}", file=sys.stderr)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        print(text)
        return
    from validator.compiler.artifacts import write_artifacts

    write_artifacts({output.name: text + "\n"}, output.parent)
