"""Personal data in the figures the ledger keeps and the dashboard shows.

The ledger is append-only and signed: what goes in can never be taken out. So the key metrics
of a validation never carry a raw value of a column the contract marks `pii: true` (an
annotator id, say) as a group name:

- with a project secret (`Settings.pseudonym_key`, a file kept apart from the ledger), each
  such group is recorded under a keyed pseudonym (HMAC-SHA256 of the value): the same
  annotator is the same pseudonym in every validation, so their trend still reads, and
  nobody without the secret can tell who it is or test a guess;
- without one (the default), the per-group figures of such columns are not recorded at all;
  only id-free aggregates are (`AnnotatorSummary`: lowest, median and highest per-annotator
  agreement, how many annotators fall below the rule's minimum).

The dashboard reads current figures live from the warehouse and follows the policy of the
failing-row samples (`verdict/samples.py` hides personal-data columns): a `pii` column's values
are never printed; groups are shown under the keyed pseudonym when there is a secret (the names
the trends use), else as "annotator 1", "annotator 2", ... numbered on that page only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from validator.contract.model import Contract
from validator.errors import UsageError
from validator.verdict.run_metrics import KeyMetrics, label_roles

V = TypeVar("V")


def read_secret(path: Path | None) -> bytes | None:
    """The pseudonym secret in the file at `path` (None: no secret configured)."""
    if path is None:
        return None
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise UsageError(f"pseudonym key {path}: cannot read it ({exc.strerror})") from exc
    if len(secret) < 16:
        raise UsageError(
            f"pseudonym key {path}: too short ({len(secret)} bytes); put at least 16 random "
            "bytes in it, e.g. `openssl rand -hex 32 > FILE`"
        )
    return secret


def pseudonym(secret: bytes, value: str) -> str:
    """The keyed pseudonym of a personal-data value: stable for one secret.

    >>> pseudonym(b"0123456789abcdef", "ann_1")
    'p-f4307bbe7d6c0bb1'
    """
    return "p-" + hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:16]


def personal_groups(contract: Contract) -> set[str]:
    """The key-metric mappings whose group names are values of a personal-data column:
    "annotators", "audits.<role>", "agreement", "labels"."""
    s = contract.sections
    pii = contract.pii_columns
    columns = {
        "annotators": label_roles(contract).rater,
        "agreement": s.agreement.by if s.agreement else None,
        "labels": label_roles(contract).label,
        "audits.annotator": s.audits.annotator if s.audits else None,
        "audits.batch": s.audits.batch if s.audits else None,
    }
    return {name for name, column in columns.items() if column and column in pii}


def for_ledger(m: KeyMetrics, contract: Contract, secret: bytes | None) -> KeyMetrics:
    """`m` as the ledger may keep it: groups named by personal data under their keyed
    pseudonyms, or left out without a secret (the aggregates stay)."""
    personal = personal_groups(contract)
    if not personal:
        return m

    def renamed(name: str, groups: dict[str, V]) -> dict[str, V]:
        if name not in personal:
            return groups
        if secret is None:
            return {}
        return {pseudonym(secret, k): v for k, v in groups.items()}

    audits = {role: renamed(f"audits.{role}", g) for role, g in m.audits.items()}
    return dataclasses.replace(
        m,
        agreement=renamed("agreement", m.agreement),
        label_shares=renamed("labels", m.label_shares),
        annotators=renamed("annotators", m.annotators),
        audits={role: g for role, g in audits.items() if g},
    )


def page_names(values: set[str], secret: bytes | None) -> Callable[[str], str]:
    """What the dashboard prints for a personal-data value: its keyed pseudonym, else its
    number among `values` on this page ("annotator 3")."""
    if secret is not None:
        return lambda v: pseudonym(secret, v)
    numbers = {v: f"annotator {i}" for i, v in enumerate(sorted(values), start=1)}
    return lambda v: numbers.get(v, "annotator ?")
