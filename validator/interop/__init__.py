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
from dataclasses import dataclass
from pathlib import Path

from validator.errors import UsageError, did_you_mean
from validator.interop.rows import ImportOptions, Reader
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
    profile = write(read(export, options or ImportOptions()), destination)
    text = None
    if contract_name:
        from validator.interop.contract_gen import contract_yaml

        text = contract_yaml(contract_name, destination, profile, owner, fmt)
    return Imported(destination, profile, text)
