"""The generated corpus of bad contracts: each case's exact lint output (helpers/lint_corpus.py)."""

from __future__ import annotations

import json

import pytest
from helpers.lint_corpus import CORPUS, cases, render

EXPECTED: dict[str, str] = json.loads(CORPUS.read_text(encoding="utf-8"))
CASES = cases()


def test_corpus_is_complete_and_large() -> None:
    assert sorted(CASES) == sorted(EXPECTED)
    assert len(EXPECTED) >= 200


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_contract_gives_exactly_the_expected_errors(name: str) -> None:
    output = render(CASES[name][1])
    assert output == EXPECTED[name]
    assert output.endswith("exit 1")
