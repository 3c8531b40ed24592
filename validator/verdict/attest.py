"""Verdicts other tools can verify: an in-toto Statement v1 in a signed DSSE envelope.

The subject is the validated relation; its digest is the SHA-256 of the recorded fingerprint
(rows, row-hash sum and xor, schema, algorithm), so a consumer who recomputes the fingerprint
can match it. The predicate carries the contract, its version and digests, the check results
summary, the warehouse and the ledger position. Any DSSE implementation verifies the envelope
(the tests use securesystemslib's).

>>> from validator.verdict.attest import attest
>>> envelope = attest("annotations", settings)          # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from validator.errors import UsageError
from validator.settings import Settings
from validator.verdict.ledger import Entry, ledger_for
from validator.verdict.signing import Signer, load_signer

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://labelpact.dev/verdict/v1"


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def statement(contract: str, entry: Entry) -> dict[str, Any]:
    """The in-toto Statement for `contract`'s verdict in ledger entry `entry`."""
    verdict = entry.record["contracts"][contract]
    fp = verdict["fingerprint"]
    checks = [c for c in entry.record.get("checks", []) if c["id"].startswith(contract + ".")]
    counts: dict[str, int] = {}
    for c in checks:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {
                "name": fp["relation"],
                "digest": {"sha256": hashlib.sha256(_canonical(fp)).hexdigest()},
            }
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "contract": contract,
            "version": verdict["version"],
            "status": verdict["status"],
            "failing": verdict.get("failing", []),
            "checks": {"total": len(checks), **dict(sorted(counts.items()))},
            "fingerprint": fp,
            "contractDigest": {"sha256": verdict.get("contract_digest", "")},
            "compiledChecks": {p: {"sha256": d} for p, d in verdict.get("artifacts", {}).items()},
            "warehouse": verdict.get("warehouse", {}),
            "validatedAt": entry.record["started_at"],
            "ledger": {"seq": entry.seq, "hash": entry.hash},
        },
    }


def envelope(payload: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """A DSSE envelope of `payload`, signed by `signer`."""
    body = _canonical(payload)
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(body).decode("ascii"),
        "signatures": [{"keyid": signer.keyid, "sig": signer.sign(pae(PAYLOAD_TYPE, body))}],
    }


def attest(contract: str, settings: Settings) -> dict[str, Any]:
    """The signed envelope of `contract`'s latest verdict (needs a signing key)."""
    if settings.signing_key is None:
        raise UsageError(
            "an attestation is signed: configure a signing key (--signing-key, "
            "LABELPACT_SIGNING_KEY, or signing_key in labelpact.yml; "
            "`labelpact keys generate` makes one)"
        )
    entry = ledger_for(settings).latest(contract)
    if entry is None:
        raise UsageError(f"no validation of '{contract}' in {settings.ledger_path}")
    return envelope(statement(contract, entry), load_signer(settings.signing_key))
