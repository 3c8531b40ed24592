"""Per-engine SQL differences, as class-level settings on one dialect object per engine.

Check code asks the dialect for a formulation (`regex_match`, `now`); it never branches on the
engine's name. sqlglot does the rest of the translation.
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp


class Dialect:
    """Defaults: sqlglot's own translation is right for this engine."""

    name: ClassVar[str] = ""
    sqlglot: ClassVar[str] = ""
    dbt_types: ClassVar[tuple[str, ...]] = ()  # dbt `target.type` values served by this dialect
    # REGEXP_LIKE is a full match on Snowflake but a search everywhere else.
    regex_is_full_match: ClassVar[bool] = False
    # Contract types whose warehouse name differs from the logical name (used in dbt contracts,
    # where dbt casts null to the declared type on the warehouse and compares).
    type_names: ClassVar[dict[str, str]] = {}
    # The row hash a fingerprint sums and xors (recorded in every verdict: a verdict is only
    # compared with a fingerprint computed the same way). Engines with a fast native hash of
    # typed values override `row_hash`; the default is md5 of the row as text (any engine).
    fingerprint_algorithm: ClassVar[str] = "md5-60"
    # The native hash may change with the engine's version: the version is then recorded too.
    hash_varies_with_version: ClassVar[bool] = False
    # labelpact connects through the dbt adapter (engines/warehouse.py). The profile field
    # naming a local database file, which must exist: dbt would create a missing one empty.
    database_file: ClassVar[str | None] = None
    # `database_file` values that name no file (in-memory or remote databases).
    not_a_file: ClassVar[tuple[str, ...]] = ()
    # Run on every connection labelpact opens, and on read-only ones (no `audit=True`).
    session_setup: ClassVar[tuple[str, ...]] = ()
    read_only_setup: ClassVar[tuple[str, ...]] = ()
    # Tables without DELETE (plain Spark tables): the ledger mirror is partitioned by `seq` and
    # an entry is replaced by overwriting its partition.
    audit_by_partition: ClassVar[bool] = False
    # Profile settings (`server_side_parameters`) that say where the tables are when host and
    # database do not (a Spark session's warehouse directory): part of a verdict's warehouse.
    location_parameters: ClassVar[tuple[str, ...]] = ()
    # The engine reads a local Parquet file (`read_parquet`): `import --to dbt` creates its
    # table from the staged file in one statement instead of batched INSERTs.
    reads_local_parquet: ClassVar[bool] = False

    def regex_match(self, value: exp.Expr, pattern: str) -> exp.Expr:
        """True when `pattern` is found in `value` (search semantics, like Python's re.search)."""
        if self.regex_is_full_match:
            pattern = f".*({pattern}).*"
        return exp.RegexpLike(this=value, expression=exp.Literal.string(pattern))

    def now(self) -> exp.Expr:
        return exp.CurrentTimestamp()

    def seconds_between(self, start: exp.Expr, end: exp.Expr) -> exp.Expr:
        """Seconds (fractional) from timestamp `start` to timestamp `end`."""
        return exp.Sub(this=self.epoch_seconds(end), expression=self.epoch_seconds(start))

    def epoch_seconds(self, ts: exp.Expr) -> exp.Expr:
        return exp.Extract(this=exp.var("EPOCH"), expression=ts)

    def row_hash(self, columns: list[exp.Expr]) -> exp.Expr:
        """A 64-bit integer hash of one row's values (md5-based: stable across versions).

        The columns' types are not hashed: the relation's schema is part of the fingerprint."""
        # Values are separated by a unit separator so ("ab", "c") and ("a", "bc") differ.
        parts: list[exp.Expr] = []
        for i, c in enumerate(columns):
            if i:
                parts.append(exp.Literal.string("\x1f"))
            parts.append(exp.func("COALESCE", exp.cast(c, "text"), exp.Literal.string("\\N")))
        row = exp.Concat(expressions=parts, safe=True)
        # The first 15 hex digits of md5 fit a signed 64-bit integer on every engine.
        prefix = exp.Substring(
            this=exp.MD5(this=row), start=exp.Literal.number(1), length=exp.Literal.number(15)
        )
        return self.hex_to_bigint(prefix)

    def hex_to_bigint(self, hex_text: exp.Expr) -> exp.Expr:
        return exp.func("CONV", hex_text, exp.Literal.number(16), exp.Literal.number(10))

    def fingerprint(self, relation: exp.Expr, columns: list[str]) -> exp.Select:
        """One pass, order-independent: row count, sum and xor of row hashes."""
        cols: list[exp.Expr] = [exp.column(c, quoted=True) for c in columns]
        h = self.row_hash(cols)
        return exp.select(
            exp.alias_(exp.Count(this=exp.Star()), "n_rows"),
            exp.alias_(
                exp.cast(exp.Sum(this=exp.cast(h.copy(), "decimal(38, 0)")), "text"), "hash_sum"
            ),
            exp.alias_(exp.cast(exp.func("BIT_XOR", h.copy()), "text"), "hash_xor"),
        ).from_(relation)

    def schema_query(self, relation: exp.Table) -> exp.Expr:
        """A catalog query (no scan) for (column name, type) of `relation`, in column order."""
        where = exp.and_(
            exp.column("table_schema").eq(exp.Literal.string(relation.db)),
            exp.column("table_name").eq(exp.Literal.string(relation.name)),
        )
        return (
            exp.select("column_name", "data_type")
            .from_(exp.table_("columns", db="information_schema"))
            .where(where)
            .order_by("ordinal_position")
        )

    def schema_rows(self, rows: list[tuple[object, ...]]) -> list[tuple[str, str]]:
        """(name, TYPE) from the rows of `schema_query`; types upper-cased as SQL shows them."""
        return [(str(r[0]), str(r[1]).upper()) for r in rows]

    def render(self, expression: exp.Expr, copy: bool = True) -> str:
        """Pretty SQL; `copy=False` lets the generator rewrite a throwaway tree in place.

        Lines are never wrapped by width, so the layout does not depend on how long the names
        are (`sql/shapes.py` renders a check once and substitutes names into the text)."""
        return expression.sql(
            dialect=self.sqlglot, pretty=True, copy=copy, max_text_width=1_000_000
        )


class DuckDB(Dialect):
    name = sqlglot = "duckdb"
    dbt_types = ("duckdb",)
    database_file = "path"
    not_a_file = (":memory:", "md:", "motherduck:")
    # A table name that matches a Python variable in scope must never read that variable
    # (DuckDB's replacement scans): labelpact queries tables only.
    session_setup = ("SET python_enable_replacements = false",)
    reads_local_parquet = True

    fingerprint_algorithm = "duckdb-hash"
    hash_varies_with_version = True

    def hex_to_bigint(self, hex_text: exp.Expr) -> exp.Expr:
        return exp.cast(exp.DPipe(this=exp.Literal.string("0x"), expression=hex_text), "bigint")

    def row_hash(self, columns: list[exp.Expr]) -> exp.Expr:
        # DuckDB's vectorised hash of typed values (UBIGINT; a NULL hashes to a constant in its
        # position): ~10x cheaper than md5 of the row text. DuckDB does not promise it stays
        # the same across versions, so the version is part of the recorded algorithm.
        return exp.func("HASH", *columns)

    def schema_query(self, relation: exp.Table) -> exp.Expr:
        # DESCRIBE works for tables, views and file scans alike, without reading rows.
        return exp.Describe(this=exp.select("*").from_(relation))


class Postgres(Dialect):
    name = sqlglot = "postgres"
    dbt_types = ("postgres", "redshift")
    # Later transactions of the session are read-only; COMMIT ends the one the SET opened.
    read_only_setup = ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "COMMIT")
    type_names = {"double": "double precision", "varchar": "character varying"}

    def hex_to_bigint(self, hex_text: exp.Expr) -> exp.Expr:
        bits = exp.cast(
            exp.DPipe(this=exp.Literal.string("x"), expression=hex_text),
            exp.DataType.build("BIT(60)", dialect="postgres"),
        )
        return exp.cast(bits, "bigint")

    fingerprint_algorithm = "postgres-hash_record_extended"

    def row_hash(self, columns: list[exp.Expr]) -> exp.Expr:
        # The hash of the typed row that hash partitioning uses (stable across major versions,
        # or pg_upgrade would break hash-partitioned tables): ~4x cheaper than md5 of the text.
        # Equal values hash equally (numeric 1.0 and 1.00, as `=` says).
        row = exp.Anonymous(this="ROW", expressions=columns)
        return exp.func("HASH_RECORD_EXTENDED", row, exp.Literal.number(0))

    def schema_query(self, relation: exp.Table) -> exp.Expr:
        # format_type shows the declared type with its modifiers (varchar(20), numeric(10,2)).
        name = exp.table_(relation.name, db=relation.db or None, quoted=True).sql("postgres")
        oid = exp.cast(exp.Literal.string(name), exp.DataType.build("REGCLASS", "postgres"))
        conditions = [
            exp.column("attrelid").eq(oid),
            exp.column("attnum") > exp.Literal.number(0),
            exp.Not(this=exp.column("attisdropped")),
        ]
        if relation.catalog:  # a relation of another database is not this one's namesake
            conditions.append(exp.func("CURRENT_DATABASE").eq(exp.Literal.string(relation.catalog)))
        return (
            exp.select("attname", exp.func("FORMAT_TYPE", "atttypid", "atttypmod"))
            .from_(exp.table_("pg_attribute", db="pg_catalog"))
            .where(exp.and_(*conditions))
            .order_by("attnum")
        )


class Spark(Dialect):
    name = "spark"
    sqlglot = "spark"
    dbt_types = ("spark", "databricks")
    audit_by_partition = True
    location_parameters = ("spark.sql.warehouse.dir",)  # a `session` profile's host is "NA"
    type_names = {"varchar": "string", "integer": "int"}
    fingerprint_algorithm = "spark-xxhash64"

    def epoch_seconds(self, ts: exp.Expr) -> exp.Expr:
        return exp.cast(ts, "double")  # seconds since the epoch, with the fraction

    def row_hash(self, columns: list[exp.Expr]) -> exp.Expr:
        # Spark's xxhash64 skips NULL arguments, so (NULL, 'a') and ('a', NULL) would hash
        # alike: each column is followed by its own IS NULL flag.
        args: list[exp.Expr] = []
        for c in columns:
            args += [c, exp.Is(this=c.copy(), expression=exp.Null())]
        return exp.func("XXHASH64", *args)

    def schema_query(self, relation: exp.Table) -> exp.Expr:
        return exp.Describe(this=relation.copy(), kind="TABLE")

    def schema_rows(self, rows: list[tuple[object, ...]]) -> list[tuple[str, str]]:
        # DESCRIBE TABLE appends partition information after an empty or '#' row.
        columns: list[tuple[object, ...]] = []
        for r in rows:
            if not r[0] or str(r[0]).startswith("#"):
                break
            columns.append(r)
        return super().schema_rows(columns)


class Snowflake(Dialect):
    name = sqlglot = "snowflake"
    dbt_types = ("snowflake",)
    regex_is_full_match = True


class BigQuery(Dialect):
    name = sqlglot = "bigquery"
    dbt_types = ("bigquery",)
    type_names = {
        "varchar": "string",
        "bigint": "int64",
        "integer": "int64",
        "double": "float64",
        "boolean": "bool",
        "timestamp": "datetime",
    }


class Trino(Dialect):
    name = sqlglot = "trino"
    dbt_types = ("trino",)


DIALECTS: dict[str, type[Dialect]] = {
    d.name: d for d in (DuckDB, Postgres, Spark, Snowflake, BigQuery, Trino)
}
DEFAULT_DIALECTS = ("duckdb", "postgres", "spark")


def dbt_type_expression(logical: str) -> str:
    """A Jinja expression for schema YAML that names `logical` on whichever adapter runs.

    dbt renders schema YAML at parse time, where `target` is known but macros are not.
    """
    parts = []
    for dialect in DIALECTS.values():
        name = dialect.type_names.get(logical)
        if name:
            adapters = "".join(f"'{t}', " for t in dialect.dbt_types)
            parts.append(f"'{name}' if target.type in ({adapters.rstrip()}) else")
    if not parts:
        return logical
    return "{{ " + " ".join(parts) + f" '{logical}' }}}}"


def dialect_for_adapter(adapter_type: str) -> Dialect:
    """The dialect of a dbt adapter type (`target.type`: duckdb, postgres, redshift, ...)."""
    for dialect in DIALECTS.values():
        if adapter_type in dialect.dbt_types:
            return dialect()
    from validator.errors import UsageError

    served = sorted(t for d in DIALECTS.values() for t in d.dbt_types)
    raise UsageError(
        f"labelpact has no SQL dialect for dbt adapter type '{adapter_type}' "
        f"(it reads {', '.join(served)})"
    )


def get_dialect(name: str) -> Dialect:
    """The dialect object for an engine name (`duckdb`, `postgres`, ...)."""
    try:
        return DIALECTS[name]()
    except KeyError:
        from validator.errors import UsageError, did_you_mean

        raise UsageError(
            f"unknown dialect '{name}'; {did_you_mean(name, list(DIALECTS))}"
        ) from None
