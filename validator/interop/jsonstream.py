"""Read the elements of a top-level JSON array one at a time, refusing hostile nesting.

Shared by the importers of JSON-array exports (Label Studio's tasks, Argilla's records), so an
export of millions of records never sits in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from validator.errors import RecordError

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
