"""The public Python API (`validator.__all__`) is documented in docs/api.md, and the docs name
every parameter of every function (a new parameter without docs fails here)."""

from __future__ import annotations

import inspect
import re

import pytest
from helpers import ROOT

import validator

DOCS = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
NAMES = sorted(n for n in validator.__all__ if n != "__version__")


def _section(name: str) -> str:
    heading = re.search(rf"^### .*\b{re.escape(name)}\b.*$", DOCS, flags=re.M)
    assert heading, f"docs/api.md has no section for {name}"
    rest = DOCS[heading.end() :]
    following = re.search(r"^##", rest, flags=re.M)
    return heading.group(0) + (rest[: following.start()] if following else rest)


@pytest.mark.parametrize("name", NAMES)
def test_every_public_name_is_documented(name: str) -> None:
    obj = getattr(validator, name)
    section = _section(name)
    if inspect.isfunction(obj):
        for param in inspect.signature(obj).parameters:
            assert param in section, f"docs/api.md: {name} does not mention `{param}`"


def test_the_api_is_importable_from_the_package() -> None:
    assert validator.validate.__module__ == "validator.verdict.validate"
    assert not inspect.ismodule(validator.validate)  # no name shadows a module
