"""Commands on contracts, before any warehouse: lint, schema, compile, init, diff, docs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from validator.errors import ExitCode, UsageError, render_problems

if TYPE_CHECKING:
    pass
from validator.cli.common import _project_dir_arg, _settings, _settings_args

# --- lint -------------------------------------------------------------------------------------


def _paths_args(p: argparse.ArgumentParser) -> None:
    """Contract paths, defaulting to the project's contracts directory."""
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="contract files or directories (default: the project's contracts directory, "
        "`contracts` in labelpact.yml, else contracts/)",
    )
    _project_dir_arg(p)


def _paths(args: argparse.Namespace) -> list[Path]:
    """The contract paths given, else the project's contracts directory (which must exist)."""
    from validator.settings import Settings

    settings = Settings.from_env(project_dir=args.project_dir)
    args.project_dir = settings.project_dir
    if args.paths:
        return list(args.paths)
    found = settings.contracts_dir
    if not found.is_dir():
        raise UsageError(
            f"no contracts directory {found} (give contract paths, run in a dbt project "
            "with one, set `contracts` in labelpact.yml, or `labelpact init`)"
        )
    return [found]


def _lint_args(p: argparse.ArgumentParser) -> None:
    _paths_args(p)
    p.add_argument(
        "--strict", action="store_true", help="also require descriptions; treat warnings as errors"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--max-problems", type=int, default=50, help="cap the listing (default 50)")


def _lint(args: argparse.Namespace) -> int:
    from validator.contract.lint import lint

    report = lint(_paths(args), strict=args.strict)
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        if report.problems:
            print(render_problems(report.problems, limit=args.max_problems))
        print(report.summary())
    return int(report.exit_code)


# --- schema -----------------------------------------------------------------------------------


def _schema_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")


def _schema(args: argparse.Namespace) -> int:
    from validator.contract.json_schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


# --- compile ----------------------------------------------------------------------------------


def _compile_args(p: argparse.ArgumentParser) -> None:
    _paths_args(p)
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail (exit 1) if committed artifacts are stale",
    )
    p.add_argument(
        "--dialects",
        default=None,
        help="comma-separated SQL dialects to render annotation checks for "
        "(default: duckdb,postgres,spark)",
    )


def _compile(args: argparse.Namespace) -> int:
    from validator.compiler.artifacts import (
        check_artifacts,
        compile_contracts,
        contract_set,
        sync_artifacts,
    )
    from validator.contract.resolve import load_contracts

    args.paths = _paths(args)
    contracts = load_contracts(args.paths)
    dialects = tuple(args.dialects.split(",")) if args.dialects else None
    artifacts = compile_contracts(contracts, dialects=dialects, root=args.project_dir)
    sources = contract_set(args.paths, args.project_dir)
    if args.check:
        stale = check_artifacts(artifacts, args.project_dir, sources)
        if stale:
            print("stale artifacts (run `labelpact compile`):")
            for line in stale:
                print(f"  {line}")
            return int(ExitCode.VIOLATIONS)
        print(f"{len(artifacts)} artifacts are up to date")
        return 0
    written, removed = sync_artifacts(artifacts, args.project_dir, sources)
    for rel in removed:
        print(f"removed {rel} (its contract is no longer in {', '.join(sources)})")
    print(
        f"compiled {len(contracts)} contracts into {len(artifacts)} files "
        f"({written} written, {len(removed)} removed)"
    )
    return 0


# --- init -----------------------------------------------------------------------------------


def _init_args(p: argparse.ArgumentParser) -> None:
    _settings_args(p)
    p.add_argument(
        "--from",
        dest="relation",
        metavar="SCHEMA.TABLE",
        help="also write a contract for this relation, inferred from its columns and data",
    )
    p.add_argument("--name", help="contract name (default: the table name)")
    p.add_argument("--owner", help="who answers for the data (default: git user.email)")
    p.add_argument(
        "--sample-rows",
        type=int,
        default=1_000_000,
        help="profile at most this many rows of a large table (default 1000000)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing contract file")


def _init(args: argparse.Namespace) -> int:
    from validator.compiler.artifacts import write_artifacts
    from validator.contract import infer
    from validator.contract.init import contract_name, default_owner, init_project
    from validator.contract.lint import lint
    from validator.engines.recorded import warehouse_for
    from validator.errors import EngineError, UsageError

    settings = _settings(args)
    contracts = init_project(settings.project_dir, say=print)
    if not args.relation:
        print("next: `labelpact init --from SCHEMA.TABLE` starts a contract from a table")
        return 0
    parts = args.relation.split(".")
    if len(parts) < 2:
        raise UsageError(f"--from {args.relation}: give the relation as SCHEMA.TABLE")
    name = args.name or contract_name(args.relation)
    path = contracts / f"{name}.yml"
    if path.exists() and not args.force:
        raise UsageError(f"{path} exists; pass --force to overwrite it, or --name another name")
    with warehouse_for(settings) as wh:
        try:
            columns = wh.schema(args.relation)
        except EngineError as exc:
            raise UsageError(f"--from {args.relation}: {exc}") from exc
        found = infer.profile(wh.query, wh.dialect, args.relation, columns, args.sample_rows)
    command = f"labelpact init --from {args.relation}"
    source = {"dbt_source": ".".join(parts[-2:])}
    text = infer.contract_text(found, name, source, args.owner or default_owner(), command)
    write_artifacts({path.name: text}, path.parent)
    report = lint([path])
    if report.problems:  # a bug in inference, not the user's fault: say so, keep the file
        print(render_problems(report.problems))
        raise UsageError(f"wrote {path}, but it does not lint clean (please report this)")
    scope = f"a sample of {found.rows:,} rows" if found.sampled else f"{found.rows:,} rows"
    print(
        f"wrote {path}: {len(columns)} columns, profiled {scope}; review it, then run "
        f"`labelpact compile {contracts}`"
    )
    return 0


# --- diff / docs ------------------------------------------------------------------------------


def _diff_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", help="old contract: a file, or REV:path for a git revision")
    p.add_argument("new", help="new contract: a file, or REV:path")
    p.add_argument("--format", choices=("text", "json"), default="text")


def _diff(args: argparse.Namespace) -> int:
    from validator.contract.diff import diff, read_contract

    report = diff(read_contract(args.old), read_contract(args.new))
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.render())
    return int(ExitCode.VIOLATIONS if report.version_problem else ExitCode.OK)


def _docs_args(p: argparse.ArgumentParser) -> None:
    _paths_args(p)
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("docs/data-dictionary.md"),
        help="the Markdown file to write (default docs/data-dictionary.md)",
    )
    p.add_argument("--strict", action="store_true", help="fail when any field lacks a description")


def _docs(args: argparse.Namespace) -> int:
    from validator.compiler.artifacts import write_artifacts
    from validator.contract.docs import render
    from validator.contract.resolve import load_contracts

    contracts = load_contracts(_paths(args), strict=args.strict)
    write_artifacts({args.output.name: render(contracts)}, args.output.parent)
    print(f"wrote {args.output} ({len(contracts)} contracts)")
    return 0
