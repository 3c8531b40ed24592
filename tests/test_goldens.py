"""Every golden file is what the code produces now (`./run regen` rewrites them all)."""

from __future__ import annotations

import pytest
from helpers.goldens import GOLDENS, stale


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden_is_current(name: str) -> None:
    assert stale(GOLDENS[name]) == [], f"run `./run regen {name}` and review the diff"


def test_a_stale_golden_is_reported(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    golden = GOLDENS["corpus"]
    (path,) = golden.files()
    fake = tmp_path / "lint_corpus.json"
    fake.write_text(path.read_text(encoding="utf-8") + " ", encoding="utf-8")
    monkeypatch.setattr("helpers.lint_corpus.CORPUS", fake)
    import helpers.goldens as goldens

    monkeypatch.setattr(goldens, "ROOT", tmp_path)
    assert goldens.stale(goldens.GOLDENS["corpus"]) == ["changed: lint_corpus.json"]
