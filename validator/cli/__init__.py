"""The `labelpact` command: thin wrappers that parse options, call the library, render results.

One module per stage of the pipeline: `contracts` (lint, compile, init, diff, docs), `verdicts`
(validate, gate, ledger, keys, attest), `data` (generate, gx, report, import/export, audit,
demo); `common` holds the options they share. `COMMANDS` below is the one registry.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import traceback
from collections.abc import Callable

from validator.errors import ContractError, ExitCode, LabelpactError, render_problems

EXIT_CODES = textwrap.dedent("""\
    exit codes:
      0  ok
      1  violations: a lint error or a check with severity error failed
      2  warnings only
      3  invalid input, bad options, or an engine (dbt, GX, warehouse) error
    """)

Handler = Callable[[argparse.Namespace], int]


class _Version(argparse.Action):
    """`--version`: the installed versions, looked up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        from validator.versions import version_line

        print(version_line())
        parser.exit()


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
    parser.add_argument(
        "--version", action=_Version, help="print the versions of labelpact, dbt, GX and DuckDB"
    )
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


from validator.cli.common import _emit as _emit  # noqa: E402  (re-exported for tests)
from validator.cli.contracts import (  # noqa: E402
    _compile,
    _compile_args,
    _diff,
    _diff_args,
    _docs,
    _docs_args,
    _init,
    _init_args,
    _lint,
    _lint_args,
    _schema,
    _schema_args,
)
from validator.cli.data import (  # noqa: E402
    _audit,
    _audit_args,
    _demo,
    _demo_args,
    _export,
    _export_args,
    _generate,
    _generate_args,
    _gx,
    _gx_args,
    _import,
    _import_args,
    _report,
    _report_args,
)
from validator.cli.verdicts import (  # noqa: E402
    _attest,
    _attest_args,
    _gate,
    _gate_args,
    _keys,
    _keys_args,
    _ledger,
    _ledger_args,
    _validate,
    _validate_args,
)

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
        "verify, show, re-mirror or rotate the tamper-evident ledger of verdicts",
        "labelpact ledger verify --warehouse\n  labelpact ledger mirror\n  labelpact ledger rotate",
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
        "write the dashboard: one self-contained HTML page (verdict, agreement, annotators, "
        "audits, trends across validations, drift)",
        "labelpact report --contract annotations -o report.html",
        _report_args,
        _report,
    ),
    "import": (
        "turn an annotation tool's export into a flat annotations table (Parquet, DuckDB or "
        "the active dbt target: --to dbt), or an ODCS document into contracts",
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
        "labelpact keys generate --name ci",
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
