"""A gate that cannot be fooled (issue #16): every way the data, the contract, the compiled
checks, the ledger or the warehouse can differ from a signed verdict, and `gate` names it.

One validation per engine (a copy of the project in a temporary directory, a signing key and
the trusted public key configured); each case restores that validated state, changes one thing
and asks the gate. The in-toto envelope is verified with securesystemslib, not our own code.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import ENGINES, ROOT, SPARK_UNSUPPORTED

from validator.engines.dbt_runner import DbtProject
from validator.engines.warehouse import Warehouse
from validator.errors import EngineError, ExitCode
from validator.example import data as exampledata
from validator.settings import Settings
from validator.verdict.gate import gate
from validator.verdict.ledger import entry_hash
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


@dataclass
class Validated:
    """One engine's validated project, and how to put it back as it was validated."""

    engine: str
    settings: Settings
    project: DbtProject
    pristine: Path  # a copy of the project, the ledger (and the DuckDB file) as validated
    source: Path  # the DuckDB file the data came from (PostgreSQL reloads it)
    pg: dict[str, str]

    def restore(self) -> None:
        for name in ("contracts", "checks", "models", "expectations"):
            shutil.rmtree(self.settings.project_dir / name)
            shutil.copytree(self.pristine / name, self.settings.project_dir / name)
        ledger = self.settings.ledger_path
        for path in (ledger, ledger.with_name(ledger.name + ".head")):
            shutil.copy(self.pristine / path.name, path)
        if self.engine == "duckdb":
            shutil.copy(self.pristine / "labelpact.duckdb", _db(self.settings))
        else:
            exampledata.load_into_postgres(self.source, self.pg)

    def sql(self, *statements: str) -> None:
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
def validated(request, keys, duckdb_warehouses, tmp_path_factory) -> Validated:  # type: ignore[no-untyped-def]
    name = request.param
    if name == "spark" and request.module.__name__ in SPARK_UNSUPPORTED:
        pytest.skip(f"not on Spark: {SPARK_UNSUPPORTED[request.module.__name__]}")
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
    if name == "duckdb":
        db = base / "wh" / "labelpact.duckdb"
        db.parent.mkdir()
        shutil.copy(source, db)
        settings = replace(settings, env={"LABELPACT_DUCKDB": str(db)})
        project = DbtProject.from_settings(settings)
    else:
        pg = _pg_database(request.getfixturevalue("pg_server").params)
        exampledata.load_into_postgres(source, pg)
        settings = replace(settings, target="postgres", env=_pg_env(pg))
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
    return Validated(name, settings, project, pristine, source, pg)


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


def _retype(v: Validated) -> None:
    if v.engine == "postgres":  # PostgreSQL keeps views on the column: drop them first
        v.sql(
            "DROP SCHEMA IF EXISTS labelpact CASCADE",
            "ALTER TABLE raw.annotations ALTER COLUMN annotation_id TYPE numeric(20, 0)",
        )
    else:
        v.sql("ALTER TABLE raw.annotations ALTER COLUMN annotation_id TYPE HUGEINT")


FIRST = "(SELECT min(annotation_id) FROM raw.annotations)"
CASES: dict[str, tuple[Callable[[Validated], Any], str]] = {
    "column added": (
        lambda v: v.sql("ALTER TABLE raw.annotations ADD COLUMN annotator_email VARCHAR"),
        "column added: annotator_email ",
    ),
    "column dropped": (
        lambda v: v.sql(
            "ALTER TABLE raw.annotations DROP COLUMN notes CASCADE"
            if v.engine == "postgres"
            else "ALTER TABLE raw.annotations DROP COLUMN notes"
        ),
        "column dropped: notes ",
    ),
    "column renamed": (
        lambda v: v.sql("ALTER TABLE raw.annotations RENAME COLUMN notes TO note_text"),
        "column added: note_text ",
    ),
    "column retyped, same text": (_retype, "column type changed: annotation_id BIGINT -> "),
    "one row edited": (
        lambda v: v.sql(
            f"UPDATE raw.annotations SET tool = 'cvat-2' WHERE annotation_id = {FIRST}"
        ),
        "data changed since validation: same row count",
    ),
    "one row added": (
        lambda v: v.sql(
            f"INSERT INTO raw.annotations SELECT * FROM raw.annotations "
            f"WHERE annotation_id = {FIRST}"
        ),
        "rows changed (",
    ),
    "one row deleted": (
        lambda v: v.sql(f"DELETE FROM raw.annotations WHERE annotation_id = {FIRST}"),
        "rows changed (",
    ),
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
    assert fp["relation"].replace('"', "").endswith("raw.annotations")  # the source, not a view
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
    else:
        other = replace(s, env=_pg_env(dict(validated.pg, dbname="labelpact")))
        expected = "does not exist"
    annotations = object()  # noqa: F841 - what DuckDB's replacement scan used to pick up
    relation = json.loads(s.ledger_path.read_text().splitlines()[-1])["record"]["contracts"][
        "annotations"
    ]["fingerprint"]["relation"]
    with Warehouse(other) as wh, pytest.raises(EngineError, match=expected) as info:
        wh.fingerprint(relation)
    assert "replacement" not in str(info.value)


def test_ledger_verify_refuses_a_forged_chain_only_with_trusted_keys(
    validated: Validated,
) -> None:
    from validator.verdict.ledger import Ledger, ledger_for

    validated.restore()
    _forge(validated, "kept")
    problems, _ = ledger_for(validated.settings).verify()
    assert len(problems) == 1 and "signature does not match" in problems[0]
    assert Ledger(validated.settings.ledger_path).verify()[0] == []  # the chain alone: intact


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
    assert statement["subject"][0]["name"].replace('"', "").endswith("raw.annotations")
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
    database = str(_db(s).resolve()) if validated.engine == "duckdb" else PG_DATABASE
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
