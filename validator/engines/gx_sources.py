"""Where GX reads the data: a SQL datasource (DuckDB file, PostgreSQL URL) or Parquet files."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from validator.errors import UsageError

if TYPE_CHECKING:
    from validator.engines.gx_workarounds import Workarounds

# --------------------------------------------------------------------------------------------
# Where the tables are. Engine differences are class settings, never `if engine == ...`.
# --------------------------------------------------------------------------------------------


class Source:
    """Tables of one warehouse (or directory) and how GX reads them."""

    dialect: ClassVar[str] = "duckdb"  # SQL dialect of unexpected-rows queries
    gx_regex: ClassVar[bool] = True  # GX renders expect_column_values_to_match_regex here
    gx_sql: ClassVar[bool] = True  # GX runs unexpected_rows_expectation here
    dataframes: ClassVar[bool] = False  # each suite runs on a DataFrame (`batch_parameters`)
    # Committed type name (SQLAlchemy spelling) -> what GX compares on this engine.
    type_names: ClassVar[dict[str, str]] = {}

    def add_datasource(self, context: Any, name: str, workarounds: Workarounds) -> Any:
        raise NotImplementedError

    def add_asset(self, datasource: Any, table: str) -> Any:
        raise NotImplementedError

    def add_batch(self, asset: Any, name: str) -> Any:
        return asset.add_batch_definition(name)  # the whole table or file

    def batch_parameters(self, table: str) -> dict[str, Any] | None:
        """What GX needs at run time to read `table` (None: the asset says it all)."""
        return None

    def relation(self, table: str) -> str:
        """SQL text naming `table` in unexpected-rows queries."""
        raise NotImplementedError


class SqlSource(Source):
    """Any SQLAlchemy URL, read by GX's SQL datasource."""

    connect_args: ClassVar[dict[str, Any]] = {}
    duckdb_engine: ClassVar[bool] = False  # served by duckdb-engine: see Workarounds

    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema

    def add_datasource(self, context: Any, name: str, workarounds: Workarounds) -> Any:
        return workarounds.sql_datasource(self, context, name)

    def add_asset(self, datasource: Any, table: str) -> Any:
        with warnings.catch_warnings():
            # GX 1.14 deprecated `schema_name` in favour of the connection's default schema,
            # which a DuckDB URL cannot carry; it is still honoured.
            warnings.simplefilter("ignore", DeprecationWarning)
            return datasource.add_table_asset(name=table, table_name=table, schema_name=self.schema)

    def relation(self, table: str) -> str:
        return exp.table_(table, db=self.schema, quoted=True).sql(dialect=self.dialect)


class PostgresSource(SqlSource):
    dialect = "postgres"

    @classmethod
    def from_credentials(cls, credentials: Any, schema: str) -> SqlSource:
        """GX reads the warehouse of a dbt postgres profile with the profile's credentials."""
        from sqlalchemy.engine import URL

        url = URL.create(
            "postgresql+psycopg2",
            username=credentials.user,
            password=credentials.password or None,
            host=credentials.host,
            port=credentials.port,
            database=credentials.database,
        )
        return cls(url.render_as_string(hide_password=False), schema)

    # GX compares PostgreSQL's compiled type strings, case-insensitively (not run here yet).
    type_names = {"DOUBLE": "DOUBLE PRECISION", "TIMESTAMP": "TIMESTAMP WITHOUT TIME ZONE"}


class DuckDBSource(SqlSource):
    dialect = "duckdb"
    gx_regex = False  # GX: "Regex is not supported for dialect duckdb"
    connect_args = {"read_only": True}  # validation never writes
    duckdb_engine = True

    @classmethod
    def from_credentials(cls, credentials: Any, schema: str) -> SqlSource:
        """GX reads the file of a dbt duckdb profile."""
        return cls(f"duckdb:///{Path(credentials.path).resolve()}", schema)


class ParquetSource(Source):
    """`<table>.parquet` files in one directory, read by GX's pandas datasource."""

    dialect = "duckdb"  # unexpected-rows queries run in DuckDB over the files
    gx_sql = False  # GX: unexpected_rows_expectation has no pandas implementation
    # pandas dtypes as read with `dtype_backend="numpy_nullable"`: nullable integer columns
    # stay integers (Int64), so a column with a null still has its contracted type.
    type_names = {
        "BIGINT": "int64",
        "INTEGER": "int32",
        "VARCHAR": "str",
        "DOUBLE": "float64",
        "BOOLEAN": "bool",
        "DATE": "object",
        "TIMESTAMP": "datetime64",
    }

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, table: str) -> Path:
        return self.directory / f"{table}.parquet"

    def add_datasource(self, context: Any, name: str, workarounds: Workarounds) -> Any:
        return context.data_sources.add_pandas(name)

    def add_asset(self, datasource: Any, table: str) -> Any:
        path = self.path(table)
        if not path.is_file():
            raise UsageError(f"{path} does not exist")
        return datasource.add_parquet_asset(name=table, path=path, dtype_backend="numpy_nullable")

    def relation(self, table: str) -> str:
        return exp.to_identifier(table, quoted=True).sql(dialect="duckdb")


_SQL_SOURCES: dict[str, type[SqlSource]] = {"duckdb": DuckDBSource, "postgresql": PostgresSource}


# dbt adapter type -> the GX source that reads its warehouse with the profile's credentials.
_PROFILE_SOURCES: dict[str, Any] = {"duckdb": DuckDBSource, "postgres": PostgresSource}


def _source(
    duckdb_path: Path | str | None,
    sqlalchemy_url: str | None,
    parquet_dir: Path | str | None,
    schema: str,
    warehouse: Any = None,
) -> Source:
    given = [x for x in (duckdb_path, sqlalchemy_url, parquet_dir, warehouse) if x is not None]
    if len(given) != 1:
        raise UsageError("give exactly one of duckdb_path, sqlalchemy_url, parquet_dir, warehouse")
    if warehouse is not None:
        from validator.engines.gx_spark import SparkSource

        _PROFILE_SOURCES.setdefault("spark", SparkSource)
        adapter = warehouse.credentials.type
        if adapter not in _PROFILE_SOURCES:
            raise UsageError(
                f"GX does not run on dbt adapter '{adapter}' here (it runs on "
                f"{', '.join(sorted(_PROFILE_SOURCES))}); give --sqlalchemy-url or --parquet-dir"
            )
        return _PROFILE_SOURCES[adapter].from_credentials(warehouse.credentials, schema)
    if parquet_dir is not None:
        return ParquetSource(Path(parquet_dir))
    if duckdb_path is not None:
        path = Path(duckdb_path)
        if not path.is_file():
            raise UsageError(f"DuckDB database {path} does not exist")
        return DuckDBSource(f"duckdb:///{path.resolve()}", schema)
    assert sqlalchemy_url is not None
    backend = sqlalchemy_url.split(":", 1)[0].split("+", 1)[0]
    return _SQL_SOURCES.get(backend, SqlSource)(sqlalchemy_url, schema)
