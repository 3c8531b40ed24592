"""What a verdict is about, so `gate` can tell whether it still holds.

A verdict names the data (the contract's source relation, fingerprinted with its schema), the
rules (the contract file and the compiled checks that ran, by digest) and the warehouse it ran
on. `recorded` gathers what `validate` writes besides the fingerprint; `other_warehouse`,
`data_changes` and `artifact_changes` name each way the present differs from a recorded
verdict, as reasons a person can act on (`gate` asks them).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from validator.compiler.artifacts import compile_plans, origin, shown_path
from validator.compiler.plan import Plan
from validator.compiler.sql.dialects import DEFAULT_DIALECTS, dialect_for_adapter
from validator.contract.model import Contract
from validator.errors import EngineError
from validator.settings import Settings

if TYPE_CHECKING:
    from validator.engines.dbt_runner import DbtProject


def source_relation(project: DbtProject, contract: str) -> str:
    """The relation the contract's model reads (its dbt source or ref), as dbt names it.

    This, not the model (a view whose column list was fixed when it was last built), is what
    a training job reads; it is what the fingerprint covers."""
    manifest = project.parse()
    for node in manifest.nodes.values():
        if node.resource_type == "model" and node.name == contract:
            upstream = [u for u in node.depends_on.nodes if not u.startswith("macro.")]
            if len(upstream) == 1:
                parent = manifest.sources.get(upstream[0]) or manifest.nodes.get(upstream[0])
                if parent is not None and parent.relation_name:
                    return str(parent.relation_name)
            raise EngineError(
                f"model '{contract}' reads {len(upstream)} relations; a contract's model reads "
                "exactly its source (run `labelpact compile`)"
            )
    raise EngineError(f"model '{contract}' is not in the dbt project; run `labelpact compile`")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def contract_digest(contract: Contract) -> str:
    """SHA-256 of the contract file as written."""
    return _sha256(Path(contract.path).read_bytes())


def artifact_paths(plans: list[Plan], contract: Contract, root: Path) -> list[str]:
    """The compiled files that carry `contract`'s checks (model, schema YAML with its source,
    singular tests, GX suite): those whose header names its contract file."""
    files = compile_plans(plans, DEFAULT_DIALECTS, root)
    mine = shown_path(contract.path, root)
    return sorted(p for p, text in files.items() if origin(p, text) == mine)


def artifact_digests(root: Path, paths: list[str]) -> dict[str, str]:
    """SHA-256 of each file as it is on disk now ('missing' when it is not)."""
    out = {}
    for rel in paths:
        path = root / rel
        out[rel] = _sha256(path.read_bytes()) if path.is_file() else "missing"
    return out


def recorded(settings: Settings, plans: list[Plan], contract: Contract) -> dict[str, Any]:
    """What a verdict records about `contract` besides its data: the SHA-256 of the contract
    file and of each compiled file carrying its checks, and the warehouse."""
    paths = artifact_paths(plans, contract, settings.project_dir)
    return {
        "contract_digest": contract_digest(contract),
        "artifacts": artifact_digests(settings.project_dir, paths),
        "warehouse": warehouse_identity(settings),
    }


def warehouse_identity(settings: Settings) -> dict[str, str]:
    """Which warehouse a run reads: adapter type, dbt target, and the database file or server,
    as the dbt profile of `settings` names them."""
    from validator.engines.recorded import warehouse_for

    where = warehouse_for(settings).describe()
    location = where["location"]
    if "path" in location:  # a database file (DuckDB)
        database = str(Path(location["path"]).resolve())
    else:
        server = ":".join(str(location[k]) for k in ("host", "port") if k in location)
        database = f"{server}/{location.get('database', '')}"
        for key in dialect_for_adapter(where["adapter"]).location_parameters:
            if key in location:  # a Spark session: where its warehouse directory is
                database += f" {key}={location[key]}"
    return {"adapter": where["adapter"], "target": where["target"], "database": database}


def describe_warehouse(identity: dict[str, str]) -> str:
    return f"{identity['adapter']} {identity['database']} (target {identity['target']})"


# How warehouses say a relation is not there (DuckDB, PostgreSQL, Spark, SQLite-likes, MySQL).
_MISSING = ("does not exist", "not found", "no such table", "doesn't exist")


def missing_source(wh: Any, contract: str, relation: str) -> str | None:
    """`contract 'x': its source raw.x does not exist on duckdb /w.duckdb (target dev)` when
    the relation is not in the warehouse (None: it is; any other error is raised): said
    plainly, instead of the engine's catalog error and its guesses at another table."""
    try:
        wh.columns(relation)
    except EngineError as exc:
        if not any(words in str(exc).lower() for words in _MISSING):
            raise
        where = describe_warehouse(warehouse_identity(wh.settings))
        return f"contract '{contract}': its source {relation} does not exist on {where}"
    return None


def require_source(wh: Any, contract: str, relation: str) -> None:
    """Raise `EngineError` naming the contract and warehouse when its source is missing."""
    reason = missing_source(wh, contract, relation)
    if reason:
        raise EngineError(reason)


def other_warehouse(recorded: dict[str, str] | None, current: dict[str, str]) -> str | None:
    """The reason a verdict from another warehouse does not apply here (None: same one)."""
    if recorded is None:
        return "the verdict does not record its warehouse (written by an older labelpact)"
    if (recorded["adapter"], recorded["database"]) == (current["adapter"], current["database"]):
        return None
    return (
        f"verdict from another warehouse: validated on {describe_warehouse(recorded)}, "
        f"this gate reads {describe_warehouse(current)}; run `labelpact validate` against it"
    )


def schema_changes(before: list[list[str]], now: list[list[str]]) -> list[str]:
    """`column added: x VARCHAR`, `column dropped`, `column type changed`, `columns reordered`.

    A rename shows as one column dropped and one added (a warehouse reports no renames)."""
    old, new = dict((n, t) for n, t in before), dict((n, t) for n, t in now)
    changes = [f"column dropped: {n} {t}" for n, t in before if n not in new]
    changes += [f"column added: {n} {t}" for n, t in now if n not in old]
    changes += [
        f"column type changed: {n} {old[n]} -> {t}" for n, t in now if n in old and old[n] != t
    ]
    kept_before = [n for n, _ in before if n in new]
    kept_now = [n for n, _ in now if n in old]
    if kept_before != kept_now:
        changes.append(f"columns reordered: {', '.join(kept_before)} -> {', '.join(kept_now)}")
    return changes


def data_changes(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Every difference between a recorded fingerprint and the present one."""
    if stored.get("algorithm") != current.get("algorithm"):
        return [
            f"the fingerprint was computed with {stored.get('algorithm', 'md5-60')}, this "
            f"warehouse computes {current['algorithm']}: the two cannot be compared; run "
            "`labelpact validate` again"
        ]
    reasons = schema_changes(stored.get("schema", []), current.get("schema", []))
    if stored["rows"] != current["rows"]:
        reasons.append(f"rows changed ({stored['rows']} -> {current['rows']})")
    elif stored["hash"] != current["hash"] and not reasons:
        reasons.append(
            f"data changed since validation: same row count ({current['rows']}), different "
            f"contents (fingerprint {stored['hash'][:12]} -> {current['hash'][:12]})"
        )
    return reasons


def artifact_changes(stored: dict[str, str], current: dict[str, str]) -> list[str]:
    edited = sorted(p for p in stored if current.get(p) != stored[p])
    if not edited:
        return []
    shown = ", ".join(edited[:3]) + (f" and {len(edited) - 3} more" if len(edited) > 3 else "")
    return [f"compiled checks edited since validation: {shown}"]
