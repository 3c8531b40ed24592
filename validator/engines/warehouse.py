"""The only place labelpact itself opens a warehouse connection.

Connections are read-only, except `audit=True`, which may only write labelpact's own audit
schema (the ledger mirror); annotation data is never modified.
"""

from __future__ import annotations

import time
from typing import Any

from sqlglot import exp

from validator.compiler.sql.dialects import Dialect, get_dialect
from validator.errors import EngineError
from validator.settings import Settings


class Warehouse:
    """A read-only connection with the dialect to render SQL for it."""

    def __init__(self, settings: Settings, audit: bool = False) -> None:
        self.settings = settings
        self.audit = audit
        self.dialect: Dialect = get_dialect(settings.engine)
        self._con: Any = None

    def __enter__(self) -> Warehouse:
        self._con = self._connect()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def _connect(self) -> Any:
        s = self.settings
        if s.engine == "duckdb":
            import duckdb

            if not s.duckdb_path.exists():
                raise EngineError(
                    f"DuckDB database {s.duckdb_path} does not exist (run "
                    "`labelpact generate` or point LABELPACT_DUCKDB at it)"
                )
            # DuckDB allows one writer per file: another process building may hold it briefly.
            for attempt in range(20):
                try:
                    return duckdb.connect(
                        str(s.duckdb_path),
                        read_only=not self.audit,
                        # A missing table is an error, never a Python variable of the caller
                        # that happens to share its name (DuckDB's replacement scans).
                        config={
                            "memory_limit": s.duckdb_memory,
                            "python_enable_replacements": False,
                        },
                    )
                except duckdb.ConnectionException as exc:
                    raise EngineError(f"cannot open {s.duckdb_path}: {exc}") from exc
                except duckdb.IOException as exc:
                    if "lock" not in str(exc).lower() or attempt == 19:
                        raise EngineError(f"cannot open {s.duckdb_path}: {exc}") from exc
                    time.sleep(0.25 * (attempt + 1))
        import psycopg2

        try:
            con = psycopg2.connect(
                host=s.pg.get("host", "localhost"),
                port=int(s.pg.get("port", "5432")),
                user=s.pg.get("user", "postgres"),
                password=s.pg.get("password", ""),
                dbname=s.pg.get("dbname", "labelpact"),
                connect_timeout=10,
            )
        except psycopg2.Error as exc:
            raise EngineError(f"cannot connect to PostgreSQL: {str(exc).strip()}") from exc
        con.set_session(readonly=not self.audit, autocommit=True)
        return con

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """A write to the audit schema (only with `audit=True`)."""
        assert self._con is not None and self.audit, "writes need Warehouse(..., audit=True)"
        try:
            cur = self._con.cursor()
            cur.execute(sql, params)
        except Exception as exc:  # driver errors differ per engine
            raise EngineError(f"audit write failed: {exc}") from exc

    def _run(self, sql: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(cursor description, rows) of one statement."""
        assert self._con is not None, "use `with Warehouse(settings) as wh:`"
        try:
            cur = self._con.cursor()
            cur.execute(sql)
            rows = cur.fetchall()
        except Exception as exc:  # driver errors differ per engine; all are engine errors
            raise EngineError(f"query failed: {exc}") from exc
        return list(cur.description or []), [tuple(r) for r in rows]

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one statement; returns column names and rows."""
        description, rows = self._run(sql)
        return [d[0] for d in description], rows

    def columns(self, relation: str) -> list[tuple[str, str]]:
        """(name, driver type) of each column of `relation`, without reading a row."""
        description, _ = self._run(f"SELECT * FROM {relation} WHERE 1 = 0")
        return [(d[0], str(d[1])) for d in description]

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


def fingerprint_hash(hash_sum: Any, hash_xor: Any) -> str:
    """The text form of a fingerprint's hash (an empty relation sums to NULL: 0)."""
    return f"{hash_sum or 0}:{hash_xor or 0}"
