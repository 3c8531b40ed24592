"""A generated corpus of bad contracts with their exact expected lint output.

Every field of the contract language (walked from `validator.contract.spec.CONTRACT`) is broken
three ways inside otherwise valid example contracts: a value of the wrong type, a misspelt key
(expects a suggestion), and, for column references, a column that does not exist. The
expected output lives in `tests/lint_corpus.json`; regenerate every golden with
`./run regen` and review the diff.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from helpers import ROOT
from validator.contract import spec as S
from validator.contract.lint import lint
from validator.errors import render_problems

CORPUS = ROOT / "tests" / "lint_corpus.json"
HOME = {"registry": "instruction_versions", "adjudication_record": "adjudications"}


def _examples() -> dict[str, dict[str, Any]]:
    files = sorted((ROOT / "contracts").glob("*.yml"))
    return {p.stem: yaml.safe_load(p.read_text()) for p in files}


def _leaves(spec: S.Spec, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], S.Spec]]:
    out: list[tuple[tuple[str, ...], S.Spec]] = []
    if isinstance(spec, S.Obj):
        for key, fld in spec.fields.items():
            out.append(((*path, key), fld.spec))
            if isinstance(fld.spec, S.Obj):
                out.extend(_leaves(fld.spec, (*path, key)))
    return out


def _wrong_value(spec: S.Spec) -> Any:
    if isinstance(spec, (S.Obj, S.MapOf)):
        return ["not", "a", "mapping"]
    if isinstance(spec, S.ListOf):
        return {"not": "a list"}
    if isinstance(spec, S.Bool):
        return "sometimes"
    if isinstance(spec, S.Num):
        return "a lot"
    return {"nested": "mapping"}


def cases() -> dict[str, tuple[str, dict[str, dict[str, Any]]]]:
    """name -> (contract file changed, all contract documents)."""
    base = _examples()
    out: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {}
    column = {"type": "varchar", "description": "x"}
    for path, spec in _leaves(S.CONTRACT, ()):
        if path[0] == "columns":
            continue
        home = HOME.get(path[0], "annotations")
        for kind in ("wrong_type", "misspelt_key", "unknown_column"):
            if kind == "unknown_column" and not isinstance(spec, S.ColRef):
                continue
            docs = copy.deepcopy(base)
            doc = docs[home]
            parent = doc
            for key in path[:-1]:
                parent = parent.setdefault(key, {})
            last = path[-1]
            if kind == "wrong_type":
                parent[last] = _wrong_value(spec)
            elif kind == "misspelt_key":
                value = parent.pop(last, None)
                parent[last[:-1] + last[-1] * 2 if len(last) > 2 else last + "x"] = (
                    value if value is not None else 1
                )
            else:
                parent[last] = "no_such_column"
            out[f"{kind}:{'.'.join(path)}"] = (home, docs)
    for key in S.COLUMN.fields:
        for kind in ("wrong_type", "misspelt_key"):
            docs = copy.deepcopy(base)
            col = docs["annotations"]["columns"].setdefault("extra_probe", dict(column))
            docs["annotations"]["extra_columns"] = "allow"
            if kind == "wrong_type":
                col[key] = _wrong_value(S.COLUMN.fields[key].spec)
            else:
                col[key + "x"] = col.pop(key, True)
            out[f"{kind}:columns.<col>.{key}"] = ("annotations", docs)
    return out


def render(docs: dict[str, dict[str, Any]]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc in docs.items():
            (Path(tmp) / f"{name}.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
        old = os.getcwd()
        os.chdir(tmp)
        try:
            report = lint([Path(".")])
            text = render_problems(report.problems, excerpts=False)
            return f"{text}\nexit {int(report.exit_code)}"
        finally:
            os.chdir(old)
