"""Commands that produce and read verdicts: validate, gate, ledger, keys, attest."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from validator.errors import ExitCode

if TYPE_CHECKING:
    pass
from validator.cli.common import _emit, _progress, _settings, _settings_args


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
        "--always-dbt",
        action="store_true",
        help="have dbt build the models even when nothing dbt reads changed since it last "
        "built them (by default such a run builds them from dbt's recorded compiled SQL "
        "without starting dbt, and falls back to dbt when a relation's columns differ)",
    )
    p.add_argument(
        "--new-ledger",
        action="store_true",
        help="first move the ledger aside (as `labelpact ledger rotate` does) and start a new "
        "one: the way on when the ledger does not verify, or to start signing",
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
    _ledger_preflight(settings, args.new_ledger)
    if args.incremental:
        run = validate_incremental(settings, select=args.select, progress=_progress)
    else:
        run = validate(
            settings,
            select=args.select,
            progress=_progress,
            gx=args.gx,
            replay_models=not args.always_dbt,
        )
    if args.format == "console":
        text = reports.console(run, verbose=args.verbose)
    elif args.format == "json":
        text = json.dumps(reports.to_json(run), indent=2)
    elif args.format == "junit":
        text = reports.junit(run)
    else:
        text = json.dumps(reports.openlineage(run), indent=2)
    _emit(text, args.output)
    from validator.verdict.ledger import ROLLBACK_WARNING

    for warning in run.warnings:
        if ROLLBACK_WARNING in warning:  # evidence of a rollback: say it where it is seen
            print(f"WARNING: {warning}", file=sys.stderr)
    if args.attest:
        from validator.verdict.attest import attest

        _write_envelopes([attest(name, settings) for name in sorted(run.verdicts)], args.attest)
    return int(run.exit_code)


def _ledger_preflight(settings: Any, new_ledger: bool) -> None:
    """Before any work: with --new-ledger move the ledger aside; otherwise refuse a ledger
    that does not verify (appending would hide the damage behind new entries)."""
    from validator.verdict.ledger import LedgerError, ledger_for

    ledger = ledger_for(settings)
    if new_ledger:
        _say_rotated(ledger.rotate(), ledger.path, file=sys.stderr)
        return
    problems = ledger.problems_before_append()
    if problems:
        for problem in problems:
            print(f"TAMPERED: {problem}", file=sys.stderr)
        raise LedgerError(
            f"the ledger {ledger.path} does not verify; nothing was validated or appended. "
            "Keep it for audit and start a new ledger: `labelpact ledger rotate` (or "
            "`labelpact validate --new-ledger`)"
        )


def _say_rotated(moves: list[tuple[Path, Path]], path: Path, file: Any = None) -> None:
    if not moves:
        print(f"no ledger at {path}: nothing to move; the next validate starts one", file=file)
        return
    for src, dst in moves:
        print(f"moved {src} -> {dst} (kept for audit)", file=file)
    print(f"the next validate starts a new ledger at {path}", file=file)


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
    p.add_argument(
        "action",
        choices=("verify", "show", "mirror", "rotate"),
        help="verify the chain, list entries, (re)write every entry into the warehouse "
        "mirror (after failed mirror writes, or for a ledger mirrored before; never over a "
        "different row), or rotate: move the ledger and its head aside to "
        "<name>.<UTC timestamp>.jsonl, kept for audit, so the next validate starts a new ledger "
        "(the way on from a ledger that does not verify, and the way to start signing)",
    )
    p.add_argument(
        "--warehouse",
        action="store_true",
        help="also compare with the warehouse mirror (labelpact_audit.ledger_entries)",
    )


def _ledger(args: argparse.Namespace) -> int:
    from validator.verdict.evidence import describe_warehouse
    from validator.verdict.ledger import ledger_for

    settings = _settings(args)
    ledger = ledger_for(settings)
    if args.action == "rotate":
        _say_rotated(ledger.rotate(), ledger.path)
        return 0
    if not ledger.path.exists() and not ledger.head_path.exists():
        from validator.errors import UsageError

        raise UsageError(
            f"no ledger at {ledger.path} (a mistyped --ledger or $LABELPACT_LEDGER? "
            "`labelpact validate` writes it)"
        )
    problems, entries = ledger.verify()
    if args.action == "mirror":
        return _mirror(settings, ledger, problems, entries)
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


def _mirror(settings: Any, ledger: Any, problems: list[str], entries: list[Any]) -> int:
    from validator.verdict.ledger import mirror_all

    for problem in problems:
        print(f"TAMPERED: {problem}")
    if problems:
        print("not mirrored: a ledger that does not verify is not copied", file=sys.stderr)
        return int(ExitCode.VIOLATIONS)
    if not entries:
        print(f"ledger {ledger.path}: no entries to mirror")
        return 0
    mirror_all(settings, entries, ledger.ledger_id())
    print(
        f"ledger {ledger.path}: {len(entries)} entries mirrored to labelpact_audit.ledger_entries"
    )
    return 0


# --- keys / attest ----------------------------------------------------------------------------


def _keys_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("generate",), help="create an Ed25519 key pair")
    p.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where to write the pair (default: $XDG_CONFIG_HOME/labelpact/keys, else "
        "~/.config/labelpact/keys: outside the project, so `git add` never takes the private "
        "key; created with mode 0700)",
    )
    p.add_argument("--name", default="labelpact", help="file name stem (NAME.key, NAME.pub)")


def _keys(args: argparse.Namespace) -> int:
    from validator.verdict.signing import default_key_dir, generate_keys, load_signer

    private, public = generate_keys(args.dir or default_key_dir(), args.name)
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
