"""A local Apache Spark for the tests: one in-process SparkSession (local[2]) per test session.

dbt-spark's `session` method calls `SparkSession.builder...getOrCreate()` in this process, so
the session started here, with its warehouse in a temporary directory, is the one dbt builds
in. Nothing is written to the working directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# Tuned for many small queries, where Spark's CPU goes to compiling code, not to data: the JIT's
# quick compiler only, no generated code (expressions are interpreted), one shuffle partition.
# That halves the CPU time of a dbt build here (~17 s to ~8 s). The in-memory catalog skips the
# Hive metastore (Derby), which cost another fifth; dbt's views and tables behave the same.
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=256m"
SETTINGS = {
    "spark.sql.catalogImplementation": "in-memory",
    "spark.sql.session.timeZone": "UTC",  # contract `timestamp` columns hold UTC times
    "spark.sql.shuffle.partitions": "1",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


class SparkServer:
    """Start with `start()`, stop with `stop()`; dbt's profile settings in `env`."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="labelpact-spark-"))
        self.env = {
            "LABELPACT_SPARK_WAREHOUSE": str(self.dir),
            "LABELPACT_SPARK_SCHEMA": "labelpact",
        }
        self.session: Any = None
        self._loaded: dict[tuple[str, str], tuple[str, Any]] = {}  # (schema, table): (ddl, rows)

    def start(self) -> SparkServer:
        if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
            raise RuntimeError(
                "Java not found: Spark needs a JRE (./run installs openjdk-17-jre-headless)"
            )
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master("local[2]")
            .appName("labelpact-tests")
            .config("spark.sql.warehouse.dir", str(self.dir / "warehouse"))
            .config("spark.driver.extraJavaOptions", JVM_OPTIONS)
        )
        for key, value in SETTINGS.items():
            builder = builder.config(key, value)
        # dbt-spark's `getOrCreate()` (with Hive support asked for) returns this session.
        self.session = builder.getOrCreate()
        # dbt-spark passes static settings on every query, and Spark warns each time.
        self.session.sparkContext.setLogLevel("ERROR")
        return self

    def load(self, duckdb_path: Path, schema: str = "raw") -> dict[str, int]:
        """Copy the tables of `schema` in a DuckDB file into the Spark database `schema`.

        Column types are DuckDB's (a fault may have changed them), named as Spark names them
        by the dialect layer. A table identical to the one this server loaded last is kept
        (most faults change one table); others are replaced, and tables not in the file dropped.
        """
        import duckdb

        from validator.compiler.sql.dialects import get_dialect
        from validator.example.data import duckdb_tables

        spark_types = get_dialect("spark").type_names
        spark = self.session
        src = duckdb.connect(str(duckdb_path), read_only=True)
        counts: dict[str, int] = {}
        try:
            spark.sql(f"CREATE DATABASE IF NOT EXISTS `{schema}`")
            for table, columns in duckdb_tables(src, schema):
                ddl = ", ".join(
                    f"`{c}` {spark_types.get(t.lower(), t.lower())}" for c, t in columns
                )
                rows = src.sql(f'SELECT * FROM "{schema}"."{table}"').to_arrow_table()
                counts[table] = rows.num_rows
                previous = self._loaded.get((schema, table))
                if previous and previous[0] == ddl and previous[1].equals(rows):
                    continue
                (
                    spark.createDataFrame(rows, schema=ddl)
                    .coalesce(1)
                    .write.mode("overwrite")
                    .saveAsTable(f"`{schema}`.`{table}`")
                )
                self._loaded[(schema, table)] = (ddl, rows)
        finally:
            src.close()
        for stale in [k for k in self._loaded if k[0] == schema and k[1] not in counts]:
            spark.sql(f"DROP TABLE IF EXISTS `{schema}`.`{stale[1]}`")
            del self._loaded[stale]
        return counts

    def forget(self, schema: str, table: str) -> None:
        """A test changed `schema.table` itself: the next `load` writes it again."""
        self._loaded.pop((schema, table), None)

    def stop(self) -> None:
        try:
            if self.session is not None:
                self.session.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
