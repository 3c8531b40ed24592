"""`labelpact gate`: may a training job use this data? One verdict, tied to the exact data.

>>> from validator import gate
>>> verdict = gate("annotations", max_age="24h")          # doctest: +SKIP
>>> if not verdict.allowed: raise SystemExit(verdict.reason)   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from validator.errors import ExitCode, UsageError
from validator.settings import Settings
from validator.verdict import evidence
from validator.verdict.ledger import LedgerError, ledger_for

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> dt.timedelta:
    """'90s', '15m', '24h', '7d', '2w' -> timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise UsageError(
            f"invalid duration '{text}'; use a number and one of s, m, h, d, w (e.g. 24h)"
        )
    return dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


@dataclass
class Verdict:
    """The gate's answer, with every reason it refused."""

    contract: str
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    ledger_seq: int | None = None
    validated_at: str | None = None
    fingerprint: dict[str, Any] | None = None

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "ok"

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.allowed else ExitCode.VIOLATIONS

    def __bool__(self) -> bool:
        return self.allowed


def gate(
    contract: str,
    max_age: str | dt.timedelta | None = "24h",
    allow_warnings: bool = False,
    settings: Settings | None = None,
    now: dt.datetime | None = None,
) -> Verdict:
    """Pass only if the latest verdict passed, is fresh, is signed by a trusted key (when keys
    are configured), and its contract, compiled checks, warehouse and data are as they were."""
    settings = settings or Settings.from_env()
    age_limit = parse_duration(max_age) if isinstance(max_age, str) else max_age
    try:
        entry = ledger_for(settings).latest(contract)
    except LedgerError as exc:
        _require_known(contract, settings)
        return Verdict(contract, False, [str(exc)])
    if entry is None:
        _require_known(contract, settings)
        return Verdict(
            contract,
            False,
            [
                f"no validation of '{contract}' in the ledger "
                f"{settings.ledger_path}; run `labelpact validate`"
            ],
        )
    verdict = entry.record["contracts"][contract]
    reasons: list[str] = []
    status = verdict["status"]
    if status == "fail" or (status == "warn" and not allow_warnings):
        failed = verdict.get("failing", [])
        shown = ", ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        reasons.append(f"latest validation (ledger entry {entry.seq}) {status}ed: {shown}")
        if verdict.get("not_run"):
            reasons.append(
                f"{len(verdict['not_run'])} checks not run (they follow a failed check: "
                "the model they test was not built)"
            )
    started = dt.datetime.fromisoformat(entry.record["started_at"])
    now = now or dt.datetime.now(dt.UTC)
    if age_limit is not None and now - started > age_limit:
        reasons.append(
            f"latest validation is {_human(now - started)} old; the limit is {_human(age_limit)}"
        )
    reasons += _unchanged(contract, verdict, settings)
    return Verdict(
        contract,
        not reasons,
        reasons,
        entry.seq,
        entry.record["started_at"],
        verdict["fingerprint"],
    )


def _require_known(contract: str, settings: Settings) -> None:
    """A mistyped name is invalid input, not a missing validation (a contract the ledger
    knows but the contracts no longer hold is a refusal, `no longer exists`)."""
    from validator.contract.resolve import load_contracts
    from validator.errors import did_you_mean

    if not settings.contracts_dir.exists():
        return
    names = sorted(c.name for c in load_contracts([settings.contracts_dir]))
    if contract not in names:
        raise UsageError(f"unknown contract '{contract}'; {did_you_mean(contract, names)}")


def _unchanged(contract: str, verdict: dict[str, Any], settings: Settings) -> list[str]:
    """Every way the contract, compiled checks, warehouse or data differ from the verdict's."""
    from validator.compiler.plan import build_plans
    from validator.contract.resolve import load_contracts
    from validator.engines.recorded import warehouse_for

    contracts = load_contracts([settings.contracts_dir])
    current = next((c for c in contracts if c.name == contract), None)
    if current is None:
        return [f"contract '{contract}' no longer exists"]
    if "contract_digest" not in verdict:
        return [
            "the verdict was recorded by an older labelpact (no contract, compiled checks "
            "or warehouse recorded); run `labelpact validate` again"
        ]
    reasons = []
    if current.version != verdict["version"]:
        reasons.append(
            f"contract version changed since validation ({verdict['version']} -> {current.version})"
        )
    elif evidence.contract_digest(current) != verdict["contract_digest"]:
        reasons.append("contract changed since validation (same version, different file)")
    stored_artifacts = verdict["artifacts"]
    if not reasons:  # a changed contract changes its compiled checks too: one reason is enough
        paths = evidence.artifact_paths(build_plans(contracts), current, settings.project_dir)
        now_artifacts = evidence.artifact_digests(settings.project_dir, paths)
        reasons += evidence.artifact_changes(stored_artifacts, now_artifacts)
    other = evidence.other_warehouse(
        verdict.get("warehouse"), evidence.warehouse_identity(settings)
    )
    if other:  # the recorded relation may not even exist there: compare nothing
        return [*reasons, other]
    stored = verdict["fingerprint"]
    with warehouse_for(settings) as wh:
        missing = evidence.missing_source(wh, contract, stored["relation"])
        if missing:
            return [*reasons, missing]
        now_fp = wh.fingerprint(stored["relation"])
    return reasons + evidence.data_changes(stored, now_fp)


def _human(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds}s"
