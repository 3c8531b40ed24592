"""Compile speed: N annotation contracts, each with its own column names, and the dbt parse.

    .venv/bin/python bench/compile.py --contracts 200

Contract i is the example `annotations` contract with every column renamed `<name>_<i>`, so no
two contracts share a name (the shape cache in `validator/compiler/sql/shapes.py` must abstract
names to
help). Measured, each in its own process: `labelpact lint`+`compile` as a user runs it (wall,
Python start-up included), `dbt parse` of the generated project (from scratch, and again with
nothing changed, when dbt's partial parsing reuses the first parse), and `dbt parse` of an
empty project. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PY, ROOT, empty_project, measure


def _renamed(node, suffix: str, names: set[str], key: str | None = None):  # type: ignore[no-untyped-def]
    if isinstance(node, dict) and key is not None and "contract" in node:
        return node  # names another contract's columns ({contract: items, column: item_id})
    if isinstance(node, dict):
        return {
            (f"{k}{suffix}" if key == "columns" else k): _renamed(v, suffix, names, k)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_renamed(v, suffix, names, key) for v in node]
    if isinstance(node, str) and key == "expression":  # a SQL expression over the columns
        return re.sub(r"\b(" + "|".join(map(re.escape, names)) + r")\b", rf"\1{suffix}", node)
    if isinstance(node, str) and node in names and key not in ("description", "contract"):
        return f"{node}{suffix}"
    return node


def write_contracts(target: Path, n: int) -> None:
    """`n` contracts: the three shared ones and n-3 renamed copies of `annotations`."""
    contracts = target / "contracts"
    contracts.mkdir(parents=True)
    for name in ("adjudications", "instruction_versions", "items"):
        shutil.copy(ROOT / "contracts" / f"{name}.yml", contracts)
    base = yaml.safe_load((ROOT / "contracts" / "annotations.yml").read_text())
    names = set(base["columns"])
    for i in range(n - 3):
        doc = _renamed(base, f"_{i}", names)
        doc["contract"] = f"annotations_{i}"
        doc["source"] = {"dbt_source": f"raw.annotations_{i}"}
        doc.pop("adjudication", None)  # adjudications names the columns of `annotations`
        doc.pop("audits", None)  # so does audit_results (its records name `annotations`' key)
        (contracts / f"annotations_{i}.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, target)
    shutil.copytree(ROOT / "macros", target / "macros")


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contracts", type=int, default=200)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="labelpact-compile-bench-"))
    dbt = str(Path(PY).parent / "dbt")
    try:
        project = work / "project"
        write_contracts(project, args.contracts)
        lint = measure([PY, "-m", "validator", "lint", "contracts"], cwd=project)
        compiled = measure([PY, "-m", "validator", "compile"], cwd=project)
        assert compiled["exit"] == 0, "compile failed"
        files = sum(1 for p in project.rglob("*") if p.is_file())
        parse_env = {"DBT_PROFILES_DIR": str(project)}
        parse = measure([dbt, "parse", "--no-partial-parse", "--quiet"], cwd=project, env=parse_env)
        # dbt's partial parsing: a second parse with nothing changed reuses the first one.
        measure([dbt, "parse", "--quiet"], cwd=project, env=parse_env)
        reparse = measure([dbt, "parse", "--quiet"], cwd=project, env=parse_env)
        empty = work / "empty"
        empty_project(empty)
        parse_empty = measure(
            [dbt, "parse", "--no-partial-parse", "--quiet"],
            cwd=empty,
            env={"DBT_PROFILES_DIR": str(empty)},
        )
        example = measure([dbt, "parse", "--no-partial-parse", "--quiet"], cwd=ROOT)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "contracts": args.contracts,
        "files": files,
        "lint": lint,
        "compile": compiled,
        "dbt_parse_generated": parse,
        "dbt_reparse_generated_unchanged": reparse,
        "dbt_parse_example_project": example,
        "dbt_parse_empty": parse_empty,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
