"""Every golden file is what the code produces now (`./run regen` rewrites them all)."""

from __future__ import annotations

import pytest
from helpers.goldens import GOLDENS, stale


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden_is_current(name: str) -> None:
    assert stale(GOLDENS[name]) == [], f"run `./run regen {name}` and review the diff"


def test_a_stale_golden_is_reported(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A changed, a missing and an orphaned file are each named (on the JSON Schema golden,
    the quickest to produce: the mechanism is the same for every golden)."""
    import helpers.goldens as goldens

    golden = goldens.GOLDENS["schema"]
    ((path, text),) = golden.files().items()
    fake = tmp_path / path.relative_to(goldens.ROOT)
    fake.parent.mkdir(parents=True)
    monkeypatch.setattr(goldens, "ROOT", tmp_path)
    monkeypatch.setattr(goldens, "SCHEMA_FILE", fake)
    assert goldens.stale(golden) == ["missing: validator/schema/contract.schema.json"]
    fake.write_text(text + " ", encoding="utf-8")
    assert goldens.stale(golden) == ["changed: validator/schema/contract.schema.json"]
    fake.write_text(text, encoding="utf-8")
    assert goldens.stale(golden) == []
    orphan = goldens.Golden("schema", golden.files, lambda: {fake, tmp_path / "gone.json"})
    assert goldens.stale(orphan) == ["not produced any more: gone.json"]
