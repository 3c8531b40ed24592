"""Time-boxed fuzzing of the loader, resolver, planner and SQL renderer with hypothesis.

    python fuzz/fuzz_contracts.py --minutes 10      # appends a line to fuzz/RESULTS.md

Inputs: random bytes, random YAML documents shaped like contracts, and mutations of the example
contracts (keys dropped, values replaced by hostile strings and wrong types). Any exception other
than a reported lint problem is a crash; hypothesis prints the minimal failing input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from validator.compiler.plan import Kind, build_plans  # noqa: E402
from validator.compiler.sql.checks import failing_rows  # noqa: E402
from validator.compiler.sql.dialects import DIALECTS, get_dialect  # noqa: E402
from validator.contract.model import RawContract  # noqa: E402
from validator.contract.resolve import resolve  # noqa: E402
from validator.contract.yamlload import load_bytes  # noqa: E402

EXAMPLES = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "contracts").glob("*.yml"))]
HOSTILE = [
    "'; drop table x; --",
    "\\",
    "select",
    "a b",
    "ü",
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "null",
    "[",
    "{",
    "*",
    "%",
    "é\u0301",
    "\u202e",
    "x" * 300,
]
TEXT = st.text(max_size=30)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT | st.sampled_from(HOSTILE),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(TEXT, c, max_size=3),
    max_leaves=12,
)


def _mutate(doc: object, rnd: random.Random, value: object) -> object:
    if isinstance(doc, dict) and doc:
        key = rnd.choice(list(doc))
        choice = rnd.random()
        new = dict(doc)
        if choice < 0.2:
            del new[key]
        elif choice < 0.5:
            new[key] = value
        else:
            new[key] = _mutate(doc[key], rnd, value)
        return new
    if isinstance(doc, list) and doc:
        i = rnd.randrange(len(doc))
        return [*doc[:i], _mutate(doc[i], rnd, value), *doc[i + 1 :]]
    return value


def exercise(docs: list[object]) -> None:
    raws = []
    for i, doc in enumerate(docs):
        try:
            text = yaml.safe_dump(doc, allow_unicode=True)
        except yaml.YAMLError:
            continue
        node, _ = load_bytes(text.encode("utf-8", "surrogatepass"), f"c{i}.yml")
        if node is not None:
            raws.append(RawContract(f"c{i}.yml", node))
    contracts, _ = resolve(raws)
    for plan in build_plans(contracts):
        for check in plan.checks:
            if check.kind == Kind.SCHEMA:
                continue
            for name in DIALECTS:
                d = get_dialect(name)
                d.render(failing_rows(check, lambda n: exp.to_table(n), d, plan.contract.key))


@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None, max_examples=500)
@given(st.binary(max_size=3000))
def fuzz_bytes(data: bytes) -> None:
    load_bytes(data, "fuzz.yml")


@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None, max_examples=100)
@given(st.integers(0, 2**32), st.lists(VALUES, min_size=1, max_size=4))
def fuzz_mutations(seed: int, values: list[object]) -> None:
    rnd = random.Random(seed)
    docs: list[object] = [dict(d) for d in EXAMPLES]
    for value in values:
        i = rnd.randrange(len(docs))
        docs[i] = _mutate(docs[i], rnd, value)
    exercise(docs)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.minutes * 60
    rounds = 0
    while time.monotonic() < deadline:
        fuzz_bytes()
        fuzz_mutations()
        rounds += 1
    line = (
        f"| {dt.date.today()} | {args.minutes:g} min | {rounds} rounds "
        f"({rounds * 500} byte inputs, {rounds * 100} contract mutations x 6 dialects) | "
        "no crash |\n"
    )
    results = ROOT / "fuzz" / "RESULTS.md"
    if not results.exists():
        results.write_text("| date | duration | inputs | result |\n| --- | --- | --- | --- |\n")
    with results.open("a") as handle:
        handle.write(line)
    print(line.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
