"""An append-only, hash-chained ledger of every validation verdict.

Each line of the JSONL file is one entry: `seq`, `prev` (the previous entry's hash), the
`record`, and `hash` = SHA-256 over the canonical JSON of the other three. Editing any entry
breaks its hash; deleting or reordering entries breaks the `prev` chain or the `seq` run; and
`ledger.head` (rewritten atomically after each append) anchors the newest entry so truncating
the tail is detected too. Appends hold an exclusive `flock`, so concurrent validators queue.

The chain cannot stop someone who rewrites the file and recomputes every hash. With a signing
key, each entry also carries `signature`: an Ed25519 signature of its hash (see `signing`);
with trusted keys, `verify` reports every entry that is unsigned, signed by an unknown key, or
whose signature does not match, even when the chain is intact.
"""

from __future__ import annotations

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

from validator.errors import LabelpactError
from validator.verdict.signing import Signer, TrustedKeys, load_signer

GENESIS = "0" * 64


class LedgerError(LabelpactError):
    """The ledger cannot be read or written."""


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
            self._write_head(seq, digest)
            return Entry(seq, prev, digest, record, signature)

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

    def _write_head(self, seq: int, digest: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".head-")
        with os.fdopen(fd, "w") as handle:
            json.dump({"seq": seq, "hash": digest}, handle)
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
        cut off the end of the chain, which the chain alone cannot tell."""
        if not self.head_path.exists():
            return []
        try:
            head = json.loads(self.head_path.read_text())
            if entries and (head["seq"], head["hash"]) != (entries[-1].seq, entries[-1].hash):
                if head["seq"] > entries[-1].seq:
                    return [
                        f"entries after {entries[-1].seq} were deleted (head "
                        f"anchor records entry {head['seq']})"
                    ]
                if head["seq"] == entries[-1].seq:
                    return [f"entry {head['seq']}: differs from the head anchor"]
            elif not entries and head.get("seq"):
                return [f"all entries were deleted (head anchor records entry {head['seq']})"]
        except (ValueError, KeyError, TypeError):
            return ["the head anchor is damaged"]
        return []

    def latest(self, contract: str) -> Entry | None:
        """The newest entry holding a verdict for `contract`."""
        for entry in reversed(self.entries()):
            if contract in entry.record.get("contracts", {}):
                return entry
        return None


AUDIT_SCHEMA = "labelpact_audit"
AUDIT_TABLE = "ledger"


def mirror_to_warehouse(settings: Any, entry: Entry) -> None:
    """Copy one ledger entry into the warehouse table labelpact_audit.ledger (idempotent).

    The JSONL file is the primary; the table lets auditors query verdicts where the data
    lives, and `labelpact ledger verify --warehouse` checks the two agree.
    """
    from validator.engines.warehouse import Warehouse

    with Warehouse(settings, audit=True) as wh:
        wh.write(mirror_statements(wh.dialect, entry))


# Constant DDL (no user input), parsed by sqlglot and rendered for the target's dialect.
_AUDIT_DDL = (
    f"CREATE TABLE IF NOT EXISTS {AUDIT_SCHEMA}.{AUDIT_TABLE} (seq BIGINT PRIMARY "
    "KEY, prev VARCHAR, hash VARCHAR, record VARCHAR)"
)
_AUDIT_DDL_PARTITIONED = (
    f"CREATE TABLE IF NOT EXISTS {AUDIT_SCHEMA}.{AUDIT_TABLE} (prev "
    "STRING, hash STRING, record STRING, seq BIGINT) USING PARQUET "
    "PARTITIONED BY (seq)"
)


def mirror_statements(dialect: Any, entry: Entry) -> list[Any]:
    """The statements that create the mirror table and replace entry `seq` in it."""
    import sqlglot
    from sqlglot import exp

    table = exp.to_table(f"{AUDIT_SCHEMA}.{AUDIT_TABLE}")
    seq = exp.convert(entry.seq)
    row = [
        exp.convert(v) for v in (entry.prev, entry.hash, _canonical(entry.record).decode("utf-8"))
    ]
    statements: list[Any] = [
        exp.Create(this=exp.Table(db=exp.to_identifier(AUDIT_SCHEMA)), kind="SCHEMA", exists=True)
    ]
    if dialect.audit_by_partition:
        statements.append(sqlglot.parse_one(_AUDIT_DDL_PARTITIONED, read="spark"))
        table.set(
            "partition", exp.Partition(expressions=[exp.EQ(this=exp.column("seq"), expression=seq)])
        )
        return [*statements, exp.insert(exp.values([tuple(row)]), table, overwrite=True)]
    statements.append(sqlglot.parse_one(_AUDIT_DDL))
    delete = exp.delete(table.copy(), where=exp.EQ(this=exp.column("seq"), expression=seq))
    insert = exp.insert(
        exp.values([(seq.copy(), *row)]), table, columns=["seq", "prev", "hash", "record"]
    )
    return [*statements, delete, insert]


def compare_with_warehouse(settings: Any, entries: list[Entry]) -> list[str]:
    """Differences between the JSONL ledger and its warehouse mirror."""
    from validator.engines.warehouse import Warehouse
    from validator.errors import EngineError

    try:
        with Warehouse(settings) as wh:
            _, rows = wh.query(
                f"SELECT seq, prev, hash, record FROM {AUDIT_SCHEMA}.{AUDIT_TABLE} ORDER BY seq"
            )
    except EngineError as exc:
        return [f"warehouse mirror unreadable: {exc}"]
    mirrored = {int(r[0]): r for r in rows}
    problems = []
    for e in entries:
        row = mirrored.pop(e.seq, None)
        if row is None:
            problems.append(f"entry {e.seq}: missing from the warehouse mirror")
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
