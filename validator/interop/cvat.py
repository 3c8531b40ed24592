"""CVAT for images 1.1 XML (`annotations.xml` of a task, job or project export).

Streamed with expat in 1 MB chunks: `<meta>` (small) is kept, every `<image>` is turned into
rows and dropped. Per image: `name` (the item), `id`, `task_id` (project exports); per shape
(`box`, `polygon`, `polyline`, `points`, `ellipse`, `cuboid`, `mask`, `skeleton`, `tag`): `label`
and `source` (`auto` is a model's annotation: `is_prediction`). The format has no per-shape
author or time: rows take the task's assignee (else its owner) and the task's created/updated
times. DOCTYPE and entity declarations are refused (no entity expansion, no external files);
`<track>` (CVAT for video) is refused with the format to use instead.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.errors import RecordError
from validator.interop.rows import ImportOptions, Row, parse_time, row

TOOL = "cvat"
SHAPES = frozenset(
    {"box", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton", "tag"}
)
MAX_META_NODES = 100_000
MAX_DEPTH = 32  # the format nests about 8 levels
CHUNK = 1 << 20


@dataclass
class _Task:
    fields: dict[str, str] = field(default_factory=dict)

    def get(self, *paths: str) -> str | None:
        return next((self.fields[p] for p in paths if self.fields.get(p)), None)


@dataclass
class _State:
    """What the handlers have seen so far (expat calls them as bytes arrive)."""

    stack: list[str] = field(default_factory=list)
    version: str | None = None
    text: list[str] = field(default_factory=list)
    tasks: dict[str, _Task] = field(default_factory=dict)
    current_task: _Task | None = None
    project: str | None = None
    meta_nodes: int = 0
    image: dict[str, str] | None = None
    shapes: list[dict[str, Any]] = field(default_factory=list)
    attribute: str | None = None
    out: list[Row] = field(default_factory=list)


def read(path: Path, options: ImportOptions) -> Iterator[Row]:
    """Rows of a CVAT for images XML export (see module docstring)."""
    state = _State()
    parser = xml.parsers.expat.ParserCreate()

    def fail(message: str) -> RecordError:
        element = f"<{state.stack[-1]}> " if state.stack else ""
        image = f" (image '{state.image.get('name')}')" if state.image else ""
        return RecordError(
            str(path), f"{element}at line {parser.CurrentLineNumber}{image}", message
        )

    def refuse_doctype(*_args: Any) -> None:
        raise fail("DOCTYPE and entity declarations are not allowed in a CVAT export")

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    parser.ExternalEntityRefHandler = lambda *_a: 0  # never fetch anything
    parser.StartElementHandler = lambda name, attrs: _start(state, name, attrs, fail)
    parser.EndElementHandler = lambda name: _end(state, name, options, fail)
    parser.CharacterDataHandler = lambda data: state.text.append(data)
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            try:
                parser.Parse(chunk, not chunk)
            except xml.parsers.expat.ExpatError as exc:
                where = f"line {exc.lineno}, column {exc.offset + 1}"
                raise RecordError(str(path), where, f"invalid XML: {_reason(exc)}") from None
            yield from state.out
            state.out.clear()
            if not chunk:
                break
    if state.version is None:
        raise RecordError(str(path), "top level", "not a CVAT export: no <version>")


def _reason(exc: xml.parsers.expat.ExpatError) -> str:
    return xml.parsers.expat.ErrorString(exc.code) if exc.code else str(exc)


def _start(state: _State, name: str, attrs: dict[str, str], fail: Any) -> None:
    depth = len(state.stack)
    if depth == 0 and name != "annotations":
        raise fail(f"the root element must be <annotations>, not <{name}>")
    if depth >= MAX_DEPTH:
        raise fail(f"elements nested deeper than {MAX_DEPTH}")
    state.stack.append(name)
    state.text = []
    if "meta" in state.stack:
        state.meta_nodes += 1
        if state.meta_nodes > MAX_META_NODES:
            raise fail(f"<meta> has more than {MAX_META_NODES} elements")
        if name in ("task", "job") and state.stack[-2] in ("meta", "tasks"):
            state.current_task = _Task()
        return
    if depth == 1 and name == "track":
        raise fail("this is CVAT for video (tracks); export the task as CVAT for images 1.1")
    if depth == 1 and name == "image":
        if not attrs.get("name"):
            raise fail("<image> has no `name`")
        state.image, state.shapes = dict(attrs), []
    elif depth == 2 and state.image is not None and name in SHAPES:
        if not attrs.get("label"):
            raise fail(f"<{name}> has no `label`")
        state.shapes.append({"kind": name, "attrs": dict(attrs), "attributes": {}})
    elif name == "attribute" and state.shapes and depth == 3:
        state.attribute = attrs.get("name")


def _end(state: _State, name: str, options: ImportOptions, fail: Any) -> None:
    body = "".join(state.text).strip()
    state.text = []
    path = "/".join(state.stack)
    state.stack.pop()
    if path == "annotations/version":
        if body not in ("1.0", "1.1"):
            raise fail(f"unsupported CVAT XML version {body!r} (expected 1.1)")
        state.version = body
    elif "meta" in path.split("/"):
        _meta_end(state, path, name, body)
    elif name == "attribute" and state.attribute is not None and state.shapes:
        state.shapes[-1]["attributes"][state.attribute] = body
        state.attribute = None
    elif path == "annotations/image" and state.image is not None:
        state.out.extend(_image_rows(state, options, fail))
        state.image, state.shapes = None, []


def _meta_end(state: _State, path: str, name: str, body: str) -> None:
    parts = path.split("/")
    if (
        name in ("task", "job")
        and state.current_task is not None
        and parts[-2] in ("meta", "tasks")
    ):
        task = state.current_task
        state.tasks[task.fields.get("id", "")] = task
        state.current_task = None
    elif state.current_task is not None and body:
        # path inside the task, e.g. "owner/username", "assignee/username", "created"
        inner = parts[parts.index("task" if "task" in parts else "job") + 1 :]
        state.current_task.fields.setdefault("/".join(inner), body)
    elif parts[-2:] == ["project", "name"]:
        state.project = body


def _image_rows(state: _State, options: ImportOptions, fail: Any) -> list[Row]:
    image = state.image or {}
    task = _task_of(state, image.get("task_id"), fail)
    try:
        created = parse_time(task.get("created"))
        updated = parse_time(task.get("updated")) or created
    except ValueError as exc:
        raise fail(f"bad task timestamp: {exc}") from None
    task_id = task.get("id") or "0"
    rows: list[Row] = []
    for index, shape in enumerate(state.shapes):
        attrs = shape["attrs"]
        version = options.instruction_version
        if options.instruction_field:
            version = shape["attributes"].get(options.instruction_field) or version
        rows.append(
            row(
                tool=TOOL,
                tool_version=options.tool_version,
                project=options.project or state.project or task.get("name"),
                item_id=image["name"],
                annotation_id=f"{task_id}:{image.get('id', '')}:{index}",
                annotator=task.get("assignee/username", "owner/username"),
                created_at=created,
                updated_at=updated,
                label=attrs["label"],
                result_type=shape["kind"],
                is_prediction=attrs.get("source") == "auto",
                is_gold=options.gold,
                instruction_version=version,
            )
        )
    return rows


def _task_of(state: _State, task_id: str | None, fail: Any) -> _Task:
    if task_id is not None:
        if task_id not in state.tasks:
            raise fail(f"image names task {task_id}, which <meta> does not describe")
        return state.tasks[task_id]
    if len(state.tasks) == 1:
        return next(iter(state.tasks.values()))
    if not state.tasks:
        return _Task()
    raise fail("a project export must give each <image> a `task_id`")
