"""Render each check *shape* once: the same check over other names reuses the rendered text.

Two hundred contracts hold thousands of checks, but only a few dozen shapes: "a not-null rule",
"Krippendorff's alpha per batch over current rows", and so on. Rendering through sqlglot costs
about a millisecond per statement, so compile renders each shape once with its names replaced
by tokens, then substitutes the real names into the text, each rendered by the dialect as a
quoted identifier (or a string literal, where a name is used as one).

Only parameters a kind declares to hold names are abstracted (fields made with `column()` or
`relation()` in `compiler/kinds/`); any other value is part of the cache key as it is, so a
parameter not declared costs a cache miss, never a wrong rendering. Tokens are injective, so
equal names stay equal. If a token turns up in the text in any other form (say, inside a
derived alias), the shape is not cached and each check of it is rendered directly.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlglot import exp

from validator.compiler.kinds import Params, Role, role
from validator.compiler.plan import Check
from validator.compiler.sql.dialects import Dialect

_NAME = "__lp_n{}__"
_RELATION = "__lp_r{}__"
_TOKEN = re.compile(r"__lp_([nr])(\d+)__")

Build = Callable[[Check, tuple[str, ...]], str]


class _Tokens:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.relations: dict[str, str] = {}

    def name(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.names.setdefault(value, _NAME.format(len(self.names)))
        if isinstance(value, list | tuple):
            return type(value)(self.name(v) for v in value)
        return value  # None: an optional name not given

    def relation(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.relations.setdefault(value, _RELATION.format(len(self.relations)))
        return value


def _abstract(params: Params, tokens: _Tokens) -> Params:
    """`params` with every declared name replaced by its token."""
    changes: dict[str, Any] = {}
    for fld in dataclasses.fields(params):
        value, kind = getattr(params, fld.name), role(fld)
        if kind is Role.COLUMN:
            changes[fld.name] = tokens.name(value)
        elif kind is Role.RELATION:
            changes[fld.name] = tokens.relation(value)
    return dataclasses.replace(params, **changes)


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return (type(value).__name__, value)  # 1 and 1.0 and True render differently


class ShapeCache:
    """Memoised rendering of checks by shape, for one target (`tag`) and its build function."""

    def __init__(self) -> None:
        self._texts: dict[tuple[Any, ...], str | None] = {}
        self.hits = self.misses = 0

    def render(
        self, check: Check, key: tuple[str, ...], dialect: Dialect, tag: str, build: Build
    ) -> str:
        """`build(check, key)` rendered for `check`, reusing the text of an equal shape."""
        if not check.params.by_shape:
            return build(check, key)
        tokens = _Tokens()
        contract, column = tokens.relation(check.contract), tokens.name(check.column)
        params = _abstract(check.params, tokens)
        abstract = dataclasses.replace(
            check,
            id="",
            description="",
            owner="",
            version="",
            severity="",
            contract=contract,
            column=column,
            params=params,
        )
        abstract_key = tokens.name(tuple(key))
        cache_key = (
            tag,
            dialect.name,
            type(params),
            contract,
            column,
            abstract_key,
            tuple((f.name, _frozen(getattr(params, f.name))) for f in dataclasses.fields(params)),
        )
        if cache_key in self._texts:
            self.hits += 1
            text = self._texts[cache_key]
        else:
            self.misses += 1
            text = build(abstract, abstract_key)
            if not _substitutable(text, dialect):
                text = None
            self._texts[cache_key] = text
        if text is None:
            return build(check, key)
        return _substitute(text, tokens, dialect)


def _substitutable(text: str, dialect: Dialect) -> bool:
    """Every name token stands alone as a quoted identifier or a string literal."""
    quote = _identifier_quote(dialect.sqlglot)
    for m in _TOKEN.finditer(text):
        if m.group(1) == "r":
            continue
        before, after = text[m.start() - 1 : m.start()], text[m.end() : m.end() + 1]
        if not before or before != after or before not in (quote, "'"):
            return False
    return True


@lru_cache(maxsize=16)
def _identifier_quote(dialect: str) -> str:
    return exp.to_identifier("x", quoted=True).sql(dialect=dialect)[0]


@lru_cache(maxsize=16)
def _quoted_token(dialect: str) -> re.Pattern[str]:
    return re.compile(f"([{re.escape(_identifier_quote(dialect))}'])__lp_n(\\d+)__\\1")


@lru_cache(maxsize=65536)
def _rendered_name(name: str, dialect: str, as_literal: bool) -> str:
    node = exp.Literal.string(name) if as_literal else exp.to_identifier(name, quoted=True)
    return node.sql(dialect=dialect)


def _substitute(text: str, tokens: _Tokens, dialect: Dialect) -> str:
    names = {v: k for k, v in tokens.names.items()}
    relations = {v: k for k, v in tokens.relations.items()}

    def fill_name(m: re.Match[str]) -> str:
        return _rendered_name(names[_NAME.format(m.group(2))], dialect.sqlglot, m.group(1) == "'")

    text = _quoted_token(dialect.sqlglot).sub(fill_name, text)
    return _TOKEN.sub(lambda m: relations[m.group(0)], text)


SHAPES = ShapeCache()  # shapes are pure functions of labelpact's code: one cache per process
