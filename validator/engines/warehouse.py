"""Every query labelpact runs itself goes through the dbt adapter of the active target.

There is no second connection configuration: the project, profile and target are found the way
dbt finds them (`Settings`), the profile is rendered by dbt, and the adapter plugin of its
`type` opens the connection with the profile's credentials and settings. So labelpact reads
every warehouse dbt can build on, with dbt's connection handling.

Reads are plain `SELECT`s built by labelpact; `audit=True` may also write labelpact's own audit
schema (the ledger mirror) and the table `labelpact import --to dbt` replaces. Other annotation
data is never modified.
"""

from __future__ import annotations

import contextlib
import os
import time
from argparse import Namespace
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlglot import exp

from validator.compiler.sql.dialects import Dialect, dialect_for_adapter
from validator.engines.dbt_runner import LOCK, WarehouseBusy, release_duckdb
from validator.errors import EngineError
from validator.settings import Settings

OPEN_RETRIES = 20  # DuckDB allows one writer per file: another process may hold it briefly


def load_config(settings: Settings) -> Any:
    """dbt's `RuntimeConfig` of the project with the profile and target of `settings`.

    Rendered by dbt itself (env_var, var), with `settings.env` on top of the environment.
    """
    from dbt.config.runtime import RuntimeConfig
    from dbt.exceptions import DbtProfileError, DbtProjectError
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions import DbtRuntimeError

    args = Namespace(
        project_dir=str(settings.project_dir.resolve()),
        profiles_dir=str(settings.profiles.resolve()),
        target=settings.target,
        profile=None,
        threads=None,
        vars={},
    )
    if not (settings.profiles / "profiles.yml").is_file():
        raise EngineError(
            f"no profiles.yml in {settings.profiles} (set --profiles-dir or "
            "DBT_PROFILES_DIR, or put it in the project or ~/.dbt)"
        )
    with LOCK:  # dbt's flags and invocation context are process-global
        set_from_args(args, None)
        set_invocation_context(dict(os.environ) | dict(settings.env))
        try:
            return RuntimeConfig.from_args(args)
        except (DbtProfileError, DbtProjectError, DbtRuntimeError) as exc:
            raise EngineError(
                f"cannot load the dbt project and profile: {str(exc).strip()}"
            ) from exc


class Warehouse:
    """A connection through the dbt adapter of the active target, with its dialect.

    Constructing it loads the profile and checks it names a warehouse that exists (a DuckDB
    file dbt would otherwise create empty); `with` opens the connection.

    >>> with Warehouse(settings) as wh:                       # doctest: +SKIP
    ...     names, rows = wh.query("SELECT count(*) FROM raw.annotations")
    """

    def __init__(self, settings: Settings, audit: bool = False) -> None:
        self.settings = settings
        self.audit = audit
        self.config = load_config(settings)
        self.credentials = self.config.credentials
        self.dialect: Dialect = dialect_for_adapter(self.credentials.type)
        self._check_exists()
        self._adapter: Any = None
        self._named: Any = None

    @property
    def target_name(self) -> str:
        return str(self.config.target_name)

    def describe(self) -> dict[str, Any]:
        """Where the data is: adapter type, target and the profile's connection keys
        (dbt's own list for the adapter, which leaves out secrets)."""
        where = {
            k: v
            for k, v in self.credentials.connection_info()
            if isinstance(v, (str, int, float)) and not isinstance(v, bool)
        }
        parameters = getattr(self.credentials, "server_side_parameters", None) or {}
        where |= {k: parameters[k] for k in self.dialect.location_parameters if k in parameters}
        return {
            "adapter": self.credentials.type,
            "target": self.target_name,
            "profile": self.config.profile_name,
            "location": {k: str(v) for k, v in where.items()},
        }

    def _check_exists(self) -> None:
        field = self.dialect.database_file
        if not field:
            return
        path = str(getattr(self.credentials, field, "") or "")
        if path and not path.startswith(self.dialect.not_a_file) and not Path(path).exists():
            profile, target = self.config.profile_name, self.target_name
            raise missing_file(self.settings, self.credentials.type, path, profile, target)

    def __enter__(self) -> Warehouse:
        for attempt in range(OPEN_RETRIES):
            try:
                self._open()
                return self
            except EngineError as exc:
                self.__exit__()
                if "lock" not in str(exc).lower():
                    raise
                if attempt == OPEN_RETRIES - 1:
                    raise WarehouseBusy(
                        "the warehouse is busy: another process holds its "
                        f"write lock; retry later ({exc})"
                    ) from exc
                time.sleep(0.25 * (attempt + 1))
        raise AssertionError("unreachable")

    def _open(self) -> None:
        from dbt.adapters.factory import FACTORY
        from dbt.mp_context import get_mp_context

        FACTORY.load_plugin(self.credentials.type)
        adapter_class = FACTORY.get_adapter_class_by_name(self.credentials.type)
        # A private adapter instance: dbt's registry (which builds use) is left alone.
        self._adapter = adapter_class(self.config, get_mp_context())  # type: ignore[call-arg]
        self._named = self._adapter.connection_named("labelpact")
        self._named.__enter__()
        setup = self.dialect.session_setup + (() if self.audit else self.dialect.read_only_setup)
        for statement in setup:
            self._cursor(statement)

    def __exit__(self, *exc: object) -> None:
        if self._adapter is None:
            return
        with contextlib.suppress(Exception):
            self._named.__exit__(None, None, None)
        with contextlib.suppress(Exception):
            self._adapter.cleanup_connections()
        release_duckdb()  # never keep a DuckDB file open (and locked) after use
        self._adapter = self._named = None

    def _cursor(self, sql: str, begin: bool = False) -> Any:
        assert self._adapter is not None, "use `with Warehouse(settings) as wh:`"
        try:
            _, cursor = self._adapter.connections.add_query(sql, auto_begin=begin)
        except Exception as exc:  # adapters raise their own errors; all are engine errors
            raise EngineError(f"query failed: {_first_line(exc)}") from exc
        return cursor

    def recover(self) -> None:
        """After a failed statement: roll back, so the connection takes the next one (a
        PostgreSQL transaction refuses every statement after an error until then)."""
        if self._adapter is not None:
            with contextlib.suppress(Exception):
                self._adapter.connections.rollback_if_open()

    def write(self, statements: Sequence[exp.Expression | str]) -> None:
        """Run statements, in one transaction, that write labelpact's audit schema or the table
        `labelpact import --to dbt` creates (only with `audit=True`). A string is SQL already
        rendered with sqlglot in this dialect (large batched INSERTs)."""
        assert self.audit, "writes need Warehouse(..., audit=True)"
        for statement in statements:
            sql = statement if isinstance(statement, str) else statement.sql(self.dialect.sqlglot)
            self._cursor(sql, begin=True)
        try:
            self._commit()
        except Exception as exc:
            raise EngineError(f"audit write failed: {_first_line(exc)}") from exc

    def _commit(self) -> None:
        self._adapter.connections.commit_if_has_connection()

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one statement; returns column names and rows (driver values, not agate's
        guesses: dbt's `execute(fetch=True)` would turn the text '007' into the number 7)."""
        cursor = self._cursor(sql)
        try:
            rows = cursor.fetchall() or []
            description = list(cursor.description or [])
        except Exception as exc:
            raise EngineError(f"query failed: {_first_line(exc)}") from exc
        return [d[0] for d in description], [tuple(r) for r in rows]

    def columns(self, relation: str) -> list[tuple[str, str]]:
        """(name, driver type) of each column of `relation`, without reading a row."""
        query = exp.select("*").from_(exp.to_table(relation, dialect=self.dialect.sqlglot))
        cursor = self._cursor(query.where(exp.false()).sql(dialect=self.dialect.sqlglot))
        with contextlib.suppress(Exception):
            cursor.fetchall()
        return [(d[0], str(d[1])) for d in cursor.description or []]

    def schema(self, relation: str) -> list[tuple[str, str]]:
        """(name, TYPE) of each column of `relation` as the warehouse reports it, in order,
        from the catalog (no rows are read)."""
        table = exp.to_table(relation, dialect=self.dialect.sqlglot)
        _, rows = self.query(self.dialect.schema_query(table).sql(dialect=self.dialect.sqlglot))
        if not rows:
            raise EngineError(f"relation {relation} does not exist or has no columns")
        return self.dialect.schema_rows(rows)

    def fingerprint_algorithm(self) -> str:
        """How this warehouse hashes rows (see `Dialect.fingerprint_algorithm`)."""
        algorithm = self.dialect.fingerprint_algorithm
        if self.dialect.hash_varies_with_version:
            _, rows = self.query(exp.select(exp.func("VERSION")).sql(dialect=self.dialect.sqlglot))
            algorithm += f"@{rows[0][0]}"
        return algorithm

    def fingerprint(self, relation: str, columns: list[str] | None = None) -> dict[str, Any]:
        """The fingerprint of a relation, computed in the warehouse in one order-independent
        pass: row count, sum and xor of a 64-bit hash of each row (see `Dialect.fingerprint`).

        Without `columns`, every column the relation has now, and its schema (names, order and
        types) is part of the result: a column added, dropped, renamed or retyped changes it
        even when every value prints the same."""
        schema = self.schema(relation) if columns is None else None
        table = exp.to_table(relation, dialect=self.dialect.sqlglot)
        names = [c for c, _ in schema] if schema is not None else list(columns or [])
        _, rows = self.query(
            self.dialect.fingerprint(table, names).sql(dialect=self.dialect.sqlglot)
        )
        n_rows, hash_sum, hash_xor = rows[0]
        result: dict[str, Any] = {
            "relation": relation,
            "rows": int(n_rows),
            "hash": fingerprint_hash(hash_sum, hash_xor),
            "algorithm": self.fingerprint_algorithm(),
        }
        if schema is not None:
            result["schema"] = [list(c) for c in schema]
        return result


def missing_file(
    settings: Settings, adapter: str, path: str, profile: str, target: str
) -> EngineError:
    """The error for a profile naming a database file that is not there."""
    return EngineError(
        f"{adapter} database file {path} does not exist (profile '{profile}', target "
        f"'{target}' in {settings.profiles / 'profiles.yml'}); dbt would create it empty. "
        "Point the profile at the warehouse, or write example data with `labelpact generate`"
    )


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:2000]


def fingerprint_hash(hash_sum: Any, hash_xor: Any) -> str:
    """The text form of a fingerprint's hash (an empty relation sums to NULL: 0)."""
    return f"{hash_sum or 0}:{hash_xor or 0}"
