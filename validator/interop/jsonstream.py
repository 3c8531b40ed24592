"""Read exports one record at a time: the elements of a top-level JSON array (refusing hostile
nesting), or the lines of JSON Lines (refusing overlong lines).

Shared by the importers (Label Studio's and Argilla's arrays; Prodigy's, SageMaker's and
Argilla's JSON Lines), so an export of millions of records never sits in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from validator.errors import RecordError

MAX_LINE = 64 * 1024 * 1024  # one record; a longer line is not an export's record
MAX_DEPTH = 64  # a record nests a few levels; deeper is hostile (and ijson would build it all)
_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")


def array_items(handle: Any, path: Path, noun: str = "task") -> Iterator[Any]:
    """The elements of the top-level array, one at a time, refusing deep nesting.

    (Built from yajl's events rather than with `ijson.items`, whose C builder exhausts memory
    on a small file nested 100,000 deep before any limit could apply.)
    """
    depth = done = 0
    builder: Any = None
    for event, value in ijson.basic_parse(handle, use_float=True):
        if event in _STARTS:
            depth += 1
            if depth > MAX_DEPTH:
                where = f"{noun} #{done + 1}" if depth > 2 else "top level"
                raise RecordError(str(path), where, f"JSON nested deeper than {MAX_DEPTH} levels")
            if depth == 1:
                continue
        elif event in _ENDS:
            depth -= 1
            if depth == 0:
                continue
        if builder is None:
            builder = ijson.ObjectBuilder()
        builder.event(event, value)
        if depth == 1:  # the element just ended (or was a scalar)
            yield builder.value
            builder, done = None, done + 1


def first_char(handle: Any) -> bytes:
    """The first non-blank byte of the file (after a UTF-8 byte-order mark), leaving the
    handle at the start of the content."""
    head = handle.read(4096)
    start = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    handle.seek(start)
    return bytes(head[start:].lstrip(b" \t\r\n")[:1])


def short(exc: Exception) -> str:
    """An exception's message on one line, at most 200 characters."""
    return " ".join(str(exc).split())[:200]


def json_lines(handle: Any, path: Path) -> Iterator[tuple[int, str, Any]]:
    """(line number, "line N", the parsed value) of each non-blank line of a JSON Lines file
    opened in binary mode; a bad line raises `RecordError` naming it."""
    for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE + 1), b""), 1):
        where = f"line {number}"
        if len(raw) > MAX_LINE:
            raise RecordError(str(path), where, f"line is longer than {MAX_LINE} bytes")
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RecordError(str(path), where, f"invalid JSON: {exc}") from None
        except RecursionError:
            raise RecordError(str(path), where, "JSON nested too deeply") from None
        yield number, where, record
