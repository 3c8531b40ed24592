"""SQL injection: hostile strings in every place a contract string reaches SQL, built for real
on DuckDB and PostgreSQL. Nothing executes; values are compared as the literals they are."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from helpers import ROOT

from validator.cli import main
from validator.contract.lint import lint
from validator.engines.dbt_runner import DbtProject

PAYLOADS = [
    "'; DROP TABLE victim; --",
    "'); DROP TABLE victim; --",
    "' OR '1'='1",
    "' OR 1=1 --",
    "\\'; DROP TABLE victim; --",
    "\\",
    "trailing backslash \\",
    "'' ; DROP TABLE victim",
    '"; DROP TABLE victim; --',
    "`; DROP TABLE victim; --",
    "$$; DROP TABLE victim; $$",
    "$tag$ DROP TABLE victim $tag$",
    "*/ DROP TABLE victim /*",
    "/* comment */",
    "-- just a comment",
    "x\n; DROP TABLE victim",
    "x\r\n' ; DROP TABLE victim; --",
    "1; COPY victim TO '/tmp/labelpact-pwned.csv'",
    "'; ATTACH '/tmp/pwned.duckdb' AS p; --",
    "'; SELECT pg_sleep(10); --",
    "'; INSERT INTO victim VALUES (666); --",
    "%s %d %(x)s",
    "{0} {name}",
    "U&'\\0041'",
    "E'\\x41'",
    "\u2019 unicode quote \u2018",
    "\u02bc; DROP TABLE victim; --",
    "null",
    "NULL",
    "select",
    "label; drop table x",
    "semi;colon",
]


HOSTILE_EXPRESSIONS = [
    "1=1; DROP TABLE victim",
    "c00 = 'x'; DROP TABLE victim; --",
    "c00 = 'x'' -- ; DROP TABLE victim",
    "DROP TABLE victim",
    "DELETE FROM victim",
    "INSERT INTO victim VALUES (1)",
    "UPDATE victim SET a = 1",
    "COPY victim TO '/tmp/x.csv'",
    "ATTACH '/tmp/x.duckdb' AS x",
    "c00 IN (SELECT a FROM victim)",
    "EXISTS (SELECT 1 FROM victim)",
    "(SELECT count(*) FROM victim) = 0",
    "read_csv('/etc/passwd') IS NOT NULL",
    "read_parquet('/tmp/x.parquet') IS NULL",
    "pg_read_file('/etc/passwd') IS NOT NULL",
    "pg_sleep(10) IS NULL",
    "pg_ls_dir('/') IS NULL",
    "lo_import('/etc/passwd') > 0",
    "current_setting('data_directory') IS NOT NULL",
    "set_config('x', 'y', false) IS NULL",
    "query('DROP TABLE victim') IS NULL",
    "glob('/etc/*') IS NULL",
    "victim.a = 1",
    "c00",
    "*",
    "c00 = ?",
    "c00 = $1",
    "no_such_column = 1",
    "'; DROP TABLE victim; --",
    "c00 = 'x'' OR 1=1",
    "BEGIN; DROP TABLE victim; COMMIT",
    "c00 = 'a' UNION SELECT 1",
]


def test_hostile_expressions_are_rejected_at_lint(tmp_path: Path) -> None:
    doc = _contract(CARRIED[:2])
    doc["checks"] = [
        {"name": f"e{i:02d}", "expression": e} for i, e in enumerate(HOSTILE_EXPRESSIONS)
    ]
    (tmp_path / "c.yml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    problems = lint([tmp_path]).problems
    flagged = {
        int(m.group(1))
        for p in problems
        if (m := re.match(r"checks\[(\d+)\]\.expression: ", p.message))
    }
    assert flagged == set(range(len(HOSTILE_EXPRESSIONS))), [p.message for p in problems]
    assert len(HOSTILE_EXPRESSIONS) >= 30


def test_comments_in_expressions_never_reach_sql() -> None:
    from validator.compiler.sql.predicates import parse_predicate

    tree = parse_predicate("c00 = 'x' -- */ DROP TABLE victim /*", ["c00"])
    for dialect in ("duckdb", "postgres", "spark", "snowflake", "bigquery", "trino"):
        assert "DROP" not in tree.sql(dialect=dialect)


def _contract(payloads: list[str]) -> dict[str, object]:
    columns: dict[str, object] = {
        "id": {"type": "bigint", "required": True, "unique": True, "description": "row id"}
    }
    for i, p in enumerate(payloads):
        columns[f"c{i:02d}"] = {
            "type": "varchar",
            "accepted_values": [p],
            "pattern": "^" + re.escape(p) + "$",
            "description": p,
        }
    # user SQL predicates carrying each payload as a (correctly escaped) string literal
    checks = [
        {"name": f"e{i:02d}", "expression": f"c{i:02d} = '" + p.replace("'", "''") + "'"}
        for i, p in enumerate(payloads)
    ]
    return {
        "contract": "inj",
        "version": "1.0.0",
        "owner": payloads[0],
        "description": payloads[1],
        "source": {"dbt_source": "raw.inj"},
        "key": ["id"],
        "columns": columns,
        "checks": checks,
    }


# dbt renders YAML through Jinja, which turns \r\n into \n: lint refuses such values.
CARRIED = [p for p in PAYLOADS if "\r" not in p]


def test_there_are_at_least_thirty_payloads() -> None:
    assert len(CARRIED) >= 30


def test_values_dbt_would_alter_are_rejected_at_lint(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text(yaml.safe_dump(_contract(PAYLOADS), allow_unicode=True))
    messages = [p.message for p in lint([tmp_path]).problems]
    assert messages and all("control character '\\r'" in m for m in messages)


def test_payload_column_names_are_safe_or_rejected_at_lint(tmp_path: Path) -> None:
    columns = {p: {"type": "varchar"} for p in PAYLOADS}
    doc = {
        "contract": "names",
        "version": "1.0.0",
        "owner": "o",
        "source": {"dbt_source": "raw.names"},
        "columns": columns,
    }
    (tmp_path / "names.yml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    report = lint([tmp_path])
    # quotes cannot be escaped by dbt's quoting, control characters are refused, and "NULL"
    # differs from "null" only in case; every other payload is a legal, quoted column name
    expected = [p for p in PAYLOADS if '"' in p or "`" in p or any(ord(c) < 32 for c in p)]
    assert len(report.problems) == len(expected) + 1
    messages = " ".join(p.message for p in report.problems)
    for payload in expected:
        assert repr(payload) in messages, payload
    assert "column 'null' differs from column 'NULL' only in case" in messages  # keys sorted


@pytest.fixture(scope="module")
def injection_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("injection")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "macros", root / "macros")
    (root / "contracts").mkdir()
    (root / "contracts" / "inj.yml").write_text(
        yaml.safe_dump(_contract(CARRIED), allow_unicode=True, sort_keys=False)
    )
    assert main(["compile", str(root / "contracts"), "--project-dir", str(root)]) == 0
    return root


def _rows() -> list[tuple[object, ...]]:
    n = len(CARRIED)
    good = tuple([1, *CARRIED])
    bad = tuple([2, *["not " + p for p in CARRIED]])
    nulls = tuple([3] + [None] * n)
    return [good, bad, nulls]


def _load(engine_name: str, root: Path, params: dict[str, str] | None) -> dict[str, str]:
    n = len(CARRIED)
    cols = ", ".join(["id BIGINT"] + [f"c{i:02d} VARCHAR" for i in range(n)])
    if engine_name == "duckdb":
        import duckdb

        db = root / "wh" / "labelpact.duckdb"
        db.parent.mkdir(exist_ok=True)
        con = duckdb.connect(str(db))
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute("CREATE OR REPLACE TABLE raw.victim (a INTEGER)")
        con.execute(f"CREATE OR REPLACE TABLE raw.inj ({cols})")
        con.executemany(f"INSERT INTO raw.inj VALUES ({', '.join(['?'] * (n + 1))})", _rows())
        con.close()
        return {"LABELPACT_DUCKDB": str(db)}
    import psycopg2

    assert params is not None
    admin = psycopg2.connect(
        host=params["host"], port=int(params["port"]), user="postgres", dbname="postgres"
    )
    admin.autocommit = True
    admin.cursor().execute("DROP DATABASE IF EXISTS injection")
    admin.cursor().execute("CREATE DATABASE injection")
    admin.close()
    con = psycopg2.connect(
        host=params["host"], port=int(params["port"]), user="postgres", dbname="injection"
    )
    cur = con.cursor()
    cur.execute("CREATE SCHEMA raw")
    cur.execute("CREATE TABLE raw.victim (a INTEGER)")
    cur.execute(f"CREATE TABLE raw.inj ({cols.replace('VARCHAR', 'character varying')})")
    cur.executemany(f"INSERT INTO raw.inj VALUES ({', '.join(['%s'] * (n + 1))})", _rows())
    con.commit()
    con.close()
    return {f"LABELPACT_PG_{k.upper()}": v for k, v in params.items()} | {
        "LABELPACT_PG_DBNAME": "injection"
    }


def _victim_intact(engine_name: str, env: dict[str, str]) -> bool:
    if engine_name == "duckdb":
        import duckdb

        con = duckdb.connect(env["LABELPACT_DUCKDB"], read_only=True)
        rows = con.execute("SELECT count(*) FROM raw.victim").fetchone()
        con.close()
    else:
        import psycopg2

        con = psycopg2.connect(
            host=env["LABELPACT_PG_HOST"],
            port=int(env["LABELPACT_PG_PORT"]),
            user="postgres",
            dbname="injection",
        )
        cur = con.cursor()
        cur.execute("SELECT count(*) FROM raw.victim")
        rows = cur.fetchone()
        con.close()
    return rows == (0,)


@pytest.mark.parametrize("engine_name", ["duckdb", "postgres"])
def test_payloads_are_compared_as_literals_and_never_execute(
    engine_name: str, injection_project: Path, request: pytest.FixtureRequest
) -> None:
    params = request.getfixturevalue("pg_server").params if engine_name == "postgres" else None
    env = _load(engine_name, injection_project, params)
    project = DbtProject(
        injection_project, env=env, target="postgres" if engine_name == "postgres" else None
    )
    result = project.build(env=env)
    errors = {cid: o.message for cid, o in result.outcomes.items() if o.status == "error"}
    assert errors == {}
    for i, payload in enumerate(CARRIED):
        # the exact payload is accepted and matches; "not <payload>" is the one failing row
        for check_id in (
            f"inj.c{i:02d}.accepted_values",
            f"inj.c{i:02d}.pattern",
            f"inj.checks.e{i:02d}",
        ):
            outcome = result.outcomes[check_id]
            assert (outcome.status, outcome.failures) == ("fail", 1), (check_id, payload)
    assert _victim_intact(engine_name, env)
    assert not Path("/tmp/labelpact-pwned.csv").exists()
