"""Rendering by shape (sql/shapes.py) gives exactly the text of rendering each check directly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from validator.compiler.plan import Kind, build_plans
from validator.compiler.sql import shapes
from validator.compiler.sql.checks import failing_rows, placeholder
from validator.compiler.sql.dialects import DIALECTS, get_dialect
from validator.compiler.targets import gx
from validator.contract.resolve import load_contracts

ROOT = Path(__file__).resolve().parent.parent
# Example column names renamed to names that need quoting and differ in length.
RENAMES = {
    "item_id": "Item Id",
    "annotator_id": "who; drop table x",
    "label": "select",
    "batch_id": "b",
    "annotated_at": "Annotated At (UTC)",
    "split": "from",
}


def _plans(contracts_dir: Path):  # type: ignore[no-untyped-def]
    return build_plans(load_contracts([contracts_dir]))


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("renamed")
    for path in (ROOT / "contracts").glob("*.yml"):
        doc = _renamed(yaml.safe_load(path.read_text(encoding="utf-8")))
        (out / path.name).write_text(yaml.safe_dump(doc), encoding="utf-8")
    shutil.copytree(ROOT / "tests/golden/weird_names/contracts", out / "weird")
    return out


def _renamed(node, key=None):  # type: ignore[no-untyped-def]
    """Column names renamed wherever they are a column's key or a value naming a column."""
    if isinstance(node, dict):
        return {
            (RENAMES.get(k, k) if key == "columns" else k): _renamed(v, k) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_renamed(v, key) for v in node]
    if isinstance(node, str) and key not in ("description", "contract"):
        return RENAMES.get(node, node)
    return node


def _direct(check, key, engine):  # type: ignore[no-untyped-def]
    return engine.render(failing_rows(check, placeholder, engine, key), copy=False)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_rendering_by_shape_equals_direct_rendering(renamed: Path, dialect: str) -> None:
    engine = get_dialect(dialect)
    cache = shapes.ShapeCache()
    examples = _plans(ROOT / "contracts")
    others = _plans(renamed)
    assert {c.column for p in others for c in p.checks} & set(RENAMES.values())
    compared = 0
    for plans in (examples, others):
        for plan in plans:
            key = plan.contract.key
            for check in plan.checks:
                if check.kind == Kind.SCHEMA:
                    continue
                cached = cache.render(
                    check, key, engine, "test", lambda ch, k: _direct(ch, k, engine)
                )
                assert cached == _direct(check, key, engine), check.id
                compared += 1
    assert compared > 80
    # The renamed contracts reuse the shapes of the examples: names are abstracted.
    cacheable = [
        c for p in others if p.contract.name != "weird" for c in p.checks if c.params.by_shape
    ]
    assert cache.hits >= len(cacheable)


def test_gx_queries_by_shape_equal_direct(renamed: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    plans = _plans(ROOT / "contracts") + _plans(renamed)

    def queries() -> list[str]:
        out = []
        for plan in plans:
            for check in plan.checks:
                if not check.params.by_shape or check.is_column_rule:
                    continue
                out.append(
                    gx.unexpected_rows_query(
                        check, plan.contract.key, "duckdb", lambda n: f"rel_{n}"
                    )
                )
        return out

    class Direct:
        def render(self, check, key, dialect, tag, build):  # type: ignore[no-untyped-def]
            return build(check, key)

    cache = shapes.ShapeCache()
    monkeypatch.setattr(gx, "SHAPES", cache)
    by_shape = queries()
    monkeypatch.setattr(gx, "SHAPES", Direct())
    assert by_shape == queries()
    assert cache.hits > 0 and len(by_shape) > 20


def test_a_name_token_inside_other_text_is_not_cached() -> None:
    engine = get_dialect("duckdb")
    check = _plans(ROOT / "contracts")[0].checks[1]
    cache = shapes.ShapeCache()

    def build(ch, k):  # type: ignore[no-untyped-def]
        # A rendering that embeds a name in a derived alias cannot be substituted safely.
        return f'SELECT 1 AS "{ch.column}_n"'

    first = cache.render(check, (), engine, "t", build)
    second = cache.render(check, (), engine, "t", build)
    assert first == second == f'SELECT 1 AS "{check.column}_n"'
    assert cache.misses == 1 and cache.hits == 1  # looked up, found uncacheable, built directly
