"""Great Expectations on Apache Spark: the tables of a Spark session through GX's Spark
datasource, for a dbt profile with dbt-spark's `session` method.

GX's Spark datasource validates DataFrames handed to it per batch, so each table's suite runs
with that table's DataFrame (`batch_parameters`); the DataFrames are lazy reads of the session's
tables, so nothing is collected to the driver beyond GX's metric results.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlglot import exp

from validator.engines.gx_sources import Source
from validator.engines.gx_workarounds import Workarounds
from validator.errors import UsageError


class SparkSource(Source):
    """Tables of one database (schema) of the Spark session this process runs."""

    dialect = "spark"
    dataframes = True
    # GX compares a Spark column's type by the name of its DataType class.
    type_names: ClassVar[dict[str, str]] = {
        "BIGINT": "LongType",
        "INTEGER": "IntegerType",
        "VARCHAR": "StringType",
        "DOUBLE": "DoubleType",
        "BOOLEAN": "BooleanType",
        "DATE": "DateType",
        "TIMESTAMP": "TimestampType",
    }

    def __init__(self, session: Any, schema: str) -> None:
        self.session = session
        self.schema = schema

    @classmethod
    def from_credentials(cls, credentials: Any, schema: str) -> SparkSource:
        """The session of a dbt-spark `session` profile (the one dbt builds in)."""
        method = getattr(credentials.method, "value", credentials.method)
        if method != "session":
            raise UsageError(
                f"GX runs on Spark through a session in this process; the profile's method is "
                f"'{credentials.method}' (give --sqlalchemy-url or --parquet-dir instead)"
            )
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.enableHiveSupport()
        for key, value in (credentials.server_side_parameters or {}).items():
            builder = builder.config(key, value)
        return cls(builder.getOrCreate(), schema)

    def add_datasource(self, context: Any, name: str, workarounds: Workarounds) -> Any:
        return context.data_sources.add_spark(name=name, persist=False)

    def add_asset(self, datasource: Any, table: str) -> Any:
        return datasource.add_dataframe_asset(name=table)

    def add_batch(self, asset: Any, name: str) -> Any:
        return asset.add_batch_definition_whole_dataframe(name)

    def batch_parameters(self, table: str) -> dict[str, Any] | None:
        return {"dataframe": self.session.table(self.relation(table))}

    def relation(self, table: str) -> str:
        return exp.table_(table, db=self.schema, quoted=True).sql(dialect=self.dialect)
