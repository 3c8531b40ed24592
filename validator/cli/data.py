"""Commands on data and reports: generate, gx, report, import/export, audit, demo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from validator.errors import ExitCode

if TYPE_CHECKING:
    pass
from validator.cli.common import _dbt_args, _progress, _settings, _settings_args

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
    p.add_argument(
        "--contract",
        default=None,
        help="contract to report on (default: the one contract with annotation sections: "
        "provenance, agreement, uncertainty, label_distribution or annotators; or the "
        "project's only contract)",
    )
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


ANNOTATION_SECTIONS = ("provenance", "agreement", "uncertainty", "label_distribution", "annotators")


def _annotation_contract(contracts: dict[str, Any]) -> str:
    """The name of the one contract that describes annotations (has an annotation section)."""
    from validator.errors import UsageError

    found = [
        name
        for name, c in contracts.items()
        if any(getattr(c.sections, s, None) is not None for s in ANNOTATION_SECTIONS)
    ]
    if not found and len(contracts) == 1:
        found = list(contracts)  # a project's only contract
    if len(found) != 1:
        which = ", ".join(found or contracts) or "none"
        raise UsageError(f"which contract? give --contract, one of: {which}")
    return found[0]


def _report(args: argparse.Namespace) -> int:
    from validator.compiler.artifacts import write_artifacts
    from validator.contract.resolve import load_contracts
    from validator.engines.dbt_runner import DbtProject
    from validator.output.health import gather, render_html

    settings = _settings(args)
    contracts = {c.name: c for c in load_contracts([settings.contracts_dir])}
    args.contract = args.contract or _annotation_contract(contracts)
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
        help="a .parquet file, a DuckDB file (.duckdb, .db), or `dbt`: a table of the active "
        "dbt target, written through its dbt adapter; for odcs, a contracts directory",
    )
    p.add_argument(
        "--table",
        default=None,
        help="schema.table in DuckDB or on the dbt target (default raw.annotations)",
    )
    _dbt_args(p)
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
        "task, Prodigy line, Argilla record, e.g. metadata.guideline) or a CVAT shape "
        "attribute name",
    )
    p.add_argument(
        "--control",
        default=None,
        help="Label Studio: only this control's results; Argilla: only this question",
    )
    p.add_argument("--gold", action="store_true", help="mark every row as gold/ground truth")


def _import(args: argparse.Namespace) -> int:
    from validator.compiler.artifacts import write_artifacts

    if args.format == "odcs":
        from validator.interop.odcs import import_document

        notes: list[str] = []
        files = import_document(args.export, notes)
        write_artifacts(files, args.dest)
        for name in sorted(files):
            print(f"wrote {args.dest / name}")
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        return 0
    from validator.interop import import_export
    from validator.interop.rows import ImportOptions
    from validator.interop.table import Destination

    dest = Destination.parse(
        args.dest, args.table, _settings(args) if str(args.dest) == "dbt" else None
    )
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
    print(f"imported {result.profile.rows:,} rows into {dest.describe()}")
    if args.contract and result.contract:
        write_artifacts({args.contract.name: result.contract}, args.contract.parent)
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
    from validator.compiler.artifacts import write_artifacts
    from validator.interop.odcs import export_contracts

    files = export_contracts(args.paths)
    write_artifacts(files, args.dest)
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
    from validator.engines.recorded import warehouse_for

    settings = _settings(args)
    contracts = {c.name: c for c in load_contracts([settings.contracts_dir])}
    args.contract = args.contract or _annotation_contract(contracts)
    if args.contract not in contracts:
        from validator.errors import UsageError, did_you_mean

        raise UsageError(
            f"unknown contract '{args.contract}'; {did_you_mean(args.contract, list(contracts))}"
        )
    project = DbtProject.from_settings(settings)
    relations = {name: project.relation_name(name) for name in contracts}
    with warehouse_for(settings) as wh:
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
