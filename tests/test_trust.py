"""A gate that cannot be fooled (issue #16): every way the data, the contract, the compiled
checks, the ledger or the warehouse can differ from a signed verdict, and `gate` names it.

One validation per engine (a copy of the project in a temporary directory, a signing key and
the trusted public key configured); each case restores that validated state, changes one thing
and asks the gate. The in-toto envelope is verified with securesystemslib, not our own code.

On Spark the cases share the test session's Spark (`spark_warehouses`): plain Spark tables take
no UPDATE, DELETE or DROP COLUMN, so a case rewrites `raw.annotations` from a pristine copy with
one SELECT (`CREATE TABLE ... AS`), and the next case's restore rewrites it back.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import ENGINES, ROOT

from validator.engines.dbt_runner import DbtProject
from validator.engines.warehouse import Warehouse
from validator.errors import EngineError, ExitCode
from validator.example import data as exampledata
from validator.settings import Settings
from validator.verdict.gate import gate
from validator.verdict.ledger import compare_with_warehouse, entry_hash, ledger_for
from validator.verdict.signing import generate_keys, load_signer
from validator.verdict.validate import validate

PROJECT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "contracts",
    "models",
    "checks",
    "macros",
    "expectations",
)
PG_DATABASE = "labelpact_trust"
SPARK_SCHEMA = "labelpact_trust"  # the views of this module's dbt build, apart from others'
PRISTINE = "trust_pristine.annotations"  # Spark: the validated table, to rewrite from


@dataclass
class Validated:
    """One engine's validated project, and how to put it back as it was validated."""

    engine: str
    settings: Settings
    project: DbtProject
    pristine: Path  # a copy of the project, the ledger (and the DuckDB file) as validated
    source: Path  # the DuckDB file the data came from (PostgreSQL reloads it)
    pg: dict[str, str]
    spark: Any = None  # the test session's SparkSession
    dirty: bool = False  # the warehouse was changed since the last restore

    def restore(self) -> None:
        for name in ("contracts", "checks", "models", "expectations"):
            shutil.rmtree(self.settings.project_dir / name)
            shutil.copytree(self.pristine / name, self.settings.project_dir / name)
        ledger = self.settings.ledger_path
        for path in (ledger, ledger.with_name(ledger.name + ".head")):
            shutil.copy(self.pristine / path.name, path)
        if not self.dirty:
            return
        if self.engine == "duckdb":
            shutil.copy(self.pristine / "labelpact.duckdb", _db(self.settings))
        elif self.engine == "spark":
            self.rewrite("*")
        else:
            exampledata.load_into_postgres(self.source, self.pg)
        self.dirty = False

    def sql(self, *statements: str) -> None:
        self.dirty = True
        if self.engine == "spark":
            for s in statements:
                self.spark.sql(s)
            return
        if self.engine == "duckdb":
            con = duckdb.connect(str(_db(self.settings)))
            try:
                for s in statements:
                    con.execute(s)
            finally:
                con.close()
            return
        import psycopg2

        con = psycopg2.connect(**{k: v for k, v in self.pg.items() if k != "password"})
        try:
            for s in statements:
                con.cursor().execute(s)
            con.commit()
        finally:
            con.close()

    def rewrite(self, select: str, rest: str = "") -> None:
        """Spark: `raw.annotations` becomes `SELECT <select> FROM <pristine copy> <rest>`."""
        self.sql(
            "DROP TABLE raw.annotations",
            f"CREATE TABLE raw.annotations USING parquet AS SELECT {select} FROM {PRISTINE} {rest}",
        )

    def columns(self, **changed: str) -> str:
        """Spark: the pristine table's columns in order, some replaced by an expression (or
        left out: empty text)."""
        names = self.spark.table(PRISTINE).columns
        return ", ".join(changed.get(c, f"`{c}`") for c in names if changed.get(c, c))


def _bare(relation: str) -> str:
    """A relation's name without the dialect's identifier quotes."""
    return relation.replace('"', "").replace("`", "")


def _db(settings: Settings) -> Path:
    """The DuckDB file the repository's profile reads (`LABELPACT_DUCKDB`)."""
    return Path(settings.env["LABELPACT_DUCKDB"])


def _pg_env(pg: dict[str, str]) -> dict[str, str]:
    """The repository's profile pointed at the PostgreSQL database `pg`."""
    return {f"LABELPACT_PG_{k.upper()}": v for k, v in pg.items()}


def _pg_database(params: dict[str, str]) -> dict[str, str]:
    """A database of its own, so the cases may alter tables other tests read."""
    import psycopg2

    admin = psycopg2.connect(**{k: v for k, v in params.items() if k != "password"})
    admin.autocommit = True
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
    admin.cursor().execute(f"CREATE DATABASE {PG_DATABASE}")
    admin.close()
    return dict(params, dbname=PG_DATABASE)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_keys(tmp_path_factory.mktemp("keys"), "ci")


@pytest.fixture(scope="module", params=ENGINES)
def validated(request, keys, duckdb_warehouses, tmp_path_factory) -> Iterator[Validated]:  # type: ignore[no-untyped-def]
    name = request.param
    base = tmp_path_factory.mktemp(f"trust-{name}")
    project_dir = base / "project"
    project_dir.mkdir()
    for item in PROJECT_FILES:
        copy = shutil.copytree if (ROOT / item).is_dir() else shutil.copy
        copy(ROOT / item, project_dir / item)  # type: ignore[operator]
    source = duckdb_warehouses.path(None)
    private, public = keys
    settings = Settings(
        project_dir=project_dir,
        ledger_path=base / "ledger" / "ledger.jsonl",
        signing_key=private,
        trusted_keys=(public,),
    )
    pg: dict[str, str] = {}
    spark = None
    if name == "duckdb":
        db = base / "wh" / "labelpact.duckdb"
        db.parent.mkdir()
        shutil.copy(source, db)
        settings = replace(settings, env={"LABELPACT_DUCKDB": str(db)})
    elif name == "postgres":
        pg = _pg_database(request.getfixturevalue("pg_server").params)
        exampledata.load_into_postgres(source, pg)
        settings = replace(settings, target="postgres", env=_pg_env(pg))
    else:
        warehouses = request.getfixturevalue("spark_warehouses")
        settings = replace(
            settings,
            target="spark",
            env=warehouses.env(None) | {"LABELPACT_SPARK_SCHEMA": SPARK_SCHEMA},
        )
        spark = warehouses.server.session
    project = DbtProject.from_settings(settings)
    run = validate(settings, project=project)
    assert run.exit_code == ExitCode.OK, [r.check_id for r in run.results if r.status != "pass"]
    pristine = base / "pristine"
    for item in ("contracts", "checks", "models", "expectations"):
        shutil.copytree(project_dir / item, pristine / item)
    for path in settings.ledger_path.parent.glob("ledger.jsonl*"):
        shutil.copy(path, pristine / path.name)
    if name == "duckdb":
        shutil.copy(_db(settings), pristine / "labelpact.duckdb")
    elif name == "spark":
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {PRISTINE.split('.')[0]}")
        spark.sql(f"DROP TABLE IF EXISTS {PRISTINE}")
        spark.sql(f"CREATE TABLE {PRISTINE} USING parquet AS SELECT * FROM raw.annotations")
    validated = Validated(name, settings, project, pristine, source, pg, spark)
    yield validated
    if name == "spark":  # leave the shared session's `raw` as the other tests expect it
        validated.restore()
        spark.sql(f"DROP TABLE IF EXISTS {PRISTINE}")
        warehouses.server.forget("raw", "annotations")
        warehouses.loaded = False


# --- the cases: each changes one thing; the gate must refuse and name it ---------------------


def _contract(v: Validated, old: str, new: str) -> None:
    path = v.settings.project_dir / "contracts" / "annotations.yml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _edit_compiled(v: Validated) -> None:
    path = v.settings.project_dir / "checks/labelpact/lp_annotations__checks__approved_tool.sql"
    text = path.read_text()
    assert "\nWHERE\n" in text
    path.write_text(text.replace("\nWHERE\n", "\nWHERE 1 = 0 AND\n", 1))


def _forge(v: Validated, how: str) -> None:
    """Rewrite the last entry as passing with a later date and recompute chain and head."""
    ledger = v.settings.ledger_path
    lines = ledger.read_text().splitlines()
    entry = json.loads(lines[-1])
    entry["record"]["started_at"] = "2099-01-01T00:00:00+00:00"
    entry["hash"] = entry_hash(entry["seq"], entry["prev"], entry["record"])
    if how == "unsigned":
        entry.pop("signature")
    elif how == "other key":
        other, _ = generate_keys(ledger.parent / "forger", "forger")
        signer = load_signer(other)
        entry["signature"] = {"keyid": signer.keyid, "sig": signer.sign(entry["hash"].encode())}
    lines[-1] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    ledger.write_text("\n".join(lines) + "\n")
    head = ledger.with_name(ledger.name + ".head")
    head.write_text(json.dumps({"seq": entry["seq"], "hash": entry["hash"]}))


def _truncate(v: Validated) -> None:
    """A genuine, signed failing verdict is appended; someone without the key cuts it off and
    rewrites the head to name the older, passing entry (the gate would read that one)."""
    ledger = ledger_for(v.settings)
    first = ledger.path.read_text()
    record = json.loads(first.splitlines()[-1])["record"]
    record["contracts"]["annotations"] |= {"status": "fail", "failing": ["annotations.x"]}
    ledger.append(record)
    ledger.path.write_text(first)
    last = json.loads(first.splitlines()[-1])
    head = {"seq": last["seq"], "hash": last["hash"], "ledger": ledger.ledger_id()}
    ledger.head_path.write_text(json.dumps(head))


FIRST = "(SELECT min(annotation_id) FROM raw.annotations)"
FIRST_PRISTINE = f"(SELECT min(annotation_id) FROM {PRISTINE})"


def _add_column(v: Validated) -> None:
    if v.engine == "spark":
        v.sql("ALTER TABLE raw.annotations ADD COLUMNS (annotator_email STRING)")
    else:
        v.sql("ALTER TABLE raw.annotations ADD COLUMN annotator_email VARCHAR")


def _drop_column(v: Validated) -> None:
    if v.engine == "spark":
        v.rewrite(v.columns(notes=""))
    elif v.engine == "postgres":  # PostgreSQL keeps views on the column: CASCADE drops them
        v.sql("ALTER TABLE raw.annotations DROP COLUMN notes CASCADE")
    else:
        v.sql("ALTER TABLE raw.annotations DROP COLUMN notes")


def _rename_column(v: Validated) -> None:
    if v.engine == "spark":
        v.rewrite(v.columns(notes="`notes` AS `note_text`"))
    else:
        v.sql("ALTER TABLE raw.annotations RENAME COLUMN notes TO note_text")


def _retype(v: Validated) -> None:
    if v.engine == "spark":
        v.rewrite(v.columns(annotation_id="CAST(annotation_id AS DECIMAL(20, 0)) AS annotation_id"))
    elif v.engine == "postgres":  # PostgreSQL keeps views on the column: drop them first
        v.sql(
            "DROP SCHEMA IF EXISTS labelpact CASCADE",
            "ALTER TABLE raw.annotations ALTER COLUMN annotation_id TYPE numeric(20, 0)",
        )
    else:
        v.sql("ALTER TABLE raw.annotations ALTER COLUMN annotation_id TYPE HUGEINT")


def _edit_row(v: Validated) -> None:
    if v.engine == "spark":
        edited = f"CASE WHEN annotation_id = {FIRST_PRISTINE} THEN 'cvat-2' ELSE tool END AS tool"
        v.rewrite(v.columns(tool=edited))
    else:
        v.sql(f"UPDATE raw.annotations SET tool = 'cvat-2' WHERE annotation_id = {FIRST}")


def _add_row(v: Validated) -> None:
    if v.engine == "spark":
        v.rewrite("*", f"UNION ALL SELECT * FROM {PRISTINE} WHERE annotation_id = {FIRST_PRISTINE}")
    else:
        v.sql(
            f"INSERT INTO raw.annotations SELECT * FROM raw.annotations "
            f"WHERE annotation_id = {FIRST}"
        )


def _delete_row(v: Validated) -> None:
    if v.engine == "spark":
        v.rewrite("*", f"WHERE annotation_id <> {FIRST_PRISTINE}")
    else:
        v.sql(f"DELETE FROM raw.annotations WHERE annotation_id = {FIRST}")


CASES: dict[str, tuple[Callable[[Validated], Any], str]] = {
    "column added": (_add_column, "column added: annotator_email "),
    "column dropped": (_drop_column, "column dropped: notes "),
    "column renamed": (_rename_column, "column added: note_text "),
    "column retyped, same text": (_retype, "column type changed: annotation_id BIGINT -> "),
    "one row edited": (_edit_row, "data changed since validation: same row count"),
    "one row added": (_add_row, "rows changed ("),
    "one row deleted": (_delete_row, "rows changed ("),
    "contract version bumped": (
        lambda v: _contract(v, "version: 1.2.0", "version: 1.3.0"),
        "contract version changed since validation (1.2.0 -> 1.3.0)",
    ),
    "contract edited, same version": (
        lambda v: _contract(v, "owner:", "# a new comment\nowner:"),
        "contract changed since validation",
    ),
    "compiled SQL hand-edited": (
        _edit_compiled,
        "compiled checks edited since validation: "
        "checks/labelpact/lp_annotations__checks__approved_tool.sql",
    ),
    "forged entry, chain recomputed": (
        lambda v: _forge(v, "kept"),
        "signature does not match",
    ),
    "forged entry, signature removed": (lambda v: _forge(v, "unsigned"), ": unsigned"),
    "forged entry, another key": (
        lambda v: _forge(v, "other key"),
        "signed by an unknown key",
    ),
    "newest entry cut off, head rewritten": (_truncate, "the head anchor: unsigned"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_gate_refuses_and_names_the_reason(validated: Validated, case: str) -> None:
    validated.restore()
    change, reason = CASES[case]
    change(validated)
    verdict = gate("annotations", max_age="1h", settings=validated.settings)
    assert not verdict.allowed
    assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_gate_passes_when_nothing_changed(validated: Validated) -> None:
    validated.restore()
    verdict = gate("annotations", max_age="1h", settings=validated.settings)
    assert verdict.allowed, verdict.reasons
    entry = json.loads(validated.settings.ledger_path.read_text().splitlines()[-1])
    assert entry["signature"]["keyid"] == load_signer(validated.settings.signing_key).keyid
    fp = entry["record"]["contracts"]["annotations"]["fingerprint"]
    assert _bare(fp["relation"]).endswith("raw.annotations")  # the source, not a view
    assert [c[0] for c in fp["schema"]][:2] == ["annotation_id", "item_id"]


def test_gate_refuses_a_verdict_from_another_warehouse(
    validated: Validated, tmp_path: Path
) -> None:
    validated.restore()
    s = validated.settings
    if validated.engine == "duckdb":  # a copy under another name: its catalog is `copy`
        copy = tmp_path / "copy.duckdb"
        shutil.copy(_db(s), copy)
        other = replace(s, env={"LABELPACT_DUCKDB": str(copy)})
    elif validated.engine == "spark":  # a session whose warehouse directory is elsewhere
        other = replace(s, env=s.env | {"LABELPACT_SPARK_WAREHOUSE": str(tmp_path)})
    else:
        other = replace(s, env=_pg_env(dict(validated.pg, dbname="labelpact")))
    verdict = gate("annotations", max_age="1h", settings=other)
    assert not verdict.allowed
    assert len(verdict.reasons) == 1, verdict.reasons
    assert verdict.reasons[0].startswith("verdict from another warehouse: validated on ")
    assert "query failed" not in verdict.reason


def test_a_relation_of_another_warehouse_is_a_clear_error_never_a_replacement_scan(
    validated: Validated, tmp_path: Path
) -> None:
    validated.restore()
    s = validated.settings
    if validated.engine == "duckdb":  # a copied file: the recorded catalog is not there
        copy = tmp_path / "copy.duckdb"
        shutil.copy(_db(s), copy)
        other, expected = replace(s, env={"LABELPACT_DUCKDB": str(copy)}), "Catalog"
    elif validated.engine == "spark":  # one session per process: a database it does not have
        other, expected = s, "TABLE_OR_VIEW_NOT_FOUND"
    else:
        other = replace(s, env=_pg_env(dict(validated.pg, dbname="labelpact")))
        expected = "does not exist"
    annotations = object()  # noqa: F841 - what DuckDB's replacement scan used to pick up
    relation = json.loads(s.ledger_path.read_text().splitlines()[-1])["record"]["contracts"][
        "annotations"
    ]["fingerprint"]["relation"]
    if validated.engine == "spark":
        relation = "`trust_elsewhere`.`annotations`"
    with Warehouse(other) as wh, pytest.raises(EngineError, match=expected) as info:
        wh.fingerprint(relation)
    assert "replacement" not in str(info.value)


def test_ledger_verify_refuses_a_forged_chain_only_with_trusted_keys(
    validated: Validated,
) -> None:
    from validator.verdict.ledger import Ledger

    validated.restore()
    _forge(validated, "kept")
    problems, _ = ledger_for(validated.settings).verify()
    assert len(problems) == 2, problems
    assert "signature does not match" in problems[0]
    assert problems[1].startswith("the head anchor: unsigned")  # the forger rewrote it too
    assert Ledger(validated.settings.ledger_path).verify()[0] == []  # the chain alone: intact


def test_a_rolled_back_ledger_is_caught_by_the_warehouse_mirror(validated: Validated) -> None:
    """Both files put back as they were one entry earlier verify (the signed head of that
    time is genuine); the warehouse mirror still holds the later entry."""
    from validator.verdict.ledger import mirror_to_warehouse

    validated.restore()
    ledger = ledger_for(validated.settings)
    earlier = (ledger.path.read_bytes(), ledger.head_path.read_bytes())
    assert compare_with_warehouse(validated.settings, ledger.entries()) == []
    mirror_to_warehouse(validated.settings, ledger.append(ledger.entries()[-1].record))
    ledger.path.write_bytes(earlier[0])
    ledger.head_path.write_bytes(earlier[1])
    problems, entries = ledger.verify()
    assert problems == []
    assert compare_with_warehouse(validated.settings, entries) == [
        "entry 2: in the warehouse mirror but not in the file"
    ]


def test_attestation_verifies_with_securesystemslib(validated: Validated) -> None:
    from cryptography.hazmat.primitives import serialization
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError
    from securesystemslib.signer import SSlibKey

    from validator.verdict.attest import attest

    validated.restore()
    envelope = attest("annotations", validated.settings)
    public = serialization.load_pem_public_key(validated.settings.trusted_keys[0].read_bytes())
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    keyid = load_signer(validated.settings.signing_key).keyid  # type: ignore[arg-type]
    key = SSlibKey(keyid, "ed25519", "ed25519", {"public": raw.hex()})

    def parsed(doc: dict[str, Any]) -> Envelope:  # from_dict consumes its argument
        return Envelope.from_dict(json.loads(json.dumps(doc)))

    accepted = parsed(envelope).verify([key], 1)
    assert list(accepted) == [keyid]
    statement = json.loads(parsed(envelope).payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert _bare(statement["subject"][0]["name"]).endswith("raw.annotations")
    assert len(statement["subject"][0]["digest"]["sha256"]) == 64
    predicate = statement["predicate"]
    assert (predicate["contract"], predicate["version"], predicate["status"]) == (
        "annotations",
        "1.2.0",
        "pass",
    )
    assert predicate["checks"]["total"] == predicate["checks"]["pass"] > 20
    assert predicate["ledger"]["seq"] == 1
    # a changed payload no longer verifies
    forged = dict(envelope, payload=envelope["payload"][:-4] + "AAA=")
    with pytest.raises(VerificationError):
        parsed(forged).verify([key], 1)


def test_ledger_show_prints_signer_and_warehouse(
    validated: Validated, capsys: pytest.CaptureFixture[str]
) -> None:
    from validator.cli import main

    validated.restore()
    s = validated.settings
    code = main(
        [
            "ledger",
            "show",
            "--ledger",
            str(s.ledger_path),
            "--trusted-keys",
            *map(str, s.trusted_keys),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"signed {load_signer(s.signing_key).keyid}" in out  # type: ignore[arg-type]
    database = {
        "duckdb": str(_db(s).resolve()) if validated.engine == "duckdb" else "",
        "postgres": PG_DATABASE,
        "spark": s.env.get("LABELPACT_SPARK_WAREHOUSE", "?"),
    }[validated.engine]
    line = next(x for x in out.splitlines() if x.strip().startswith("annotations:"))
    assert "raw" in line and f"on {validated.engine} " in line and database in line
    assert "chain intact, signatures verified" in out


def test_keys_come_from_flag_then_environment_then_labelpact_yml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "labelpact.yml").write_text("signing_key: file.key\ntrusted_keys: [keys/]\n")
    monkeypatch.delenv("LABELPACT_SIGNING_KEY", raising=False)
    monkeypatch.delenv("LABELPACT_TRUSTED_KEYS", raising=False)
    s = Settings.from_env(project_dir=tmp_path)
    assert (s.signing_key, s.trusted_keys) == (tmp_path / "file.key", (tmp_path / "keys",))
    monkeypatch.setenv("LABELPACT_SIGNING_KEY", "/env.key")
    monkeypatch.setenv("LABELPACT_TRUSTED_KEYS", "/a.pub:/b")
    s = Settings.from_env(project_dir=tmp_path)
    assert (s.signing_key, s.trusted_keys) == (Path("/env.key"), (Path("/a.pub"), Path("/b")))
    s = Settings.from_env(project_dir=tmp_path, signing_key=Path("/flag.key"))
    assert s.signing_key == Path("/flag.key")


def test_a_new_entry_never_replaces_a_different_mirrored_one(validated: Validated) -> None:
    """After a rollback the next entry takes the number of one the mirror holds: that row is
    the evidence and stays; re-mirroring refuses too, unless the rows are identical."""
    from validator.verdict.ledger import Ledger, MirrorConflict, mirror_all, mirror_to_warehouse

    settings = replace(
        validated.settings,
        ledger_path=validated.settings.ledger_path.parent / "rollback" / "ledger.jsonl",
    )
    ledger = Ledger(settings.ledger_path)
    record = ledger_for(validated.settings).entries()[0].record
    first = ledger.append(record | {"started_at": "2003-01-01T00:00:00+00:00"})
    mirror_to_warehouse(settings, first)
    earlier = (ledger.path.read_bytes(), ledger.head_path.read_bytes())
    later = ledger.append(record | {"started_at": "2003-01-02T00:00:00+00:00"})
    mirror_to_warehouse(settings, later)
    ledger.path.write_bytes(earlier[0])
    ledger.head_path.write_bytes(earlier[1])
    new = ledger.append(record | {"started_at": "2003-01-03T00:00:00+00:00"})
    with pytest.raises(MirrorConflict, match="holds a different entry 2 for this ledger"):
        mirror_to_warehouse(settings, new)
    ledger_id = ledger.ledger_id()
    assert ledger_id == first.hash
    with pytest.raises(MirrorConflict, match="may have been rolled back"):
        mirror_all(settings, ledger.entries(), ledger_id)
    assert compare_with_warehouse(settings, [first, later]) == []  # the evidence is intact
    mirror_all(settings, [first], ledger_id)  # an identical row is rewritten as before
    assert compare_with_warehouse(settings, [first, new]) == [
        "entry 2: differs between the file and the warehouse mirror"
    ]
