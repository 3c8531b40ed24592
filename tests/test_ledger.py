"""The ledger: append-only, hash-chained, tamper-evident, safe under concurrent appends."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from validator.verdict.ledger import Ledger, LedgerError


def _filled(tmp_path: Path, n: int = 5) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    for i in range(n):
        ledger.append({"contracts": {"annotations": {"status": "pass", "i": i}}})
    return ledger


def _lines(ledger: Ledger) -> list[str]:
    return ledger.path.read_text().splitlines()


def _write(ledger: Ledger, lines: list[str]) -> None:
    ledger.path.write_text("".join(line + "\n" for line in lines))


def test_intact_chain_verifies(tmp_path: Path) -> None:
    ledger = _filled(tmp_path)
    problems, entries = ledger.verify()
    assert problems == []
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert ledger.latest("annotations").record["contracts"]["annotations"]["i"] == 4


def test_edited_entry_is_named(tmp_path: Path) -> None:
    ledger = _filled(tmp_path)
    lines = _lines(ledger)
    lines[2] = lines[2].replace('"status":"pass"', '"status":"fail"')
    _write(ledger, lines)
    problems, _ = ledger.verify()
    assert problems == ["entry 3 (line 3): contents were edited (hash mismatch)"]


def test_edited_and_rehashed_entry_breaks_the_chain(tmp_path: Path) -> None:
    from validator.verdict.ledger import entry_hash

    ledger = _filled(tmp_path)
    lines = _lines(ledger)
    data = json.loads(lines[1])
    data["record"]["contracts"]["annotations"]["status"] = "fail"
    data["hash"] = entry_hash(data["seq"], data["prev"], data["record"])
    lines[1] = json.dumps(data)
    _write(ledger, lines)
    problems, _ = ledger.verify()
    assert problems == ["entry 3 (line 3): does not follow the previous entry (chain broken)"]


def test_deleted_entry_is_named(tmp_path: Path) -> None:
    ledger = _filled(tmp_path)
    lines = _lines(ledger)
    del lines[1]
    _write(ledger, lines)
    problems, _ = ledger.verify()
    assert problems == ["entry 3 (line 2): expected entry 2; entries were deleted"]


def test_reordered_entries_are_named(tmp_path: Path) -> None:
    ledger = _filled(tmp_path)
    lines = _lines(ledger)
    lines[1], lines[2] = lines[2], lines[1]
    _write(ledger, lines)
    problems, _ = ledger.verify()
    assert "entry 3 (line 2): expected entry 2; entries were deleted" in problems
    assert "entry 2 (line 3): expected entry 4; entries were reordered" in problems


def test_truncated_tail_is_detected_by_the_head_anchor(tmp_path: Path) -> None:
    ledger = _filled(tmp_path)
    _write(ledger, _lines(ledger)[:3])
    problems, _ = ledger.verify()
    assert problems == ["entries after 3 were deleted (head anchor records entry 5)"]


def test_torn_write_is_reported_and_blocks_appends(tmp_path: Path) -> None:
    ledger = _filled(tmp_path, 2)
    with ledger.path.open("a") as handle:
        handle.write('{"seq":3,"prev":')
    problems, entries = ledger.verify()
    assert problems == ["line 3: incomplete entry (interrupted write)"]
    assert len(entries) == 2
    with pytest.raises(LedgerError, match="incomplete"):
        ledger.append({"contracts": {}})


def _append_many(path: str, worker: int) -> None:
    ledger = Ledger(Path(path))
    for i in range(10):
        ledger.append({"contracts": {f"c{worker}": {"status": "pass", "i": i}}})


def test_concurrent_appends_keep_the_chain(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.jsonl")
    procs = [
        multiprocessing.get_context("fork").Process(target=_append_many, args=(path, w))
        for w in range(8)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    problems, entries = Ledger(Path(path)).verify()
    assert problems == []
    assert len(entries) == 80
