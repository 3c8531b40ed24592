"""An append-only, hash-chained ledger of every validation verdict.

Each line of the JSONL file is one entry: `seq`, `prev` (the previous entry's hash), the
`record`, and `hash` = SHA-256 over the canonical JSON of the other three. Editing any entry
breaks its hash; deleting or reordering entries breaks the `prev` chain or the `seq` run; and
`ledger.head` (rewritten atomically after each append) anchors the newest entry so truncating
the tail is detected too. Appends hold an exclusive `flock`, so concurrent validators queue.

The chain cannot stop someone who rewrites the file and recomputes every hash. With a signing
key, each entry also carries `signature`: an Ed25519 signature of its hash (see `signing`);
with trusted keys, `verify` reports every entry that is unsigned, signed by an unknown key, or
whose signature does not match, even when the chain is intact. The head is signed too (its
ledger, sequence and hash): with trusted keys a head that is missing, unsigned or not signed by
a trusted key is refused, so cutting entries off the end and rewriting the head is detected.

A ledger's identity is the hash of its first entry (`ledger_id`): the warehouse mirror keys its
rows by it, so any number of ledgers mirror into one warehouse.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from validator.errors import ExitCode, LabelpactError
from validator.verdict.signing import Signer, TrustedKeys, load_signer

GENESIS = "0" * 64


class LedgerError(LabelpactError):
    """The ledger cannot be read or written."""


class MirrorConflict(LedgerError):
    """The warehouse mirror holds a different entry under the same (ledger, seq): the row is
    kept (it is the evidence of a rolled-back ledger file), nothing is overwritten."""

    exit_code = ExitCode.VIOLATIONS


# The words `validate` looks for to repeat a mirror conflict prominently.
ROLLBACK_WARNING = "the warehouse mirror holds a different entry"


@dataclass(frozen=True)
class Entry:
    """One verified ledger entry."""

    seq: int
    prev: str
    hash: str
    record: dict[str, Any]
    signature: dict[str, str] | None = None


def _canonical(data: Any) -> bytes:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def entry_hash(seq: int, prev: str, record: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical({"seq": seq, "prev": prev, "record": record})).hexdigest()


def head_message(ledger: str | None, seq: int, digest: str) -> bytes:
    """What a head signature signs: the ledger's identity, the newest entry's sequence and hash
    (canonical JSON under a "head" key, never the bare hex hash an entry signature signs)."""
    return _canonical({"head": {"ledger": ledger, "seq": seq, "hash": digest}})


# The files' state each ledger (path, trusted key ids) last verified intact in this process:
# an append re-verifies the whole chain only when the files changed since (validate checks the
# ledger before its work, then appends: one full pass, not two).
_VERIFIED: dict[tuple[Path, tuple[str, ...]], tuple[Any, ...]] = {}


class Ledger:
    """The ledger at `path` (JSONL) with its head anchor at `path` + `.head`."""

    def __init__(
        self, path: Path, signer: Signer | None = None, trusted: TrustedKeys | None = None
    ) -> None:
        self.path = path
        self.signer = signer
        self.trusted = trusted
        self.head_path = path.with_name(path.name + ".head")
        self.lock_path = path.with_name(path.name + ".lock")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, record: dict[str, Any]) -> Entry:
        """Append one record atomically; returns the entry with its sequence and hash."""
        with self._locked():
            self._refuse_broken_chain()
            last = self._last_line()
            if last is None:
                seq, prev = 1, GENESIS
            else:
                try:
                    tail = json.loads(last)
                    seq, prev = int(tail["seq"]) + 1, str(tail["hash"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise LedgerError(
                        f"{self.path}: the last entry is damaged ({exc}); run "
                        "`labelpact ledger verify`; nothing was appended"
                    ) from exc
            digest = entry_hash(seq, prev, record)
            entry: dict[str, Any] = {"seq": seq, "prev": prev, "hash": digest, "record": record}
            signature = None
            if self.signer is not None:
                signature = {"keyid": self.signer.keyid, "sig": self.signer.sign(digest.encode())}
                entry["signature"] = signature
            line = _canonical(entry)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                start = os.fstat(fd).st_size
                data = line + b"\n"
                try:
                    written = 0
                    while written < len(data):
                        written += os.write(fd, data[written:])
                    os.fsync(fd)
                except OSError as exc:
                    # A full disk (or a file-size limit) can leave half a line: cut it off so
                    # the ledger never holds a partial entry.
                    os.ftruncate(fd, start)
                    raise LedgerError(
                        f"{self.path}: could not append ({exc.strerror or exc});"
                        " nothing was recorded"
                    ) from exc
            finally:
                os.close(fd)
            self._write_head(seq, digest, digest if seq == 1 else self.ledger_id())
            _VERIFIED[self._verified_key()] = self._files_state()  # intact plus this entry
            return Entry(seq, prev, digest, record, signature)

    def _files_state(self) -> tuple[Any, ...]:
        """Identity, size and modification time of the ledger and its head (None: missing)."""

        def state(path: Path) -> tuple[int, int, int, int] | None:
            try:
                st = path.stat()
            except FileNotFoundError:
                return None
            return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

        return (state(self.path), state(self.head_path))

    def _verified_key(self) -> tuple[Path, tuple[str, ...]]:
        keys = tuple(sorted(self.trusted.keys)) if self.trusted else ()
        return (self.path.resolve(), keys)

    def _problems_locked(self) -> list[str]:
        """`verify`'s problems (the caller holds the lock); skipped when the files are as this
        process last verified them intact."""
        key, now = self._verified_key(), self._files_state()
        if _VERIFIED.get(key) == now:
            return []
        problems, _ = self.verify()
        if not problems:
            _VERIFIED[key] = now
        return problems

    def _refuse_broken_chain(self) -> None:
        """Appending to a ledger that does not verify hides the damage behind new entries
        (and every gate keeps refusing): refuse, and say how to start a new ledger."""
        problems = self._problems_locked()
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise LedgerError(
                f"the ledger {self.path} does not verify: {problems[0]}{more}; nothing was "
                "appended. `labelpact ledger verify` lists every problem; `labelpact ledger "
                "rotate` moves it aside (kept for audit) so the next validate starts a new "
                "ledger (or `labelpact validate --new-ledger` does both)"
            )

    def problems_before_append(self) -> list[str]:
        """What `verify` finds, read under the append lock (a concurrent append is never seen
        half-written): `validate` checks this before any work."""
        with self._locked():
            return self._problems_locked()

    def rotate(self, now: dt.datetime | None = None) -> list[tuple[Path, Path]]:
        """Move the ledger file and its head aside to `<stem>.<UTC timestamp>.jsonl` (and
        `.jsonl.head`), kept for audit; the next append starts a new ledger with a new identity.
        Returns (from, to) for each file moved (none: there was no ledger)."""
        stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
        with self._locked():
            target = self.path.with_name(f"{self.path.stem}.{stamp}{self.path.suffix}")
            moves = [(self.path, target), (self.head_path, target.with_name(target.name + ".head"))]
            moves = [(src, dst) for src, dst in moves if src.exists()]
            for _, dst in moves:
                if dst.exists():
                    raise LedgerError(f"{dst} exists already; nothing was moved")
            for src, dst in moves:
                os.replace(src, dst)
        return moves

    def _last_line(self) -> str | None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        with open(self.path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            block = min(size, 1 << 20)
            while True:
                handle.seek(size - block)
                chunk = handle.read(block)
                body = chunk.rstrip(b"\n")
                if b"\n" in body or block == size:
                    break
                block = min(size, block * 2)
        if not chunk.endswith(b"\n"):
            raise LedgerError(
                f"{self.path}: the last entry is incomplete (an interrupted write);"
                " run `labelpact ledger verify`; nothing was appended"
            )
        return body.rsplit(b"\n", 1)[-1].decode("utf-8")

    def ledger_id(self) -> str | None:
        """The hash of the first entry, as written (None: no entries): the ledger's identity,
        the same wherever the file is copied or moved."""
        if not self.path.exists():
            return None
        with open(self.path, "rb") as handle:
            first = handle.readline()
        try:
            return str(json.loads(first)["hash"])
        except (ValueError, KeyError, TypeError):
            return None

    def _write_head(self, seq: int, digest: str, ledger: str | None) -> None:
        head: dict[str, Any] = {"seq": seq, "hash": digest, "ledger": ledger}
        if self.signer is not None:
            head["signature"] = {
                "keyid": self.signer.keyid,
                "sig": self.signer.sign(head_message(ledger, seq, digest)),
            }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".head-")
        with os.fdopen(fd, "w") as handle:
            json.dump(head, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.head_path)

    def entries(self) -> list[Entry]:
        """All entries, verified; raises `LedgerError` naming the first broken one."""
        problems, entries = self.verify()
        if problems:
            raise LedgerError(f"{self.path} failed verification: {problems[0]}")
        return entries

    def verify(self) -> tuple[list[str], list[Entry]]:
        """Every problem found (edited, deleted, reordered, truncated entries) and the entries."""
        problems: list[str] = []
        entries: list[Entry] = []
        if not self.path.exists():
            if self.head_path.exists():
                problems.append("the ledger file is missing but its head anchor exists")
            return problems, entries
        prev, expected_seq = GENESIS, 1
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        elif lines:
            problems.append(f"line {len(lines)}: incomplete entry (interrupted write)")
            lines.pop()
        for number, line in enumerate(lines, start=1):
            try:
                data = json.loads(line)
                seq, stored_prev, digest, record = (
                    int(data["seq"]),
                    str(data["prev"]),
                    str(data["hash"]),
                    data["record"],
                )
            except (ValueError, KeyError, TypeError):
                problems.append(f"line {number}: not a ledger entry")
                continue
            if entry_hash(seq, stored_prev, record) != digest:
                problems.append(
                    f"entry {seq} (line {number}): contents were edited (hash mismatch)"
                )
            if seq != expected_seq:
                what = "reordered" if seq < expected_seq else "deleted"
                problems.append(
                    f"entry {seq} (line {number}): expected entry {expected_seq}; "
                    f"entries were {what}"
                )
            elif stored_prev != prev:
                problems.append(
                    f"entry {seq} (line {number}): does not follow the previous "
                    "entry (chain broken)"
                )
            if self.trusted:
                why = self.trusted.problem(data.get("signature"), digest.encode())
                if why:
                    problems.append(f"entry {seq} (line {number}): {why}")
            entries.append(Entry(seq, stored_prev, digest, record, data.get("signature")))
            prev, expected_seq = digest, seq + 1
        problems += self._head_problems(entries)
        return problems, entries

    def _head_problems(self, entries: list[Entry]) -> list[str]:
        """What the head anchor (the last entry's seq and hash, kept beside the file) says was
        cut off the end of the chain, which the chain alone cannot tell. With trusted keys the
        head must be signed by one of them, or anyone could rewrite it after cutting."""
        if not self.head_path.exists():
            if self.trusted and entries:
                return [
                    "the head anchor is missing (with trusted keys it must be there, signed: "
                    "entries may have been cut off the end)"
                ]
            return []
        try:
            head = json.loads(self.head_path.read_text())
            problems = self._head_signature_problems(head, entries)
            if entries and (head["seq"], head["hash"]) != (entries[-1].seq, entries[-1].hash):
                if head["seq"] > entries[-1].seq:
                    return [
                        *problems,
                        f"entries after {entries[-1].seq} were deleted (head "
                        f"anchor records entry {head['seq']})",
                    ]
                if head["seq"] == entries[-1].seq:
                    return [*problems, f"entry {head['seq']}: differs from the head anchor"]
            elif not entries and head.get("seq"):
                return [f"all entries were deleted (head anchor records entry {head['seq']})"]
        except (ValueError, KeyError, TypeError, AttributeError):
            return ["the head anchor is damaged"]
        return problems

    def _head_signature_problems(self, head: dict[str, Any], entries: list[Entry]) -> list[str]:
        """With trusted keys: the head must carry a trusted signature of its ledger, sequence
        and hash, and name this ledger (a head written before signing was on is refused too)."""
        if not self.trusted or not entries:
            return []
        message = head_message(head.get("ledger"), int(head["seq"]), str(head["hash"]))
        why = self.trusted.problem(head.get("signature"), message)
        if why:
            return [f"the head anchor: {why} (entries may have been cut off the end)"]
        if head.get("ledger") != entries[0].hash:
            return ["the head anchor belongs to another ledger (its first entry differs)"]
        return []

    def latest(self, contract: str) -> Entry | None:
        """The newest entry holding a verdict for `contract`."""
        for entry in reversed(self.entries()):
            if contract in entry.record.get("contracts", {}):
                return entry
        return None


AUDIT_SCHEMA = "labelpact_audit"
# Keyed by (ledger, seq): `ledger` is the ledger's identity (the hash of its first entry), so
# every ledger that validates against a warehouse mirrors there without clashing. (labelpact
# before this table wrote `labelpact_audit.ledger`, keyed by `seq` alone: one ledger per
# warehouse. It is no longer read or written.)
AUDIT_TABLE = "ledger_entries"


def mirror_to_warehouse(settings: Any, entry: Entry, ledger_id: str | None = None) -> None:
    """Copy one ledger entry into the warehouse table labelpact_audit.ledger_entries, under
    its ledger's identity (idempotent). Raises `MirrorConflict`, writing nothing, when the
    mirror holds a different entry there (a rolled-back ledger file: the row is the evidence).

    The JSONL file is the primary; the table lets auditors query verdicts where the data
    lives, and `labelpact ledger verify --warehouse` checks the two agree.
    """
    if ledger_id is None:
        ledger_id = entry.hash if entry.seq == 1 else Ledger(settings.ledger_path).ledger_id()
    if ledger_id is None:
        raise LedgerError(f"{settings.ledger_path}: no first entry to name the ledger by")
    mirror_all(settings, [entry], ledger_id)


def mirror_all(settings: Any, entries: list[Entry], ledger_id: str) -> None:
    """Copy every entry into the mirror table (idempotent: each entry replaces its own row):
    repairs a mirror after failed writes, or fills it for a ledger mirrored before. Writes
    nothing, raising `MirrorConflict`, when any row there differs from its entry."""
    from validator.engines.recorded import warehouse_for

    with warehouse_for(settings, audit=True) as wh:
        wh.write(_mirror_ddl(wh.dialect))
        conflicts = mirror_conflicts(wh, entries, ledger_id)
        if conflicts:
            seqs = ", ".join(str(seq) for seq in conflicts[:5])
            more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
            raise MirrorConflict(
                f"{ROLLBACK_WARNING} {seqs}{more} for this ledger ({ledger_id[:12]}): the "
                "ledger file may have been rolled back; its rows were kept as evidence and "
                "nothing was overwritten; `labelpact ledger verify --warehouse` compares them"
            )
        for entry in entries:
            wh.write(mirror_statements(wh.dialect, entry, ledger_id))


def mirror_conflicts(wh: Any, entries: list[Entry], ledger_id: str) -> list[int]:
    """The sequence numbers whose mirror row (of ledger `ledger_id`) differs from the entry
    (a missing row is no conflict)."""
    query = (
        exp.select("seq", "prev", "hash", "record")
        .from_(exp.to_table(f"{AUDIT_SCHEMA}.{AUDIT_TABLE}"))
        .where(_mirror_key(ledger_id))
    )
    _, rows = wh.query(query.sql(dialect=wh.dialect.sqlglot))
    mirrored = {int(r[0]): r for r in rows}
    conflicts = []
    for e in entries:
        row = mirrored.get(e.seq)
        if row is not None and (
            (row[1], row[2]) != (e.prev, e.hash) or json.loads(row[3]) != e.record
        ):
            conflicts.append(e.seq)
    return conflicts


# Constant DDL (no user input), parsed by sqlglot and rendered for the target's dialect.
_AUDIT_DDL = (
    f"CREATE TABLE IF NOT EXISTS {AUDIT_SCHEMA}.{AUDIT_TABLE} (ledger VARCHAR, seq BIGINT, "
    "prev VARCHAR, hash VARCHAR, record VARCHAR, PRIMARY KEY (ledger, seq))"
)
_AUDIT_DDL_PARTITIONED = (
    f"CREATE TABLE IF NOT EXISTS {AUDIT_SCHEMA}.{AUDIT_TABLE} (prev "
    "STRING, hash STRING, record STRING, ledger STRING, seq BIGINT) USING PARQUET "
    "PARTITIONED BY (ledger, seq)"
)


def _mirror_key(ledger_id: str, seq: int | None = None) -> exp.Expr:
    """`ledger = '<id>' [AND seq = <seq>]`: the rows of one ledger (or of one entry)."""
    key = exp.EQ(this=exp.column("ledger"), expression=exp.convert(ledger_id))
    if seq is None:
        return key
    return exp.and_(key, exp.EQ(this=exp.column("seq"), expression=exp.convert(seq)))


def _mirror_ddl(dialect: Any) -> list[Any]:
    """The statements that create the mirror's schema and table when they do not exist."""
    schema = exp.Create(
        this=exp.Table(db=exp.to_identifier(AUDIT_SCHEMA)), kind="SCHEMA", exists=True
    )
    if dialect.audit_by_partition:
        return [schema, sqlglot.parse_one(_AUDIT_DDL_PARTITIONED, read="spark")]
    return [schema, sqlglot.parse_one(_AUDIT_DDL)]


def mirror_statements(dialect: Any, entry: Entry, ledger_id: str) -> list[Any]:
    """The statements that create the mirror table and replace entry `seq` of ledger
    `ledger_id` in it (callers check `mirror_conflicts` first: a different row there is
    evidence, never overwritten)."""
    table = exp.to_table(f"{AUDIT_SCHEMA}.{AUDIT_TABLE}")
    key = [exp.convert(ledger_id), exp.convert(entry.seq)]
    row = [
        exp.convert(v) for v in (entry.prev, entry.hash, _canonical(entry.record).decode("utf-8"))
    ]
    statements: list[Any] = _mirror_ddl(dialect)
    if dialect.audit_by_partition:
        spec = [
            exp.EQ(this=exp.column(name), expression=value)
            for name, value in zip(("ledger", "seq"), key, strict=True)
        ]
        table.set("partition", exp.Partition(expressions=spec))
        return [*statements, exp.insert(exp.values([tuple(row)]), table, overwrite=True)]
    delete = exp.delete(table.copy(), where=_mirror_key(ledger_id, entry.seq))
    insert = exp.insert(
        exp.values([(*key, *row)]),
        table,
        columns=["ledger", "seq", "prev", "hash", "record"],
    )
    return [*statements, delete, insert]


def compare_with_warehouse(settings: Any, entries: list[Entry]) -> list[str]:
    """Differences between the JSONL ledger and its rows in the warehouse mirror (the rows
    of other ledgers mirrored into the same warehouse are not compared)."""
    from validator.engines.recorded import warehouse_for
    from validator.errors import EngineError

    if not entries:
        return []
    ledger_id = entries[0].hash
    try:
        with warehouse_for(settings) as wh:
            query = (
                exp.select("seq", "prev", "hash", "record")
                .from_(exp.to_table(f"{AUDIT_SCHEMA}.{AUDIT_TABLE}"))
                .where(_mirror_key(ledger_id))
                .order_by("seq")
            )
            _, rows = wh.query(query.sql(dialect=wh.dialect.sqlglot))
    except EngineError as exc:
        return [f"warehouse mirror unreadable: {exc}"]
    if not rows:
        return [
            f"ledger {ledger_id[:12]}: no entries in the warehouse mirror (never mirrored "
            "there: `labelpact ledger mirror` copies it; or its first entry was rewritten)"
        ]
    mirrored = {int(r[0]): r for r in rows}
    problems = []
    for e in entries:
        row = mirrored.pop(e.seq, None)
        if row is None:
            problems.append(
                f"entry {e.seq}: missing from the warehouse mirror (`labelpact ledger mirror` "
                "copies it)"
            )
        elif (row[1], row[2]) != (e.prev, e.hash) or json.loads(row[3]) != e.record:
            problems.append(f"entry {e.seq}: differs between the file and the warehouse mirror")
    problems += [
        f"entry {seq}: in the warehouse mirror but not in the file" for seq in sorted(mirrored)
    ]
    return problems


def ledger_for(settings: Any) -> Ledger:
    """The ledger of `settings`, signing with its key and trusting its keys when configured."""
    signer = load_signer(settings.signing_key) if settings.signing_key else None
    trusted = TrustedKeys(settings.trusted_keys) if settings.trusted_keys else None
    return Ledger(settings.ledger_path, signer, trusted)
