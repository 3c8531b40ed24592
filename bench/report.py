"""bench/results.md from one run's results: the load it ran under, the dry run, the side-by-side
table, where validate's time went, the targets of issue #17 (met or missed, by how much), and
the large, incremental and compile runs."""

from __future__ import annotations

import os
from typing import Any

FLOOR = "floor (one hand-written DuckDB scan) (simple)"
VALIDATE_SIMPLE = "labelpact validate (simple)"
VALIDATE_ALL = "labelpact validate (all)"
GX_SIMPLE = "GX 1.x over SQL (compiled suite) (simple)"
DC_DUCKDB = "datacontract-cli 1.2.8 on the DuckDB file (simple)"


def _load(load: dict[str, Any]) -> list[str]:
    cores = os.cpu_count() or 1
    start, end = load["start"], load["end"]
    seen = load.get("max_1min_seen", start[0])
    quiet = max(start[0], seen, end[0]) <= cores * 0.75
    return [
        f"Load average (1, 5, 15 min) at the start {tuple(round(x, 2) for x in start)}, "
        f"highest 1-min value seen before a contender {seen}, at the end "
        f"{tuple(round(x, 2) for x in end)}, on {cores} cores: "
        + (
            "a quiet machine."
            if quiet
            else "**a busy machine: wall times are inflated and noisy; CPU seconds (user + system "
            "of the contender's process) are the steadier comparison.**"
        )
    ]


def _dry_run(dry: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "Dry run before timing (20,000 rows; faulty = 5 labels 'catt' and one row "
        "stored twice): every contender passed clean data and failed the faults.",
        "",
        "| contender (checks) | clean: failing | faulty: failing | exit clean / faulty |",
        "| --- | --- | --- | --- |",
    ]
    for name, r in dry.items():
        failing = ", ".join(c.removeprefix("annotations.") for c in r["faulty_failing"])
        lines.append(
            f"| {name} | {', '.join(r['clean_failing']) or 'none'} | {failing} | "
            f"{r['clean_exit']} / {r['faulty_exit']} |"
        )
    return lines


def _side_by_side(results: dict[str, dict[str, Any]], repeat: int) -> list[str]:
    base = float(results[FLOOR]["wall_s"])
    base_cpu = float(results[FLOOR]["cpu_s"])
    lines = [
        "",
        f"Median of {repeat} fresh process(es) per contender; 'simple' = the 14 checks, "
        "'all' = every example check (4 contracts).",
        "",
        "| contender (checks) | wall s | x floor | CPU s | CPU x floor | peak MB | runs s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['wall_s']} | {float(r['wall_s']) / base:.1f} | "
            f"{r['cpu_s']} | {float(r['cpu_s']) / base_cpu:.1f} | {r['peak_mb']} | "
            f"{', '.join(str(x) for x in r.get('runs_s', []))} |"
        )
    return lines


def _profiles(profiles: dict[str, dict[str, Any]]) -> list[str]:
    """Validate's phases, per contract set: a run that replays dbt's last run of the models
    (nothing dbt reads changed: every run after a team's first) and the first, where dbt
    builds them (`cold`)."""
    runs = {
        "simple, replayed": profiles["simple"],
        "simple, dbt builds": profiles["simple"].get("cold"),
        "all, replayed": profiles["all"],
        "all, dbt builds": profiles["all"].get("cold"),
    }
    shown = {k: v for k, v in runs.items() if v}
    lines = [
        "",
        "Where one labelpact validate spends its time (bench/profile_validate.py, one "
        "process each; wall / CPU seconds). 'replayed': nothing dbt reads changed since dbt "
        "last built the models, so they are built from its recorded SQL without starting dbt; "
        "'dbt builds': the first run (or one after a change to the project):",
        "",
        "| phase | " + " | ".join(shown) + " |",
        "| --- |" + " ---: |" * len(shown),
    ]

    def cell(p: dict[str, Any], phase: str) -> str:
        v = p["phases"].get(phase)
        return f"{v['wall_s']} / {v['cpu_s']}" if v else "-"

    first = next(iter(shown.values()))
    rows = [("Python start-up", [f"{p['wall_s'] - p['in_process_s']:.2f}" for p in shown.values()])]
    rows += [(phase, [cell(p, phase) for p in shown.values()]) for phase in first["phases"]]
    rows.append(
        (
            "(checks' SQL, summed over threads)",
            [str(p["check_sql_s"]) for p in shown.values()],
        )
    )
    rows.append(("whole process", [f"{p['wall_s']} / {p['cpu_s']}" for p in shown.values()]))
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows]
    for label in ("simple", "all"):
        lines.append("")
        lines.append(
            f"Slowest checks ({label}, s): "
            + ", ".join(f"{cid} {s}" for s, cid in profiles[label]["slowest"])
        )
    return lines


def _target(name: str, value: float | None, limit: float, unit: str, why: str) -> str:
    if value is None:
        return f"| {name} | not measured | {limit}{unit} | - | {why} |"
    met = value <= limit
    verdict = "met" if met else f"missed by {value / limit:.2f}x"
    return f"| {name} | {value:.2f}{unit} | {limit}{unit} | {verdict} | {why} |"


def targets(payload: dict[str, Any]) -> list[str]:
    """Issue #17's targets as ratios of this run (wall time; CPU ratios beside where useful)."""
    r, p, scale = payload["results"], payload["profiles"], payload["scale"]

    def wall(name: str) -> float | None:
        return float(r[name]["wall_s"]) if name in r else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    def cpu(name: str) -> float | None:
        return float(r[name]["cpu_s"]) if name in r else None

    rows = f"{payload['rows']:,} rows"
    fp = p["simple"]["phases"]["fingerprints (+ batch state), samples"]["wall_s"]
    lines = [
        "",
        f"Targets of issue #17 at {rows} (ratios of wall times of this run):",
        "",
        "| target | measured | limit | verdict | note |",
        "| --- | ---: | ---: | --- | --- |",
        _target(
            "validate (simple) / datacontract-cli on the DuckDB file",
            ratio(wall(VALIDATE_SIMPLE), wall(DC_DUCKDB)),
            1.0,
            "x",
            f"CPU ratio {ratio(cpu(VALIDATE_SIMPLE), cpu(DC_DUCKDB)) or 0:.2f}x",
        ),
        _target(
            "validate (simple) / GX over SQL (simple)",
            ratio(wall(VALIDATE_SIMPLE), wall(GX_SIMPLE)),
            0.5,
            "x",
            f"CPU ratio {ratio(cpu(VALIDATE_SIMPLE), cpu(GX_SIMPLE)) or 0:.2f}x",
        ),
        _target(
            "validate (all) / floor",
            ratio(wall(VALIDATE_ALL), wall(FLOOR)),
            6.0,
            "x",
            f"CPU ratio {ratio(cpu(VALIDATE_ALL), cpu(FLOOR)) or 0:.2f}x",
        ),
        _target("validate (all) peak RSS", float(r[VALIDATE_ALL]["peak_mb"]), 1024.0, " MB", ""),
        _target(
            "fingerprint (simple contract's phase) / floor",
            ratio(fp, wall(FLOOR)),
            1.0,
            "x",
            "the floor includes Python start-up; the phase does not",
        ),
    ]
    if scale:
        runs = list(scale.values())
        ten = wall(VALIDATE_ALL)
        lines += [
            _target(
                "large run / this run (validate, all)",
                ratio(float(runs[0]["wall_s"]), ten),
                10.0,
                "x",
                "",
            ),
            _target("large run peak RSS", float(runs[0]["peak_mb"]), 1536.0, " MB", ""),
            _target(
                "incremental / the batch alone",
                ratio(float(runs[1]["wall_s"]), float(runs[2]["wall_s"])),
                2.0,
                "x",
                "",
            ),
        ]
    else:
        lines += [
            _target(
                "large run / this run; incremental / batch alone",
                None,
                10.0,
                "x",
                "large and incremental runs not part of this run (--large 0)",
            )
        ]
    lines.append(
        _target(
            "whole test suite",
            None,
            15.0,
            " min",
            "not measured by ./run bench: `./run tests --durations=20`",
        )
    )
    return lines


def _scale(payload: dict[str, Any]) -> list[str]:
    scale = payload["scale"]
    if not scale:
        return []
    lines = [
        "",
        "| run | wall s | CPU s | SQL s | peak MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {r['wall_s']} | {r['cpu_s']} | {r.get('sql_s', '')} | {r['peak_mb']} |"
        for name, r in scale.items()
    ]
    for name, r in scale.items():
        if r.get("slowest"):
            shown = ", ".join(
                f"{check} {s}" + (f" ({scope})" if scope else "")
                for check, s, scope in r["slowest"]
            )
            lines += ["", f"Slowest checks of {name} (s): {shown}"]
    return lines


def _compile(c: dict[str, Any]) -> list[str]:
    if not c:
        return []

    def w(key: str) -> float:
        return float(c[key]["wall_s"])

    return [
        "",
        f"Compile: {c['contracts']} contracts ({c['files']} files): lint "
        f"{w('lint')} s, compile {w('compile')} s (wall, Python start-up included); "
        f"dbt parse: empty project {w('dbt_parse_empty')} s, example project "
        f"{w('dbt_parse_example_project')} s "
        f"({w('dbt_parse_example_project') / w('dbt_parse_empty'):.2f}x), the "
        f"{c['contracts']}-contract project {w('dbt_parse_generated')} s "
        f"({w('dbt_parse_generated') / w('dbt_parse_empty'):.1f}x; again with "
        f"nothing changed {w('dbt_reparse_generated_unchanged')} s)",
    ]


def report(payload: dict[str, Any]) -> list[str]:
    """The Markdown of one run."""
    lines = [
        f"`{payload.get('command', './run bench')}`: {payload['rows']:,} annotations; "
        f"machine: {payload['machine']}; measured "
        f"{payload['measured_at']}; datacontract-cli: {payload['datacontract']}",
        "",
    ]
    lines += _load(payload["load"])
    lines += _dry_run(payload["dry_run"])
    lines += _side_by_side(payload["results"], payload["repeat"])
    lines += _profiles(payload["profiles"])
    lines += targets(payload)
    lines += _scale(payload)
    lines += _compile(payload["compile"])
    for stage, why in payload.get("failed", {}).items():
        lines += ["", f"**{stage} failed in this run**: {why}"]
    return lines
