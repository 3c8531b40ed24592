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


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from validator.verdict.signing import generate_keys

    return generate_keys(tmp_path_factory.mktemp("keys"), "ci")


def _signed(
    tmp_path: Path, key_pair: tuple[Path, Path], n: int = 5, run: str = "a"
) -> tuple[Ledger, Ledger]:
    """A ledger of `n` signed entries, as written (signing) and as read by a gate (trusting)."""
    from validator.verdict.signing import TrustedKeys, load_signer

    path = tmp_path / "ledger.jsonl"
    writer = Ledger(path, signer=load_signer(key_pair[0]))
    for i in range(n):
        writer.append({"run": run, "contracts": {"annotations": {"status": "pass", "i": i}}})
    return writer, Ledger(path, trusted=TrustedKeys((key_pair[1],)))


def _cut_and_rewrite_head(ledger: Ledger, keep: int, keep_signature: bool = False) -> None:
    """What someone who can write the files does to hide the newest entries: cut them off and
    write a head naming the new last entry (the old signature kept, or none)."""
    lines = _lines(ledger)[:keep]
    _write(ledger, lines)
    last = json.loads(lines[-1])
    head = json.loads(ledger.head_path.read_text())
    head.update(seq=last["seq"], hash=last["hash"])
    if not keep_signature:
        head.pop("signature")
    ledger.head_path.write_text(json.dumps(head))


def test_signed_head_verifies_under_trusted_keys(
    tmp_path: Path, key_pair: tuple[Path, Path]
) -> None:
    writer, reader = _signed(tmp_path, key_pair)
    head = json.loads(writer.head_path.read_text())
    assert (head["seq"], head["ledger"]) == (5, json.loads(_lines(writer)[0])["hash"])
    assert head["signature"]["keyid"] == writer.signer.keyid  # type: ignore[union-attr]
    assert reader.verify()[0] == []


@pytest.mark.parametrize(
    ("keep_signature", "problem"),
    [
        (False, "the head anchor: unsigned (entries may have been cut off the end)"),
        (True, "the head anchor: signature does not match (key "),
    ],
)
def test_truncation_with_a_rewritten_head_is_detected_only_under_trusted_keys(
    tmp_path: Path, key_pair: tuple[Path, Path], keep_signature: bool, problem: str
) -> None:
    writer, reader = _signed(tmp_path, key_pair)
    _cut_and_rewrite_head(writer, 3, keep_signature)
    problems, entries = reader.verify()
    assert len(problems) == 1 and problems[0].startswith(problem), problems
    assert len(entries) == 3
    with pytest.raises(LedgerError, match="head anchor"):
        reader.latest("annotations")  # what `gate` reads
    # without keys anyone may write a head: the chain alone cannot tell (README threat model)
    assert Ledger(writer.path).verify()[0] == []


def test_ledger_verify_command_names_the_truncation_only_with_trusted_keys(
    tmp_path: Path, key_pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from validator.cli import main

    writer, _ = _signed(tmp_path, key_pair)
    _cut_and_rewrite_head(writer, 4)
    verify = ["ledger", "verify", "--ledger", str(writer.path)]
    assert main([*verify, "--trusted-keys", str(key_pair[1])]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED: the head anchor: unsigned (entries may have been cut off the end)" in out
    assert main(verify) == 0
    assert "4 entries, chain intact" in capsys.readouterr().out


def test_a_missing_head_is_refused_under_trusted_keys(
    tmp_path: Path, key_pair: tuple[Path, Path]
) -> None:
    writer, reader = _signed(tmp_path, key_pair)
    _write(writer, _lines(writer)[:3])
    writer.head_path.unlink()
    assert reader.verify()[0] == [
        "the head anchor is missing (with trusted keys it must be there, signed: entries may "
        "have been cut off the end)"
    ]
    assert Ledger(writer.path).verify()[0] == []


def test_a_head_from_another_ledger_is_refused(tmp_path: Path, key_pair: tuple[Path, Path]) -> None:
    writer, reader = _signed(tmp_path / "a", key_pair)
    other, _ = _signed(tmp_path / "b", key_pair, n=2, run="b")
    _write(writer, _lines(writer)[:2])
    writer.head_path.write_text(other.head_path.read_text())  # validly signed, for ledger b
    assert reader.verify()[0] == [
        "the head anchor belongs to another ledger (its first entry differs)",
        "entry 2: differs from the head anchor",
    ]


def test_an_older_genuine_head_with_the_ledger_cut_back_to_it_is_not_detected(
    tmp_path: Path, key_pair: tuple[Path, Path]
) -> None:
    """A rollback to an earlier state of both files verifies: the files alone cannot know
    they once were longer. The warehouse mirror (`ledger verify --warehouse`) can: see
    test_trust's rollback test."""
    writer, reader = _signed(tmp_path, key_pair, n=3)
    saved = (writer.path.read_bytes(), writer.head_path.read_bytes())
    writer.append({"contracts": {"annotations": {"status": "fail"}}})
    writer.path.write_bytes(saved[0])
    writer.head_path.write_bytes(saved[1])
    assert reader.verify()[0] == []


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


@pytest.mark.parametrize("signature", ["forged", ["a", "b"], {"keyid": "x", "sig": 7}])
def test_a_damaged_entry_signature_is_a_problem_not_a_crash(
    tmp_path: Path, key_pair: tuple[Path, Path], signature: object
) -> None:
    writer, reader = _signed(tmp_path, key_pair)
    lines = _lines(writer)
    entry = json.loads(lines[1])
    entry["signature"] = signature
    lines[1] = json.dumps(entry)
    _write(writer, lines)
    problems, _ = reader.verify()
    assert any("entry 2" in p and "signature" in p for p in problems), problems


def test_verifying_a_ledger_that_is_not_there_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped path must not look like a healthy, empty ledger."""
    from validator.cli import main

    missing = tmp_path / "typo" / "ledger.jsonl"
    for action in ("verify", "show"):
        assert main(["ledger", action, "--ledger", str(missing)]) == 3
        captured = capsys.readouterr()
        assert f"no ledger at {missing}" in captured.err
        assert "chain intact" not in captured.out
    assert not missing.parent.exists()


def test_append_refuses_a_ledger_that_does_not_verify(tmp_path: Path) -> None:
    ledger = _filled(tmp_path, 3)
    lines = _lines(ledger)
    lines[1] = lines[1].replace('"status":"pass"', '"status":"fail"')
    _write(ledger, lines)
    with pytest.raises(LedgerError, match=r"does not verify: entry 2 \(line 2\).*ledger rotate"):
        ledger.append({"contracts": {}})
    assert _lines(ledger) == lines


def test_rotate_keeps_the_old_ledger_and_the_next_append_starts_a_new_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from validator.cli import main

    ledger = _filled(tmp_path, 3)
    lines = _lines(ledger)
    old_id = ledger.ledger_id()
    _write(ledger, lines[:1] + lines[2:])  # one entry deleted: every append is refused
    assert main(["ledger", "rotate", "--ledger", str(ledger.path)]) == 0
    out = capsys.readouterr().out
    [moved] = sorted(tmp_path.glob("ledger.*Z.jsonl"))
    assert f"moved {ledger.path} -> {moved}" in out
    assert f"moved {ledger.head_path} -> {moved}.head" in out
    assert moved.read_text().splitlines() == lines[:1] + lines[2:]  # kept as it was, for audit
    assert Path(f"{moved}.head").exists() and not ledger.head_path.exists()
    assert not ledger.path.exists()
    entry = ledger.append({"contracts": {"annotations": {"status": "pass"}}})
    assert entry.seq == 1 and ledger.ledger_id() != old_id
    assert ledger.verify() == ([], ledger.entries())


def test_rotate_never_overwrites_an_earlier_rotation(tmp_path: Path) -> None:
    import datetime as dt

    when = dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC)
    ledger = _filled(tmp_path, 1)
    assert [dst.name for _, dst in ledger.rotate(when)] == [
        "ledger.20261201T050000Z.jsonl",
        "ledger.20261201T050000Z.jsonl.head",
    ]
    _filled(tmp_path, 1)
    with pytest.raises(LedgerError, match="exists already; nothing was moved"):
        ledger.rotate(when)
    assert ledger.path.exists() and ledger.head_path.exists()


@pytest.mark.parametrize("xdg", [True, False])
def test_keys_are_generated_outside_the_project_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], xdg: bool
) -> None:
    """`git add -A` in the project must never take a private key."""
    import stat

    from validator.cli import main

    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.setenv("HOME", str(home))
    if xdg:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
        where = tmp_path / "xdg" / "labelpact" / "keys"
    else:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
        where = home / ".config" / "labelpact" / "keys"
    assert main(["keys", "generate", "--name", "ci2"]) == 0
    out = capsys.readouterr().out
    assert f"private key: {where / 'ci2.key'}" in out and f"public key:  {where / 'ci2.pub'}" in out
    assert list(project.iterdir()) == []
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    assert stat.S_IMODE((where / "ci2.key").stat().st_mode) == 0o600
    with pytest.raises(SystemExit):
        main(["keys", "--help"])
    assert "~/.config/labelpact/keys" in capsys.readouterr().out
