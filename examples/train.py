"""A training job that refuses to train on data labelpact has not vouched for.

    LABELPACT_DUCKDB=target/demo/warehouse/labelpact.duckdb python examples/train.py

The gate passes only if the latest validation of `annotations` passed, is less than a day old,
and the data's fingerprint still equals the one validated (labels changed since -> refused).
"""

from __future__ import annotations

import sys

from validator import gate


def train() -> None:
    print("training on validated annotations ...")


def main() -> int:
    verdict = gate("annotations", max_age="24h")
    if not verdict:
        print(f"refusing to train: {verdict.reason}", file=sys.stderr)
        return int(verdict.exit_code)
    print(f"annotations validated at {verdict.validated_at} (ledger entry {verdict.ledger_seq})")
    train()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
