"""Property-based tests: the loader never crashes, identifiers and literals always round-trip."""

from __future__ import annotations

import pytest
import sqlglot
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from validator.compiler.sql.templates import literal, template
from validator.contract.model import RawContract
from validator.contract.resolve import resolve
from validator.contract.yamlload import load_bytes

DIALECTS = ["duckdb", "postgres", "snowflake", "bigquery", "spark", "trino"]
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_loader_never_crashes_on_bytes(data: bytes) -> None:
    node, problems = load_bytes(data, "fuzz.yml")
    assert node is not None or problems


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "contract",
                "version",
                "owner",
                "source",
                "columns",
                "key",
                "agreement",
                "coverage",
                "uncertainty",
                "extra_columns",
                "revisions",
            ]
        )
        | TEXT,
        yaml_values,
        max_size=8,
    )
)
def test_resolver_never_crashes_on_documents(doc: dict[str, object]) -> None:
    text = yaml.safe_dump(doc, allow_unicode=True)
    node, problems = load_bytes(text.encode("utf-8"), "doc.yml")
    if node is not None:
        contracts, found = resolve([RawContract("doc.yml", node)])
        assert all(p.loc.line >= 1 and p.loc.col >= 1 for p in found)
        assert contracts or found or problems


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=150, deadline=None)
@given(name=TEXT)
def test_any_identifier_round_trips(dialect: str, name: str) -> None:
    if dialect == "bigquery":
        # BigQuery reads `a.b` inside backticks as a path; its column names cannot hold dots.
        name = name.replace(".", "_")
    query = template("SELECT t.p_c FROM x AS t", ids={"p_c": name})
    parsed = sqlglot.parse_one(query.sql(dialect=dialect), read=dialect)
    (column,) = list(parsed.find_all(exp.Column))
    assert column.name == name


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=150, deadline=None)
@given(
    value=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
    )
)
def test_any_literal_is_quoted(dialect: str, value: str) -> None:
    query = exp.select(exp.alias_(literal(value), "v"))
    parsed = sqlglot.parse_one(query.sql(dialect=dialect), read=dialect)
    literals = list(parsed.find_all(exp.Literal))
    assert len(literals) == 1 and literals[0].this == value
    assert not list(parsed.find_all(exp.Drop))
