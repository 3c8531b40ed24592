"""The `labelpact` command: thin wrappers that parse options, call the library, render results."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from validator.errors import ContractError, ExitCode, LabelpactError, render_problems

if TYPE_CHECKING:
    from validator.settings import Settings

EXIT_CODES = textwrap.dedent("""\
    exit codes:
      0  ok
      1  violations: a lint error or a check with severity error failed
      2  warnings only
      3  invalid input, bad options, or an engine (dbt, GX, warehouse) error
    """)

Handler = Callable[[argparse.Namespace], int]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labelpact",
        description="Data contracts for ML annotation data, compiled to dbt and Great "
        "Expectations.",
        epilog="examples:\n  labelpact demo\n  labelpact lint contracts/\n"
        "  labelpact compile --check\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (helptext, example, configure, _) in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=helptext,
            description=helptext,
            epilog=f"example:\n  {example}\n\n{EXIT_CODES}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
        configure(p)
    return parser


# --- lint -------------------------------------------------------------------------------------


def _lint_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path("contracts")],
        help="contract files or directories (default: contracts/)",
    )
    p.add_argument(
        "--strict", action="store_true", help="also require descriptions; treat warnings as errors"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--max-problems", type=int, default=50, help="cap the listing (default 50)")


def _lint(args: argparse.Namespace) -> int:
    from validator.contract.lint import lint

    report = lint(args.paths, strict=args.strict)
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
    from validator.contract.spec import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


# --- compile ----------------------------------------------------------------------------------


def _compile_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path("contracts")],
        help="contract files or directories (default: contracts/)",
    )
    p.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="dbt project root to write models/, expectations/ into (default "
        "$DBT_PROJECT_DIR, else the nearest directory at or above . holding dbt_project.yml)",
    )
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

    contracts = load_contracts(args.paths)
    dialects = tuple(args.dialects.split(",")) if args.dialects else None
    from validator.settings import Settings

    args.project_dir = Settings.from_env(project_dir=args.project_dir).project_dir
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


# --- generate ---------------------------------------------------------------------------------


def _generate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", type=Path, help="DuckDB file, or directory for --format parquet")
    p.add_argument("--rows", type=int, default=10_000, help="annotation rows (default 10000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--fault", default=None, help="inject one fault class (see --list-faults)")
    p.add_argument("--format", choices=("duckdb", "parquet"), default="duckdb")
    p.add_argument("--schema", default="raw", help="schema for DuckDB tables (default raw)")
    p.add_argument("--list-faults", action="store_true", help="list fault classes and exit")


def _generate(args: argparse.Namespace) -> int:
    from validator.example import data as exampledata

    if args.list_faults:
        for name, what in exampledata.FAULTS.items():
            print(f"{name:34} {what}")
        return 0
    counts = exampledata.generate(
        args.target,
        rows=args.rows,
        seed=args.seed,
        fault=args.fault,
        fmt=args.format,
        schema=args.schema,
        progress=_progress,
    )
    print(", ".join(f"{table}: {n:,} rows" for table, n in counts.items()))
    note = exampledata.rows_note(args.rows, counts)
    if note:
        print(note)
    return 0


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"  {message}", file=sys.stderr)


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


def _dbt_args(p: argparse.ArgumentParser) -> None:
    """dbt's own options for finding the project and the warehouse, with dbt's precedence."""
    p.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="dbt project root (default $DBT_PROJECT_DIR, else the nearest directory at or "
        "above . holding dbt_project.yml)",
    )
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


def _validate_args(p: argparse.ArgumentParser) -> None:
    _settings_args(p)
    p.add_argument(
        "--select",
        "-s",
        nargs="+",
        default=None,
        metavar="CONTRACT",
        help="validate only these contracts (default: all)",
    )
    p.add_argument(
        "--format", choices=("console", "json", "junit", "openlineage"), default="console"
    )
    p.add_argument("--output", "-o", type=Path, help="write the report here (atomically)")
    p.add_argument("--verbose", "-v", action="store_true", help="list passing checks too")
    p.add_argument(
        "--gx",
        action="store_true",
        help="also run the Great Expectations suites; a check fails if either fails",
    )
    p.add_argument(
        "--incremental",
        action="store_true",
        help="validate only the batches that are new since the last validation "
        "(contracts with an `incremental` section); falls back to a full "
        "validation, saying why, when that is not possible",
    )
    p.add_argument(
        "--attest",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write each verdict as a signed in-toto statement (DSSE envelope, one per "
        "line); needs a signing key",
    )


def _validate(args: argparse.Namespace) -> int:
    from validator.errors import UsageError
    from validator.output import run_report as reports
    from validator.verdict.validate import validate, validate_incremental

    if args.incremental and args.gx:
        raise UsageError(
            "--incremental and --gx cannot be combined: the GX suites read whole tables"
        )
    settings = _settings(args)
    if args.attest and settings.signing_key is None:  # say so before the work, not after
        raise UsageError("--attest needs a signing key (--signing-key or LABELPACT_SIGNING_KEY)")
    if args.incremental:
        run = validate_incremental(settings, select=args.select, progress=_progress)
    else:
        run = validate(settings, select=args.select, progress=_progress, gx=args.gx)
    if args.format == "console":
        text = reports.console(run, verbose=args.verbose)
    elif args.format == "json":
        text = json.dumps(reports.to_json(run), indent=2)
    elif args.format == "junit":
        text = reports.junit(run)
    else:
        text = json.dumps(reports.openlineage(run), indent=2)
    _emit(text, args.output)
    if args.attest:
        from validator.verdict.attest import attest

        _write_envelopes([attest(name, settings) for name in sorted(run.verdicts)], args.attest)
    return int(run.exit_code)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        print(text)
        return
    from validator.compiler.artifacts import write_artifacts

    write_artifacts({output.name: text + "\n"}, output.parent)


def _gate_args(p: argparse.ArgumentParser) -> None:
    _settings_args(p)
    p.add_argument("contract", help="the contract whose data the job wants to use")
    p.add_argument("--max-age", default="24h", help="oldest acceptable validation (default 24h)")
    p.add_argument(
        "--allow-warnings",
        action="store_true",
        help="accept a verdict whose only failures are warnings",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")


def _gate(args: argparse.Namespace) -> int:
    from validator.verdict.gate import gate

    verdict = gate(
        args.contract,
        max_age=args.max_age,
        allow_warnings=args.allow_warnings,
        settings=_settings(args),
    )
    if args.format == "json":
        print(
            json.dumps(
                {
                    "contract": verdict.contract,
                    "allowed": verdict.allowed,
                    "reasons": verdict.reasons,
                    "ledger_seq": verdict.ledger_seq,
                    "validated_at": verdict.validated_at,
                },
                indent=2,
            )
        )
    elif verdict.allowed:
        print(
            f"PASS {args.contract}: validated at {verdict.validated_at} (ledger entry "
            f"{verdict.ledger_seq}); data unchanged since"
        )
    else:
        print(f"REFUSED {args.contract}:")
        for reason in verdict.reasons:
            print(f"  - {reason}")
    return int(verdict.exit_code)


def _ledger_args(p: argparse.ArgumentParser) -> None:
    _settings_args(p)
    p.add_argument("action", choices=("verify", "show"), help="verify the chain, or list entries")
    p.add_argument(
        "--warehouse",
        action="store_true",
        help="also compare with the warehouse mirror (labelpact_audit.ledger)",
    )


def _ledger(args: argparse.Namespace) -> int:
    from validator.verdict.evidence import describe_warehouse
    from validator.verdict.ledger import ledger_for

    settings = _settings(args)
    ledger = ledger_for(settings)
    problems, entries = ledger.verify()
    if args.warehouse:
        from validator.verdict.ledger import compare_with_warehouse

        problems += compare_with_warehouse(settings, entries)
    if args.action == "show":
        for e in entries:
            verdicts = ", ".join(
                f"{n}={v['status']}" for n, v in e.record.get("contracts", {}).items()
            )
            signed = f"signed {e.signature['keyid']}" if e.signature else "unsigned"
            print(
                f"{e.seq:5}  {e.record.get('started_at', '?')}  {e.hash[:12]}  {signed}  {verdicts}"
            )
            for n, v in e.record.get("contracts", {}).items():
                if v.get("warehouse"):
                    print(
                        f"       {n}: {v['fingerprint']['relation']} on "
                        f"{describe_warehouse(v['warehouse'])}"
                    )
    for problem in problems:
        print(f"TAMPERED: {problem}")
    if problems:
        return int(ExitCode.VIOLATIONS)
    trust = ", signatures verified" if ledger.trusted else ""
    print(f"ledger {ledger.path}: {len(entries)} entries, chain intact{trust}")
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
    from validator.engines.warehouse import Warehouse
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
    with Warehouse(settings) as wh:
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


# --- keys / attest ----------------------------------------------------------------------------


def _keys_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("generate",), help="create an Ed25519 key pair")
    p.add_argument(
        "--dir", type=Path, default=Path(".labelpact/keys"), help="where to write the pair"
    )
    p.add_argument("--name", default="labelpact", help="file name stem (NAME.key, NAME.pub)")


def _keys(args: argparse.Namespace) -> int:
    from validator.verdict.signing import generate_keys, load_signer

    private, public = generate_keys(args.dir, args.name)
    print(f"private key: {private} (mode 0600; keep it where validation runs, e.g. a CI secret)")
    print(f"public key:  {public} (key id {load_signer(private).keyid}; give it to every gate)")
    return 0


def _attest_args(p: argparse.ArgumentParser) -> None:
    _settings_args(p)
    p.add_argument("contract", help="the contract whose latest verdict to attest")
    p.add_argument("--output", "-o", type=Path, required=True, help="envelope file (JSON Lines)")


def _attest(args: argparse.Namespace) -> int:
    from validator.verdict.attest import attest

    _write_envelopes([attest(args.contract, _settings(args))], args.output)
    return 0


def _write_envelopes(envelopes: list[dict[str, object]], output: Path) -> None:
    """One DSSE envelope per line (the in-toto bundle format, `.intoto.jsonl`)."""
    text = "\n".join(json.dumps(e, sort_keys=True) for e in envelopes)
    _emit(text, output)
    print(f"wrote {output} ({len(envelopes)} signed in-toto statement(s))", file=sys.stderr)


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
    p.add_argument("paths", nargs="*", type=Path, default=[Path("contracts")])
    p.add_argument("--output", "-o", type=Path, default=Path("docs/data-dictionary.md"))
    p.add_argument("--strict", action="store_true", help="fail when any field lacks a description")


def _docs(args: argparse.Namespace) -> int:
    from validator.compiler.artifacts import write_artifacts
    from validator.contract.docs import render
    from validator.contract.resolve import load_contracts

    contracts = load_contracts(args.paths, strict=args.strict)
    write_artifacts({args.output.name: render(contracts)}, args.output.parent)
    print(f"wrote {args.output} ({len(contracts)} contracts)")
    return 0


# --- gx -------------------------------------------------------------------------------------


def _gx_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("run",), help="run the compiled suites through GX")
    p.add_argument("paths", nargs="*", type=Path, default=[Path("contracts")])
    _dbt_args(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--parquet-dir",
        type=Path,
        default=None,
        help="a directory of <table>.parquet files (GX pandas)",
    )
    where.add_argument("--sqlalchemy-url", default=None, help="e.g. postgresql+psycopg2://...")
    p.add_argument(
        "--schema",
        default="raw",
        help="schema holding the tables (default raw); without --parquet-dir or "
        "--sqlalchemy-url, the tables of the dbt profile's target",
    )
    p.add_argument("--select", "-s", nargs="+", default=None, metavar="CONTRACT")


def _gx(args: argparse.Namespace) -> int:
    from validator.compiler.plan import build_plans
    from validator.contract.resolve import load_contracts
    from validator.engines.gx_runner import run_suites

    plans = build_plans(load_contracts(args.paths))
    if args.select:
        plans = [p for p in plans if p.contract.name in args.select]
    source: dict[str, object] = {}
    if args.parquet_dir:
        source["parquet_dir"] = args.parquet_dir
    elif args.sqlalchemy_url:
        source["sqlalchemy_url"] = args.sqlalchemy_url
    else:
        from validator.engines.warehouse import Warehouse

        source["warehouse"] = Warehouse(_settings(args))
    results = run_suites(plans, schema=args.schema, **source)  # type: ignore[arg-type]
    bad = [r for r in results if r.status != "pass"]
    for r in bad:
        count = "" if r.failures is None else f" ({r.failures} failing)"
        detail = f": {r.message}" if r.status == "error" and r.message else ""
        print(f"{r.status.upper():6} {r.check_id}{count}{detail}")
    print(f"{len(results) - len(bad)}/{len(results)} GX expectations passed")
    if any(r.status in ("fail", "error") for r in results):
        return int(ExitCode.VIOLATIONS)
    return int(ExitCode.WARNINGS if bad else ExitCode.OK)


# --- report -----------------------------------------------------------------------------------


def _report_args(p: argparse.ArgumentParser) -> None:
    _settings_args(p)
    p.add_argument("--contract", default="annotations", help="contract to report on")
    p.add_argument("--output", "-o", type=Path, default=Path("target/labelpact-report.html"))
    p.add_argument(
        "--croissant",
        type=Path,
        default=None,
        help="also write Croissant 1.0 metadata with the RAI fields (JSON-LD) here",
    )
    p.add_argument(
        "--license",
        default="unspecified",
        help="the data's license for --croissant, ideally a URL (e.g. an SPDX license page)",
    )
    p.add_argument("--url", default=None, help="the dataset's home page for --croissant")
    p.add_argument("--cite-as", default=None, help="citation text for --croissant")


def _report(args: argparse.Namespace) -> int:
    from validator.compiler.artifacts import write_artifacts
    from validator.contract.resolve import load_contracts
    from validator.engines.dbt_runner import DbtProject
    from validator.output.health import gather, render_html

    settings = _settings(args)
    contracts = {c.name: c for c in load_contracts([settings.contracts_dir])}
    if args.contract not in contracts:
        from validator.errors import UsageError, did_you_mean

        raise UsageError(
            f"unknown contract '{args.contract}'; {did_you_mean(args.contract, list(contracts))}"
        )
    project = DbtProject.from_settings(settings)
    relations = {name: project.relation_name(name) for name in contracts}
    metrics = gather(settings, contracts[args.contract], contracts, relations)
    write_artifacts({args.output.name: render_html(metrics)}, args.output.parent)
    print(f"wrote {args.output}")
    if args.croissant:
        from validator.output.croissant import croissant_metadata

        doc = croissant_metadata(
            metrics,
            contracts[args.contract],
            license=args.license,
            url=args.url,
            cite_as=args.cite_as,
        )
        text = json.dumps(doc, indent=2) + "\n"
        write_artifacts({args.croissant.name: text}, args.croissant.parent)
        print(f"wrote {args.croissant}")
    return 0


# --- import / export --------------------------------------------------------------------------


def _import_args(p: argparse.ArgumentParser) -> None:
    from validator.interop import FORMATS

    p.add_argument("format", choices=(*FORMATS, "odcs"), help="the export's format")
    p.add_argument("export", type=Path, help="the export file (or an ODCS YAML document)")
    p.add_argument(
        "--to",
        type=Path,
        required=True,
        dest="dest",
        help="a .parquet file or a DuckDB file (.duckdb, .db); for odcs, a contracts directory",
    )
    p.add_argument("--table", default=None, help="schema.table in DuckDB (default raw.annotations)")
    p.add_argument(
        "--contract",
        type=Path,
        default=None,
        help="also write a contract for the imported table to this YAML file",
    )
    p.add_argument("--owner", default="unassigned", help="owner written into --contract")
    p.add_argument("--project", default=None, help="project/batch name for every row")
    p.add_argument("--tool-version", default=None, help="the tool's version, for every row")
    version = p.add_mutually_exclusive_group()
    version.add_argument("--instruction-version", default=None, help="e.g. v3, for every row")
    version.add_argument(
        "--instruction-field",
        default=None,
        help="where each record says its instruction version: a dotted path (Label Studio "
        "task, Prodigy line) or a CVAT shape attribute name",
    )
    p.add_argument("--control", default=None, help="Label Studio: only this control's results")
    p.add_argument("--gold", action="store_true", help="mark every row as gold/ground truth")


def _import(args: argparse.Namespace) -> int:
    from validator.interop import write_files

    if args.format == "odcs":
        from validator.interop.odcs import import_document

        notes: list[str] = []
        files = import_document(args.export, notes)
        write_files(files, args.dest)
        for name in sorted(files):
            print(f"wrote {args.dest / name}")
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        return 0
    from validator.interop import import_export
    from validator.interop.rows import ImportOptions
    from validator.interop.table import Destination

    dest = Destination.parse(args.dest, args.table)
    options = ImportOptions(
        project=args.project,
        tool_version=args.tool_version,
        instruction_version=args.instruction_version,
        instruction_field=args.instruction_field,
        control=args.control,
        gold=args.gold,
    )
    name = (dest.table or "").partition(".")[2] or args.dest.stem
    result = import_export(
        args.format, args.export, dest, options, name if args.contract else None, args.owner
    )
    where = f"{dest.path} ({dest.table})" if dest.table else str(dest.path)
    print(f"imported {result.profile.rows:,} rows into {where}")
    if args.contract and result.contract:
        write_files({args.contract.name: result.contract}, args.contract.parent)
        print(f"wrote {args.contract}")
    return 0


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("format", choices=("odcs",), help="the standard to write")
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path("contracts")],
        help="contract files or directories (default: contracts/)",
    )
    p.add_argument(
        "--to",
        type=Path,
        default=Path("odcs"),
        dest="dest",
        help="directory for <contract>.odcs.yaml (default odcs/)",
    )


def _export(args: argparse.Namespace) -> int:
    from validator.interop import write_files
    from validator.interop.odcs import export_contracts

    files = export_contracts(args.paths)
    write_files(files, args.dest)
    print(f"wrote {len(files)} ODCS document(s) to {args.dest}")
    return 0


# --- audit -----------------------------------------------------------------------------------


def _audit_args(p: argparse.ArgumentParser) -> None:
    _settings_args(p)
    p.add_argument("action", choices=("sample",), help="draw a sample of items for review")
    p.add_argument("contract", help="the contract whose items are sampled (e.g. annotations)")
    p.add_argument("--size", type=int, required=True, help="number of items to sample")
    p.add_argument(
        "--by",
        nargs="+",
        default=None,
        metavar="COL",
        help="stratify by these columns (default: the annotator, batch and label roles); "
        "low-confidence and disagreement items are always strata",
    )
    p.add_argument("--seed", type=int, default=0, help="the same seed draws the same sample")
    p.add_argument(
        "--min-per-stratum", type=int, default=1, help="items every stratum gets at least"
    )
    p.add_argument(
        "--output", "-o", type=Path, required=True, help="a .csv or .parquet file to write"
    )


def _audit(args: argparse.Namespace) -> int:
    from validator.audit.sample import draw_sample, write_sample
    from validator.contract.resolve import load_contracts
    from validator.engines.dbt_runner import DbtProject
    from validator.engines.warehouse import Warehouse

    settings = _settings(args)
    contracts = {c.name: c for c in load_contracts([settings.contracts_dir])}
    if args.contract not in contracts:
        from validator.errors import UsageError, did_you_mean

        raise UsageError(
            f"unknown contract '{args.contract}'; {did_you_mean(args.contract, list(contracts))}"
        )
    project = DbtProject.from_settings(settings)
    relations = {name: project.relation_name(name) for name in contracts}
    with Warehouse(settings) as wh:
        sample = draw_sample(
            wh,
            contracts[args.contract],
            contracts,
            relations,
            size=args.size,
            by=args.by,
            seed=args.seed,
            min_per_stratum=args.min_per_stratum,
        )
    write_sample(sample, args.output)
    print(
        f"wrote {args.output}: {len(sample.items)} items ({len(sample.rows)} labels), "
        f"{len(sample.strata)} strata, {sample.minimum_items} items for the per-stratum minimum"
    )
    return 0


# --- demo -------------------------------------------------------------------------------------


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=20_000, help="example annotation rows")
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path("target/demo"),
        help="where the example warehouse is written (default target/demo)",
    )


def _demo(args: argparse.Namespace) -> int:
    from validator.example.demo import run_demo

    return run_demo(rows=args.rows, workdir=args.workdir, say=print)


COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "lint": (
        "check contract files and report every problem with file:line:col",
        "labelpact lint contracts/",
        _lint_args,
        _lint,
    ),
    "compile": (
        "compile contracts into dbt models, tests and GX suites",
        "labelpact compile contracts/ && dbt build",
        _compile_args,
        _compile,
    ),
    "generate": (
        "write deterministic example annotation data, optionally with a fault",
        "labelpact generate target/example.duckdb --rows 100000 --fault bad_label",
        _generate_args,
        _generate,
    ),
    "schema": (
        "print the JSON Schema for contract files (for editor autocompletion)",
        "labelpact schema -o contract.schema.json",
        _schema_args,
        _schema,
    ),
    "validate": (
        "run every check in-process (dbt), fingerprint the data, record the verdict",
        "labelpact validate --select annotations --format junit -o report.xml",
        _validate_args,
        _validate,
    ),
    "gate": (
        "may a training job use this data? pass only for a fresh, passing, unchanged verdict",
        "labelpact gate annotations --max-age 24h",
        _gate_args,
        _gate,
    ),
    "ledger": (
        "verify or show the tamper-evident ledger of verdicts",
        "labelpact ledger verify",
        _ledger_args,
        _ledger,
    ),
    "init": (
        "set labelpact up in a dbt project; with --from, start a contract from a table",
        "labelpact init --from raw.annotations",
        _init_args,
        _init,
    ),
    "diff": (
        "classify changes between two contract versions as breaking or not",
        "labelpact diff HEAD~1:contracts/annotations.yml contracts/annotations.yml",
        _diff_args,
        _diff,
    ),
    "docs": (
        "write a Markdown data dictionary from the contracts",
        "labelpact docs --strict -o docs/data-dictionary.md",
        _docs_args,
        _docs,
    ),
    "gx": (
        "run the compiled Great Expectations suites (the dbt profile's target, a SQLAlchemy "
        "URL or Parquet)",
        "labelpact gx run --parquet-dir exports/",
        _gx_args,
        _gx,
    ),
    "report": (
        "write a self-contained HTML health report of the label metadata",
        "labelpact report --contract annotations -o report.html",
        _report_args,
        _report,
    ),
    "import": (
        "turn an annotation tool's export into a flat annotations table (Parquet or DuckDB), "
        "or an ODCS document into contracts",
        "labelpact import labelstudio export.json --to target/ls.duckdb --contract "
        "contracts/ls.yml",
        _import_args,
        _import,
    ),
    "export": (
        "write every contract as an Open Data Contract Standard (ODCS v3) document",
        "labelpact export odcs contracts/ --to odcs/",
        _export_args,
        _export,
    ),
    "keys": (
        "create an Ed25519 key pair that signs verdicts",
        "labelpact keys generate --dir ~/.labelpact --name ci",
        _keys_args,
        _keys,
    ),
    "attest": (
        "write the latest verdict as a signed in-toto statement (DSSE envelope)",
        "labelpact attest annotations -o annotations.intoto.jsonl",
        _attest_args,
        _attest,
    ),
    "audit": (
        "draw a reproducible, stratified sample of items for human review (CSV or Parquet)",
        "labelpact audit sample annotations --size 200 --by annotator_id batch_id --seed 7 "
        "-o audit.csv",
        _audit_args,
        _audit,
    ),
    "demo": (
        "run the whole story on example data: generate, compile, dbt build, inject faults",
        "labelpact demo --rows 20000",
        _demo_args,
        _demo,
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return int(ExitCode.INVALID)
    handler = COMMANDS[args.command][3]
    try:
        return handler(args)
    except ContractError as exc:
        print(render_problems(exc.problems), file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was written", file=sys.stderr)
        return int(exc.exit_code)
    except LabelpactError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"labelpact: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("labelpact: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an engine or a bug; never show a bare traceback unless asked
        if args.debug or os.environ.get("LABELPACT_DEBUG"):
            traceback.print_exc()
        print(
            f"labelpact: internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
            file=sys.stderr,
        )
        return int(ExitCode.INVALID)
