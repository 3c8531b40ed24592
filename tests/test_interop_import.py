"""`labelpact import FORMAT EXPORT --to DEST`: Label Studio JSON, Prodigy JSONL, CVAT for images,
SageMaker Ground Truth manifests, Argilla records (tests/test_interop_argilla.py has its rows).

Fixtures follow each tool's documented export format (tests/fixtures/interop); hostile exports
must fail naming the record and leave the destination exactly as it was, with no temporary file.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from helpers import ROOT

from validator.cli import main
from validator.contract.lint import lint
from validator.errors import RecordError
from validator.interop import import_export, reader
from validator.interop.rows import COLUMNS, ImportOptions
from validator.interop.table import Destination

FIXTURES = ROOT / "tests" / "fixtures" / "interop"
FIELDS = ("item_id", "annotation_id", "label_index", "annotator", "label")
FLAGS = ("is_cancelled", "is_gold", "is_prediction")


def _rows(fmt: str, name: str, **options: str) -> list[dict]:  # type: ignore[type-arg]
    return list(reader(fmt)(FIXTURES / name, ImportOptions(**options)))  # type: ignore[arg-type]


def _pick(rows: list[dict], *fields: str) -> list[tuple]:  # type: ignore[type-arg]
    return [tuple(r[f] for f in fields) for r in rows]


# --- Label Studio ---------------------------------------------------------------------------


def test_labelstudio_rows() -> None:
    rows = _rows("labelstudio", "labelstudio.json", instruction_field="data.guideline")
    assert _pick(rows, *FIELDS) == [
        ("101", "1001", 0, "7", "cat"),
        ("101", "1002", 0, "8", "cat"),  # multi-label: two rows; the user id, not the email
        ("101", "1002", 1, "8", "dog"),
        ("101", "1003", 0, "9", None),  # cancelled, no result: still one row
        ("101", "prediction-55", 0, "model:resnet-2026-02", "cat"),
        ("102", "1004", 0, "7", "bird"),  # two regions
        ("102", "1004", 1, "7", "fish"),
        ("103", "prediction-56", 0, "model:resnet-2026-02", "other"),
    ]
    assert _pick(rows, *FLAGS) == [
        (False, False, False),
        (False, True, False),  # ground_truth
        (False, True, False),
        (True, False, False),  # was_cancelled
        (False, False, True),
        (False, False, False),
        (False, False, False),
        (False, False, True),
    ]
    assert [r["score"] for r in rows] == [None, None, None, None, 0.87, None, None, 0.42]
    emails = [None, "ann8@example.org", "ann8@example.org", *[None] * 5]
    assert [r["annotator_email"] for r in rows] == emails
    assert [r["instruction_version"] for r in rows][:6] == ["v3"] * 5 + ["v2"]
    # +02:00 is converted to UTC
    assert rows[1]["created_at"] == dt.datetime(2026, 3, 10, 6, 0)
    assert rows[1]["updated_at"] == dt.datetime(2026, 3, 10, 7, 30)
    assert {r["project"] for r in rows} == {"3"} and {r["tool"] for r in rows} == {"label-studio"}


def test_labelstudio_control_filter_and_constant_version() -> None:
    rows = _rows("labelstudio", "labelstudio.json", control="objects", instruction_version="v9")
    labelled = [r["label"] for r in rows if r["label"] is not None]
    assert labelled == ["bird", "fish", "other"]
    assert {r["instruction_version"] for r in rows} == {"v9"}


def test_labelstudio_one_user_is_one_annotator_whether_completed_by_is_an_id_or_an_object(
    tmp_path: Path,
) -> None:
    tasks = [
        {"id": 1, "annotations": [{"id": 10, "completed_by": 8, "result": []}]},
        {
            "id": 2,
            "annotations": [
                {"id": 11, "completed_by": {"id": 8, "email": "ann8@example.org"}, "result": []}
            ],
        },
    ]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    rows = list(reader("labelstudio")(export, ImportOptions()))
    assert _pick(rows, "annotator", "annotator_email") == [("8", None), ("8", "ann8@example.org")]


# --- Prodigy --------------------------------------------------------------------------------


def test_prodigy_rows() -> None:
    rows = _rows("prodigy", "prodigy.jsonl", instruction_field="meta.guideline", project="animals")
    assert _pick(rows, *FIELDS, "answer") == [
        ("-1821528064", "animals-alex:790119437", 0, "animals-alex", "cat", "accept"),
        ("-1821528064", "animals-sam:790119437", 0, "animals-sam", "cat", "accept"),
        ("-1821528064", "animals-sam:790119437", 1, "animals-sam", "dog", "accept"),
        ("1329043794", "animals-alex:-635183979", 0, "animals-alex", None, "ignore"),
        ("807380125", "animals-alex:-2042540719", 0, "animals-alex", "dog", "reject"),
        ("593118804", "animals-sam:-429231777", 0, "animals-sam", "fish", "accept"),
        ("593118804", "animals-sam:-429231777", 1, "animals-sam", "bird", "accept"),
        ("-1821528064", "animals-review:790119437", 0, "animals-review", "cat", "accept"),
    ]
    assert [r["is_cancelled"] for r in rows] == [False] * 3 + [True] + [False] * 4
    assert [r["is_gold"] for r in rows] == [False] * 7 + [True]  # the review recipe's answer
    assert rows[0]["created_at"] == dt.datetime(2026, 3, 10, 10, 0)  # _timestamp 1773136800
    assert rows[4]["score"] == 0.31 and rows[0]["instruction_version"] == "v3"
    assert {r["project"] for r in rows} == {"animals"}


# --- CVAT -----------------------------------------------------------------------------------


def test_cvat_task_rows() -> None:
    rows = _rows("cvat", "cvat_task.xml", instruction_field="guideline")
    assert _pick(rows, *FIELDS, "result_type", "is_prediction") == [
        ("frames/000.jpg", "4:0:0", 0, "ann_7", "car", "box", False),
        ("frames/000.jpg", "4:0:1", 0, "ann_7", "person", "polygon", True),  # source="auto"
        ("frames/000.jpg", "4:0:2", 0, "ann_7", "good_frame", "tag", False),
        ("frames/002.jpg", "4:2:0", 0, "ann_7", "person", "skeleton", False),
    ]
    assert rows[0]["instruction_version"] == "v3" and rows[1]["instruction_version"] is None
    assert rows[0]["created_at"] == dt.datetime(2026, 3, 1, 8, 34, 24, 617558)
    assert rows[0]["updated_at"] == dt.datetime(2026, 3, 2, 9, 0)
    assert {r["project"] for r in rows} == {"street scenes"}


def test_cvat_project_export_has_one_annotator_per_task() -> None:
    rows = _rows("cvat", "cvat_project.xml", gold=True)  # type: ignore[arg-type]
    assert _pick(rows, *FIELDS) == [
        ("img/a.jpg", "11:0:0", 0, "ann_1", "car"),
        ("img/a.jpg", "12:1:0", 0, "admin", "truck"),  # no assignee: the task's owner
    ]
    assert {r["project"] for r in rows} == {"double-labelled streets"}
    assert all(r["is_gold"] for r in rows)


# --- SageMaker Ground Truth ----------------------------------------------------------------


def test_sagemaker_rows() -> None:
    rows = _rows("sagemaker", "sagemaker.manifest")
    text = "The striker scored twice and the keeper saved a penalty."
    assert _pick(rows, "item_id", "annotation_id", "label_index", "label", "score") == [
        ("s3://bucket/sport/0001.jpg", "sport:1", 0, "football", 0.72),
        ("s3://bucket/sport/0002.jpg", "sport:2", 0, "tennis", 0.93),
        ("s3://bucket/sport/0002.jpg", "indoor:2", 0, "indoor", 0.88),  # a chained job
        ("s3://bucket/sport/0003.jpg", "sport:3", 0, None, None),  # expired task
        (text, "topics:4", 0, "football", 0.95),  # multi-label
        (text, "topics:4", 1, "goalkeeping", 0.61),
        ("s3://bucket/pets/0004.jpg", "pets:5", 0, "dog", 0.8),  # one row per box
        ("s3://bucket/pets/0004.jpg", "pets:5", 1, "cat", 0.9),
    ]
    assert [r["is_cancelled"] for r in rows] == [False] * 3 + [True] + [False] * 4
    assert [r["is_prediction"] for r in rows] == [False, True] + [False] * 6  # auto-labelled
    assert rows[2]["project"] == "labeling-job/indoor-outdoor"
    assert rows[0]["created_at"] == dt.datetime(2026, 3, 18, 22, 18, 13, 527256)
    assert {r["annotator"] for r in rows} == {None}  # the output manifest names no worker


# --- hostile exports ------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<annotations><version>1.1</version><image id="0" name="a.jpg"><tag label="&lol2;"/></image>
</annotations>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<annotations><version>1.1</version><image id="0" name="&x;"/></annotations>"""

DEEP = 100_000  # a few hundred KB that would take gigabytes to build
HOSTILE = [
    (
        "labelstudio",
        "deep.json",
        '[{"id": 1, "data": ' + "[" * DEEP + "]" * DEEP + "}]",
        "task #1: JSON nested deeper than 64 levels",
    ),
    (
        "prodigy",
        "deep.jsonl",
        '{"a": ' + "[" * DEEP + "]" * DEEP + "}\n",
        "line 1: JSON nested too",
    ),
    (
        "cvat",
        "deep.xml",
        "<annotations><version>1.1</version>" + "<a>" * DEEP + "</a>" * DEEP + "</annotations>",
        "<a> at line 1: elements nested deeper than 32",
    ),
    (
        "labelstudio",
        "truncated.json",
        '[{"id": 1, "annotations": []}, {"id": 2, "annot',
        "after task 1",
    ),
    ("labelstudio", "object.json", '{"id": 1, "annotations": []}', "expected a JSON array"),
    ("labelstudio", "no_id.json", '[{"id": 1}, {"data": {}}]', "task #2: task has no `id`"),
    (
        "labelstudio",
        "ann_no_id.json",
        '[{"id": 7, "annotations": [{"result": []}]}]',
        "task 7 (#1), annotation #1: annotation has no `id`",
    ),
    (
        "labelstudio",
        "bad_time.json",
        '[{"id": 7, "annotations": [{"id": 1, "created_at": "yesterday", "result": []}]}]',
        "task 7 (#1), annotation #1: bad timestamp",
    ),
    (
        "labelstudio",
        "bad_result.json",
        '[{"id": 7, "annotations": [{"id": 1, "result": [{"type": "choices", "value": {}}]}]}]',
        "result #1 (choices) has no `value.choices`",
    ),
    (
        "labelstudio",
        "flag.json",
        '[{"id": 7, "annotations": [{"id": 1, "was_cancelled": "no", "result": []}]}]',
        "`was_cancelled` must be true or false",
    ),
    (
        "prodigy",
        "bad_json.jsonl",
        '{"_input_hash": 1, "_task_hash": 2, "answer": "accept"}\n{oops\n',
        "line 2: invalid JSON",
    ),
    ("prodigy", "no_hash.jsonl", '{"answer": "accept"}\n', "line 1: missing `_input_hash`"),
    (
        "prodigy",
        "answer.jsonl",
        '{"_input_hash": 1, "_task_hash": 2, "answer": "maybe"}\n',
        "line 1: `answer` must be one of",
    ),
    ("prodigy", "array.jsonl", "[1, 2]\n", "line 1: each line must be a JSON object"),
    ("cvat", "laughs.xml", BILLION_LAUGHS, "DOCTYPE and entity declarations are not allowed"),
    ("cvat", "external.xml", EXTERNAL, "DOCTYPE and entity declarations are not allowed"),
    (
        "cvat",
        "video.xml",
        '<annotations><version>1.1</version><track id="0" label="car"/></annotations>',
        "CVAT for video",
    ),
    (
        "cvat",
        "nolabel.xml",
        '<annotations><version>1.1</version>\n<image id="0" name="a.jpg">\n'
        '<box xtl="1"/></image></annotations>',
        "<box> at line 3 (image 'a.jpg'): <box> has no `label`",
    ),
    (
        "cvat",
        "truncated.xml",
        '<annotations><version>1.1</version><image id="0" name="a.jpg"><box label="x">',
        "invalid XML",
    ),
    ("cvat", "root.xml", "<dataset/>", "the root element must be <annotations>"),
    ("sagemaker", "nosource.manifest", '{"a": 1, "a-metadata": {}}\n', "line 1: no `source-ref`"),
    ("sagemaker", "nolabel.manifest", '{"source-ref": "s3://b/x"}\n', "line 1: no label attribute"),
    (
        "sagemaker",
        "classmap.manifest",
        '{"source-ref": "s3://b/x", "a": [7], "a-metadata": {"class-map": {"0": "x"}, '
        '"type": "groundtruth/image-classification-multilabel"}}\n',
        "line 1, `a`: class id 7 is not in `class-map`",
    ),
    (
        "sagemaker",
        "segmentation.manifest",
        '{"source-ref": "s3://b/x", "a-ref": "s3://b/m.png", "a-ref-metadata": '
        '{"type": "groundtruth/semantic-segmentation"}}\n',
        "label type 'groundtruth/semantic-segmentation' is not supported",
    ),
    (
        "cvat",
        "version.xml",
        "<annotations><version>9.0</version></annotations>",
        "unsupported CVAT XML version",
    ),
    (
        "argilla",
        "deep.json",
        '[{"id": "r", "fields": ' + "[" * DEEP + "]" * DEEP + "}]",
        "record #1: JSON nested deeper than 64 levels",
    ),
    (
        "argilla",
        "truncated.json",
        '[{"id": "r1", "responses": {}}, {"id": "r2", "respo',
        "after record r1 (#1): invalid JSON",
    ),
    ("argilla", "scalar.json", "42", "expected Argilla records"),
    (
        "argilla",
        "not_object.json",
        '[{"id": "r1"}, 7]',
        "record #2: a record must be a JSON object",
    ),
    ("argilla", "no_id.json", '[{"fields": {"text": "x"}}]', "record #1: record has no `id`"),
    (
        "argilla",
        "responses_list.json",
        '[{"id": "r1", "responses": []}]',
        "record r1 (#1): `responses` and `suggestions` must be objects by question",
    ),
    (
        "argilla",
        "no_user.json",
        '[{"id": "r1", "responses": {"topic": [{"value": "a"}]}}]',
        "record r1 (#1), response #1 to `topic`: response has no `user_id`",
    ),
    (
        "argilla",
        "status.json",
        '[{"id": "r1", "responses": {"topic": '
        '[{"value": "a", "user_id": "u", "status": "done"}]}}]',
        "status must be one of submitted, draft, discarded",
    ),
    (
        "argilla",
        "twice.json",
        '[{"id": "r1", "responses": {"topic": [{"value": "a", "user_id": "u"}, '
        '{"value": "b", "user_id": "u"}]}}]',
        "response #2 to `topic`: a second response by user u",
    ),
    (
        "argilla",
        "shape.json",
        '[{"id": "r1", "responses": {"topic": [{"value": {"x": 1}, "user_id": "u"}]}}]',
        "a value of unsupported shape",
    ),
    (
        "argilla",
        "scores.json",
        '[{"id": "r1", "suggestions": {"tags": {"value": ["a", "b"], "score": [0.5]}}}]',
        "record r1 (#1), suggestion for `tags`: `score` must be a number or 2 numbers",
    ),
    (
        "argilla",
        "lengths.jsonl",
        '{"id": "r1", "topic.responses": ["a", "b"], "topic.responses.users": ["u"], '
        '"topic.responses.status": ["submitted", "draft"]}\n',
        "line 1 (record r1): `topic.responses`, `.responses.users` and `.responses.status` differ",
    ),
    ("argilla", "bad_line.jsonl", '{"id": "r1"}\n{"id": \n', "line 2: invalid JSON"),
    (
        "cvat",
        "task.xml",
        '<annotations><version>1.1</version><image id="0" name="a" task_id="5">'
        '<tag label="x"/></image></annotations>',
        "names task 5",
    ),
]


@pytest.mark.parametrize(
    ("fmt", "name", "content", "message"), HOSTILE, ids=[h[1] for h in HOSTILE]
)
def test_hostile_export_names_the_record_and_leaves_nothing(
    fmt: str, name: str, content: str, message: str, tmp_path: Path
) -> None:
    export = tmp_path / name
    export.write_text(content, encoding="utf-8")
    parquet = tmp_path / "out" / "annotations.parquet"
    database = tmp_path / "out" / "warehouse.duckdb"
    # what was there before the failed import must still be there, unchanged
    import_export("prodigy", FIXTURES / "prodigy.jsonl", Destination(parquet))
    import_export("prodigy", FIXTURES / "prodigy.jsonl", Destination(database, "raw.annotations"))
    before = parquet.read_bytes()
    for dest in (Destination(parquet), Destination(database, "raw.annotations")):
        with pytest.raises(RecordError) as info:
            import_export(fmt, export, dest)
        assert message in str(info.value) and str(export) in str(info.value)
    assert parquet.read_bytes() == before
    con = duckdb.connect(str(database), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.annotations").fetchone() == (8,)
    con.close()
    assert sorted(p.name for p in parquet.parent.iterdir()) == [
        "annotations.parquet",
        "warehouse.duckdb",
    ]


def test_labelstudio_export_with_a_byte_order_mark(tmp_path: Path) -> None:
    export = tmp_path / "bom.json"
    export.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "labelstudio.json").read_bytes())
    assert len(list(reader("labelstudio")(export, ImportOptions()))) == 8


def test_cli_reports_the_record_and_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "bad.jsonl"
    export.write_text('{"_input_hash": 1, "_task_hash": 2, "answer": "accept"}\n\n{"x":\n')
    code = main(["import", "prodigy", str(export), "--to", str(tmp_path / "a.parquet")])
    assert code == 3
    assert f"{export}: line 3: invalid JSON" in capsys.readouterr().err
    assert not (tmp_path / "a.parquet").exists()


# --- streaming ------------------------------------------------------------------------------


def _big_cvat(path: Path, images: int, tail: str) -> None:
    with path.open("w") as out:
        out.write("<annotations><version>1.1</version><meta><task><id>1</id>")
        out.write("<owner><username>a</username></owner></task></meta>\n")
        for i in range(images):
            out.write(
                f'<image id="{i}" name="img{i:07}.jpg">'
                f'<tag label="l{i % 3}" source="manual"/></image>\n'
            )
        out.write(tail)


@pytest.mark.parametrize("fmt", ["labelstudio", "prodigy", "cvat", "sagemaker", "argilla"])
def test_readers_stream(fmt: str, tmp_path: Path) -> None:
    """The first rows come out before the reader reaches the (broken) end of a large export."""
    export = tmp_path / "big"
    n = 30_000
    if fmt == "labelstudio":
        task = '{"id": %d, "annotations": [{"id": %d, "completed_by": 1, "result": []}]},\n'
        export.write_text("[" + "".join(task % (i, i) for i in range(n)) + '{"id": ')
    elif fmt == "prodigy":
        line = '{"_input_hash": %d, "_task_hash": 1, "answer": "accept", "label": "x"}\n'
        export.write_text("".join(line % i for i in range(n)) + "{broken\n")
    elif fmt == "argilla":
        rec = '{"id": "%d", "responses": {"topic": [{"value": "x", "user_id": "u"}]}},\n'
        export.write_text("[" + "".join(rec % i for i in range(n)) + '{"id": ')
    elif fmt == "sagemaker":
        line = '{"source-ref": "%d", "a": 0, "a-metadata": {"class-name": "x", "type": "%s"}}\n'
        kind = "groundtruth/image-classification"
        export.write_text("".join(line % (i, kind) for i in range(n)) + "{broken\n")
    else:
        _big_cvat(export, n, "<image broken")
    assert export.stat().st_size > 1_200_000
    rows = reader(fmt)(export, ImportOptions())
    first = next(rows)
    assert first["item_id"] in ("0", "img0000000.jpg")
    with pytest.raises(RecordError):
        for _ in rows:
            pass


# --- writing and the contract ---------------------------------------------------------------


def test_parquet_destination_has_the_table_layout(tmp_path: Path) -> None:
    out = tmp_path / "ls.parquet"
    code = main(
        [
            "import",
            "labelstudio",
            str(FIXTURES / "labelstudio.json"),
            "--to",
            str(out),
            "--instruction-version",
            "v3",
            "--tool-version",
            "1.13.1",
        ]
    )
    assert code == 0
    table = pq.read_table(out)
    assert table.column_names == list(COLUMNS) and table.num_rows == 8
    assert set(table.column("tool_version").to_pylist()) == {"1.13.1"}
    assert str(table.schema.field("created_at").type) == "timestamp[us]"


IMPORTS = [
    (
        "labelstudio",
        "labelstudio.json",
        "raw.labelstudio",
        ["--instruction-field", "data.guideline"],
    ),
    ("prodigy", "prodigy.jsonl", "raw.prodigy", ["--project", "animals"]),
    ("cvat", "cvat_task.xml", "raw.cvat", ["--instruction-version", "v3"]),
    ("cvat", "cvat_project.xml", "raw.cvat_project", []),
    ("sagemaker", "sagemaker.manifest", "raw.sagemaker", []),
]


def test_written_contracts_lint_clean_and_the_data_passes_them(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "macros", project / "macros")
    database = tmp_path / "labelpact.duckdb"  # the catalog name the dbt profile expects
    for fmt, fixture, table, extra in IMPORTS:
        contract = project / "contracts" / f"{table.split('.')[1]}.yml"
        code = main(
            [
                "import",
                fmt,
                str(FIXTURES / fixture),
                "--to",
                str(database),
                "--table",
                table,
                "--contract",
                str(contract),
                "--owner",
                "labels@example.org",
                *extra,
            ]
        )
        assert code == 0
    report = lint([project / "contracts"], strict=True)
    assert report.problems == [] and len(report.contracts) == 5
    ls = {c.name: c for c in report.contracts}["labelstudio"]
    assert ls.columns["label"].accepted_values == ("bird", "cat", "dog", "fish", "other")
    prov = ls.sections.provenance
    assert prov is not None
    assert (prov.annotator, prov.timestamp, prov.tool, prov.batch) == (
        "annotator",
        "created_at",
        "tool",
        "project",
    )
    assert ls.columns["score"].between == (0, 1)
    assert ls.pii_columns == {"annotator_email"}  # the email is personal data
    assert main(["compile", str(project / "contracts"), "--project-dir", str(project)]) == 0

    from validator.settings import Settings
    from validator.verdict.validate import validate

    settings = Settings(
        project_dir=project,
        ledger_path=tmp_path / "l.jsonl",
        env={"LABELPACT_DUCKDB": str(database)},  # the copied profiles.yml reads it
    )
    run = validate(settings)
    failing = [r.check_id for r in run.results if r.status != "pass"]
    assert failing == [] and len(run.results) > 40


def test_init_from_profiles_an_imported_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`labelpact init --from` starts a contract from the imported table, as from any other."""
    database = tmp_path / "labelpact.duckdb"
    fixture = str(FIXTURES / "prodigy.jsonl")
    assert main(["import", "prodigy", fixture, "--to", str(database), "--table", "raw.p"]) == 0
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.setenv("LABELPACT_DUCKDB", str(database))  # the copied profiles.yml reads it
    args = ["init", "--project-dir", str(tmp_path), "--owner", "a@b.org"]
    assert main([*args, "--from", "raw.p"]) == 0
    report = lint([tmp_path / "contracts"])
    assert report.problems == []
    (contract,) = report.contracts
    assert list(contract.columns) == list(COLUMNS)
    assert contract.columns["answer"].accepted_values == ("accept", "ignore", "reject")


# --- exports that yield nothing -------------------------------------------------------------

JSON_MIN = """[
  {"id": 101, "image": "/data/upload/3/cat.jpg", "animal": "cat", "annotator": 7,
   "annotation_id": 1001, "created_at": "2026-03-10T08:00:00Z", "lead_time": 4.2},
  {"id": 102, "image": "/data/upload/3/dog.jpg", "animal": {"choices": ["cat", "dog"]},
   "annotator": 8, "annotation_id": 1002, "created_at": "2026-03-10T08:01:00Z"}
]"""


def test_labelstudio_json_min_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON-MIN (flat records, no `annotations`) used to import as 0 rows with exit 0."""
    export = tmp_path / "min.json"
    export.write_text(JSON_MIN)
    out = tmp_path / "a.parquet"
    assert main(["import", "labelstudio", str(export), "--to", str(out)]) == 3
    err = capsys.readouterr().err
    assert f"{export}: task 101 (#1): this looks like Label Studio's JSON-MIN export" in err
    assert "exportType=JSON" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("labelstudio", '[{"id": 1, "data": {"image": "a.jpg"}}]'),  # tasks, no annotations
        (
            "cvat",
            "<annotations><version>1.1</version><meta><task><id>1</id><owner><username>a"
            "</username></owner></task></meta></annotations>",
        ),
    ],
)
def test_a_non_empty_export_yielding_no_rows_fails(fmt: str, text: str, tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.write_text(text)
    out = tmp_path / "a.parquet"
    with pytest.raises(RecordError, match=f"no annotation rows were read from it as a `{fmt}`"):
        import_export(fmt, export, Destination(out))
    assert not out.exists()


@pytest.mark.parametrize(("fmt", "text"), [("labelstudio", "\ufeff[ ]\n"), ("prodigy", "\n\n")])
def test_an_empty_export_imports_as_an_empty_table(fmt: str, text: str, tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.write_text(text, encoding="utf-8")
    result = import_export(fmt, export, Destination(tmp_path / "a.parquet"))
    assert result.profile.rows == 0
    assert pq.read_table(tmp_path / "a.parquet").num_rows == 0


# --- counting annotations on a multi-label table ----------------------------------------------


@pytest.mark.parametrize(
    ("where", "failing"),
    [
        # the written contract's advice: one row per annotation, so annotations are counted
        ("label_index = 0 AND NOT is_prediction", {"102", "103"}),
        # without it the two label rows of annotation 1004 count as two annotations of item 102
        ("NOT is_prediction", {"103"}),
    ],
)
def test_coverage_counts_annotations_with_the_written_contracts_filter(
    tmp_path: Path, where: str, failing: set[str]
) -> None:
    from sqlglot import exp

    from validator.compiler.plan import Kind, build_plan
    from validator.compiler.sql.dialects import get_dialect
    from validator.contract.resolve import load_contracts

    database = tmp_path / "ls.duckdb"
    written = import_export(
        "labelstudio", FIXTURES / "labelstudio.json", Destination(database, "raw.ls"), None, "ls"
    )
    assert written.contract is not None
    assert "where: label_index = 0 AND NOT is_cancelled AND NOT is_prediction" in written.contract
    (tmp_path / "ls.yml").write_text(
        written.contract + f"coverage: {{item: item_id, min_annotations: 2, where: {where}}}\n"
    )
    contract = load_contracts([tmp_path / "ls.yml"])[0]
    check = next(
        c for c in build_plan(contract, {"ls": contract}).checks if c.kind == Kind.COVERAGE_MIN
    )
    d = get_dialect("duckdb")
    query = check.params.failing_rows(check, lambda n: exp.to_table("raw.ls"), d, contract.key)
    con = duckdb.connect(str(database), read_only=True)
    got = {str(r[0]) for r in con.execute(d.render(query)).fetchall()}
    con.close()
    assert got == failing
