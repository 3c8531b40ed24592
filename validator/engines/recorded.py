"""The dbt profile's DuckDB connection, opened without dbt when nothing dbt read has changed.

Importing dbt and rendering the project and profile with it costs 3-5 s in every process
before the first query (issue #17: more than the whole of datacontract-cli's run). So the
first time dbt renders a plain DuckDB profile for some settings, labelpact records what dbt
rendered (the database file, its config options and settings, what `Warehouse.describe`
reports) beside a digest of everything that rendering read (`profile_digest`). A later process
whose digest is the same opens that file with those options itself, the way dbt-duckdb does
(`duckdb.connect(path, config=...)`, then `SET` each of the profile's `settings`), without
importing dbt; any difference and dbt renders the profile again (and the record is replaced).

Recorded are only profiles whose connection is the file and its options: extensions,
attached databases, plugins, secrets, filesystems, MotherDuck and retries are left to dbt.
`replay.py` does the same for the models `validate` has dbt build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlglot import exp

from validator.compiler.sql.dialects import dialect_for_adapter
from validator.engines.warehouse import Warehouse, _first_line, missing_file
from validator.errors import EngineError
from validator.settings import Settings
from validator.versions import versions

RECORD_FORMAT = 1
# What the digest covers besides files: the tools whose code renders and runs the project.
TOOLS = ("labelpact", "dbt-core", "dbt-adapters", "dbt-duckdb", "duckdb")
_ENV_VAR = re.compile(r"""env_var\(\s*['"]([^'"]+)['"]""")
# Credentials of dbt-duckdb that make a connection more than a file and its options.
_NOT_PLAIN = ("extensions", "attach", "plugins", "filesystems", "secrets", "remote", "retries")


def state_dir(settings: Settings) -> Path:
    """Where labelpact keeps what it recorded (beside the ledger, with the incremental state)."""
    return settings.ledger_path.parent / "state"


def digest(parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _files_under(root: Path) -> list[Path]:
    """Every file below `root`, through symbolic links (`dbt deps` links a local package into
    dbt_packages), each linked directory once."""
    out: list[Path] = []
    seen: set[str] = set()
    for directory, subdirs, names in os.walk(root, followlinks=True):
        real = os.path.realpath(directory)
        if real in seen:
            subdirs.clear()
            continue
        seen.add(real)
        out += [Path(directory) / name for name in names]
    return sorted(out)


def file_digests(paths: Iterable[Path]) -> tuple[dict[str, str], set[str]]:
    """(SHA-256 of each file, or 'missing'; the environment variables they name in
    `env_var()`). Directories are walked."""
    out: dict[str, str] = {}
    names: set[str] = set()
    for path in paths:
        files = _files_under(path) if path.is_dir() else [path]
        for file in files:
            try:
                data = file.read_bytes()
            except OSError:
                out[str(file)] = "missing"
                continue
            out[str(file)] = hashlib.sha256(data).hexdigest()
            names |= set(_ENV_VAR.findall(data.decode("utf-8", "replace")))
    return out, names


def environment(names: Iterable[str], settings: Settings) -> dict[str, str | None]:
    """The values dbt would see for `names` and for every DBT_ variable (its flags)."""
    env = dict(os.environ) | dict(settings.env)
    wanted = set(names) | {k for k in env if k.startswith("DBT_")}
    return {k: env.get(k) for k in sorted(wanted)}


def profile_digest(settings: Settings) -> str:
    """A digest of what dbt reads to render the profile of `settings`: profiles.yml and
    dbt_project.yml, the variables they name, DBT_ variables, the target, the working directory
    (a relative DuckDB path is opened from it) and the versions of the tools."""
    files, names = file_digests(
        [settings.profiles / "profiles.yml", settings.project_dir / "dbt_project.yml"]
    )
    return digest(
        {
            "format": RECORD_FORMAT,
            "files": files,
            "env": environment(names, settings),
            "target": settings.target,
            "project": str(settings.project_dir.resolve()),
            "profiles": str(settings.profiles.resolve()),
            "cwd": os.getcwd(),
            "tools": versions(TOOLS),
        }
    )


def _profile_path(settings: Settings) -> Path:
    return state_dir(settings) / "dbt-profile.json"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Best effort: a record that cannot be written only means dbt runs next time."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(data, sort_keys=True, indent=1) + "\n")
        tmp.replace(path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == RECORD_FORMAT else None


def plain_duckdb(wh: Warehouse) -> dict[str, Any] | None:
    """The connection of a dbt-rendered DuckDB profile as a record, or None when it is more
    than a file and its options."""
    creds = wh.credentials
    if creds.type != "duckdb" or getattr(creds, "is_motherduck", False):
        return None
    if any(getattr(creds, name, None) for name in _NOT_PLAIN):
        return None
    path = str(creds.path or "")
    if not path or path.startswith(wh.dialect.not_a_file):
        return None
    return {
        "path": path,
        "config": dict(getattr(creds, "config_options", None) or {}),
        "settings": {str(k): str(v) for k, v in (getattr(creds, "settings", None) or {}).items()},
        "describe": wh.describe(),
    }


def record_profile(settings: Settings, wh: Warehouse) -> None:
    """Record the connection dbt rendered for `settings` (when it is a plain DuckDB file)."""
    connection = plain_duckdb(wh)
    if connection is None:
        return
    record = {"format": RECORD_FORMAT, "digest": profile_digest(settings), **connection}
    if read_json(_profile_path(settings)) != record:
        _write_json(_profile_path(settings), record)


def recorded_profile(settings: Settings) -> dict[str, Any] | None:
    """The recorded connection for `settings`, when nothing dbt read to render it changed."""
    record = read_json(_profile_path(settings))
    if record is None or record.get("digest") != profile_digest(settings):
        return None
    return record


class DuckDBFile(Warehouse):
    """The recorded DuckDB connection of a dbt profile, opened without dbt."""

    def __init__(self, settings: Settings, record: dict[str, Any], audit: bool = False) -> None:
        self.settings, self.audit, self.record = settings, audit, record
        self.dialect = dialect_for_adapter("duckdb")
        # what readers of dbt's credentials use (GX opens the same file: `gx_sources`)
        self.credentials = SimpleNamespace(type="duckdb", path=record["path"])
        self._con: Any = None
        self._transaction = False
        self._check_exists()

    @property
    def target_name(self) -> str:
        return str(self.record["describe"]["target"])

    def describe(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.record["describe"]))  # a copy

    def _check_exists(self) -> None:
        path = self.record["path"]
        if not Path(path).exists():
            where = self.record["describe"]
            raise missing_file(self.settings, "duckdb", path, where["profile"], where["target"])

    def _open(self) -> None:
        import duckdb

        try:
            self._con = duckdb.connect(self.record["path"], config=self.record["config"])
        except duckdb.Error as exc:
            raise EngineError(f"cannot open {self.record['path']}: {_first_line(exc)}") from exc
        for key, value in self.record["settings"].items():
            name = exp.to_identifier(key).sql("duckdb")
            self._cursor(f"SET {name} = {exp.Literal.string(value).sql('duckdb')}")
        for statement in self.dialect.session_setup:
            self._cursor(statement)

    def __exit__(self, *exc: object) -> None:
        if self._con is not None:
            with contextlib.suppress(Exception):
                self._con.close()
        self._con, self._transaction = None, False

    def _cursor(self, sql: str, begin: bool = False) -> Any:
        assert self._con is not None, "use `with warehouse_for(settings) as wh:`"
        try:
            if begin and not self._transaction:
                self._con.begin()
                self._transaction = True
            return self._con.execute(sql)
        except Exception as exc:  # duckdb's errors, one kind for the caller
            raise EngineError(f"query failed: {_first_line(exc)}") from exc

    def recover(self) -> None:
        if self._con is not None and self._transaction:
            with contextlib.suppress(Exception):
                self._con.rollback()
        self._transaction = False

    def _commit(self) -> None:
        if self._transaction:
            self._con.commit()
        self._transaction = False

    def materialize(self, statements: Sequence[str]) -> None:
        """Run dbt's DDL for models, in one transaction (rolled back when one fails)."""
        assert self._con is not None, "use `with warehouse_for(settings) as wh:`"
        self._con.begin()
        try:
            for statement in statements:
                self._con.execute(statement)
        except Exception as exc:
            self._con.rollback()
            raise EngineError(f"query failed: {_first_line(exc)}") from exc
        self._con.commit()


def warehouse_for(settings: Settings, audit: bool = False) -> Warehouse:
    """The warehouse of `settings`: the recorded DuckDB connection when nothing dbt read to
    render the profile changed, else through dbt (and recorded for next time)."""
    record = recorded_profile(settings)
    if record is not None:
        return DuckDBFile(settings, record, audit)
    wh = Warehouse(settings, audit)
    record_profile(settings, wh)
    return wh
