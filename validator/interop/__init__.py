"""Stage 0: meet the data where it comes from.

Annotation-tool exports (Label Studio, Prodigy, CVAT, SageMaker Ground Truth, Argilla) become
one flat annotations table (`rows.COLUMNS`), one module per format behind one signature
(`read(path, options) -> Iterator[Row]`), chosen from `FORMATS` and imported lazily; `table`
writes the rows (Parquet, DuckDB or the active dbt target through `load`, atomically) and
`contract_gen` a contract for them. `odcs` converts contracts to and from the Open Data
Contract Standard.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from validator.errors import RecordError, UsageError, did_you_mean
from validator.interop.rows import ImportOptions, Reader, Row
from validator.interop.table import Destination, Profile, write

# format name -> module with `read`; `labelpact import FORMAT` takes these names
FORMATS: dict[str, str] = {
    "labelstudio": "validator.interop.labelstudio",
    "prodigy": "validator.interop.prodigy",
    "cvat": "validator.interop.cvat",
    "sagemaker": "validator.interop.sagemaker",
    "argilla": "validator.interop.argilla",
}


def reader(fmt: str) -> Reader:
    """The reader for a format name (`labelstudio`, `prodigy`, `cvat`, `sagemaker`, `argilla`)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format '{fmt}'; {did_you_mean(fmt, list(FORMATS))}")
    read: Reader = importlib.import_module(FORMATS[fmt]).read
    return read


@dataclass(frozen=True)
class Imported:
    """What `import_export` wrote."""

    destination: Destination
    profile: Profile
    contract: str | None  # contract YAML, when asked for


def import_export(
    fmt: str,
    export: Path,
    destination: Destination,
    options: ImportOptions | None = None,
    contract_name: str | None = None,
    owner: str = "unassigned",
) -> Imported:
    """Read a tool's export and write the flat annotations table, all or nothing.

    >>> import_export("prodigy", Path("answers.jsonl"), Destination(Path("a.parquet")))
    ... # doctest: +SKIP
    """
    if not export.is_file():
        raise UsageError(f"no such export file: {export}")
    read = reader(fmt)
    rows = _not_nothing(read(export, options or ImportOptions()), export, fmt)
    profile = write(rows, destination)
    text = None
    if contract_name:
        from validator.interop.contract_gen import contract_yaml

        text = contract_yaml(contract_name, destination, profile, owner, fmt)
    return Imported(destination, profile, text)


def _not_nothing(rows: Iterable[Row], export: Path, fmt: str) -> Iterator[Row]:
    """The rows, failing at their end when there were none although the export holds data:
    a wrong format or option would otherwise import silently as an empty table (raised while
    the table is written, it leaves the destination as it was)."""
    count = 0
    for r in rows:
        count += 1
        yield r
    if count == 0 and not is_empty(export):
        raise RecordError(
            str(export),
            "the whole export",
            f"it is not empty, but no annotation rows were read from it as a `{fmt}` export: "
            "it holds no annotations yet, or it is another tool's or another format's export "
            '(see the README, "Annotation-tool exports", for the format each reads), or '
            "--control excludes every label",
        )


def is_empty(export: Path) -> bool:
    """An export with no records: only blanks, or an empty JSON array or object (after a
    UTF-8 byte-order mark)."""
    with export.open("rb") as handle:
        head = handle.read(65536)
        more = handle.read(1)
    content = head.removeprefix(b"\xef\xbb\xbf")
    compact = b"".join(content.split())
    return not more and compact in (b"", b"[]", b"{}")
