"""`labelpact validate`: build in-process, collect one result per check, fingerprint the data,
and record the verdict in the ledger."""

from __future__ import annotations

import datetime as dt
import getpass
import platform
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from validator.compiler.artifacts import check_artifacts, compile_plans, contract_set
from validator.compiler.plan import Check, Plan, build_plans
from validator.compiler.sql.dialects import DEFAULT_DIALECTS
from validator.compiler.targets.dbt import item_stats_models
from validator.contract.model import Contract
from validator.contract.resolve import load_contracts
from validator.engines import replay
from validator.engines.check_runner import run_checks
from validator.engines.dbt_runner import CheckOutcome, DbtProject
from validator.engines.recorded import warehouse_for
from validator.engines.warehouse import Warehouse
from validator.errors import ExitCode, LabelpactError, UsageError
from validator.settings import Settings
from validator.verdict import batches as batch_data
from validator.verdict import evidence, incremental, incremental_run, run_metrics
from validator.verdict.ledger import ledger_for, mirror_to_warehouse
from validator.verdict.pseudonyms import read_secret
from validator.verdict.samples import failed_checks, sample_rows
from validator.verdict.samples import masked as masked
from validator.versions import versions

Progress = Callable[[str], None]


@dataclass
class CheckResult:
    """One check's result in one validation run."""

    check_id: str
    contract: str
    kind: str
    severity: str
    owner: str
    description: str
    status: str  # pass | fail | warn | error | skipped
    failures: int | None
    message: str
    duration: float
    sql: str = ""
    sample: list[dict[str, Any]] = field(default_factory=list)
    gx_status: str | None = None  # set when the GX suites ran too (`validate --gx`)
    gx_failures: int | None = None
    group_by: str | None = None  # the column a per-group check groups by (samples show it)


@dataclass
class ContractVerdict:
    """The verdict for one contract: its version, data fingerprint and status."""

    contract: str
    version: str
    status: str  # pass | warn | fail
    fingerprint: dict[str, Any]
    failing: list[str]
    # What the verdict is about besides the data (see `verdict.evidence`): the contract file
    # and compiled checks that ran, by SHA-256, and the warehouse it ran on.
    contract_digest: str = ""
    artifacts: dict[str, str] = field(default_factory=dict)
    warehouse: dict[str, str] = field(default_factory=dict)
    # Checks that did not run because a check they follow failed (dbt skips the tests of a
    # model whose schema check failed): never a pass, and kept apart from `failing`.
    not_run: list[str] = field(default_factory=list)


@dataclass
class ValidationRun:
    """Everything one `validate` produced, as recorded in the ledger."""

    started_at: str
    duration: float
    results: list[CheckResult]
    verdicts: dict[str, ContractVerdict]
    environment: dict[str, Any]
    ledger_seq: int | None = None
    warnings: list[str] = field(default_factory=list)
    mode: str = "full"  # or "incremental" (`validate --incremental`)
    # Key metrics per contract (`run_metrics`), kept in the ledger for trends; full runs only.
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The models were built from dbt's recorded compiled SQL, without dbt (`engines.replay`).
    replayed: bool = False

    @property
    def exit_code(self) -> ExitCode:
        statuses = {v.status for v in self.verdicts.values()}
        if "fail" in statuses:
            return ExitCode.VIOLATIONS
        if "warn" in statuses:
            return ExitCode.WARNINGS
        return ExitCode.OK

    def record(self) -> dict[str, Any]:
        """The ledger record: verdicts with fingerprints, check results without samples."""
        return {
            "kind": "validate",
            "started_at": self.started_at,
            "duration_s": round(self.duration, 3),
            "contracts": {n: asdict(v) for n, v in sorted(self.verdicts.items())},
            "checks": [
                {
                    "id": r.check_id,
                    "status": r.status,
                    "failures": r.failures,
                    "severity": r.severity,
                    **({"gx_status": r.gx_status} if r.gx_status else {}),
                }
                for r in self.results
            ],
            "environment": self.environment,
            **({"mode": self.mode} if self.mode != "full" else {}),
            **({"models": "replayed dbt run"} if self.replayed else {}),
            **({"metrics": self.metrics} if self.metrics else {}),
        }


def _environment(wh: Warehouse) -> dict[str, Any]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    where = wh.describe()
    return {
        "versions": versions(),
        "user": user,
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "engine": where["adapter"],
        "target": where["target"],
        "warehouse": where["location"],
    }


def load_plans(
    settings: Settings, select: list[str] | None = None
) -> tuple[list[Plan], list[Plan]]:
    """(all plans, selected plans); raises if compiled artifacts are stale."""
    where = settings.contracts_dir
    if not where.exists():
        raise UsageError(
            f"no contracts directory {where}: labelpact reads contracts from the project's "
            "contracts/ (or where `contracts:` in labelpact.yml points; `labelpact init` "
            "writes both)"
        )
    contracts = load_contracts([where])
    plans = build_plans(contracts)
    root = settings.project_dir
    files = compile_plans(plans, DEFAULT_DIALECTS, root)
    stale = check_artifacts(files, root, contract_set([where], root))
    if stale and all(line.startswith("missing: ") for line in stale):
        raise LabelpactError(
            f"the contracts in {where} are not compiled into {root.resolve()} yet; run "
            f"`labelpact compile {where} --project-dir {root}` first"
        )
    if stale:
        raise LabelpactError(
            "compiled artifacts are stale ("
            + "; ".join(stale[:3])
            + f"); run `labelpact compile {where} --project-dir {root}` first"
        )
    names = {p.contract.name for p in plans}
    if select:
        unknown = sorted(set(select) - names)
        if unknown:
            from validator.errors import did_you_mean

            raise UsageError(
                f"unknown contract '{unknown[0]}'; {did_you_mean(unknown[0], sorted(names))}"
            )
        return plans, [p for p in plans if p.contract.name in select]
    return plans, plans


def fingerprint(wh: Warehouse, source: str, contract: Contract) -> dict[str, Any]:
    """The fingerprint of the contract's source relation (every column it has now, and its
    schema), computed in the warehouse: one pass, order-independent."""
    return {**wh.fingerprint(source), "version": contract.version}


def _run_gx(
    wh: Warehouse, plans: list[Plan], results: list[CheckResult], say: Callable[[str], None]
) -> None:
    """Run the GX suites on the same warehouse (the profile's target); a check fails if either
    engine fails it."""
    from validator.engines.gx_runner import run_suites

    schema = next(
        (
            p.contract.source.schema_table[0]
            for p in plans
            if p.contract.source.kind == "dbt_source"
        ),
        "main",
    )
    say("Great Expectations suites")
    gx_results = run_suites(plans, schema=schema, warehouse=wh)
    by_id = {r.check_id: r for r in gx_results}
    for result in results:
        gx = by_id.get(result.check_id)
        if gx is None:
            continue
        result.gx_status, result.gx_failures = gx.status, gx.failures
        if result.status == "pass" and gx.status != "pass":
            result.status = gx.status
            result.message = f"dbt passed but Great Expectations reports {gx.status}: " + (
                gx.message or f"{gx.failures} failing"
            )


def validate(
    settings: Settings,
    select: list[str] | None = None,
    progress: Progress | None = None,
    project: DbtProject | None = None,
    record: bool = True,
    gx: bool = False,
    dbt_tests: bool = False,
    replay_models: bool = True,
) -> ValidationRun:
    """Build and test the selected contracts, fingerprint their data, record the verdict.

    dbt builds the models (their enforced contracts are the schema checks) and the checks run
    on one connection, sharing scans (`engines.check_runner`); `dbt_tests=True` runs them as
    `dbt build` does, one dbt node each (the same counts, at dbt's per-node cost). When
    nothing dbt reads changed since it last built the same models, the models are built from
    dbt's recorded compiled SQL without starting dbt (`engines.replay`; `replay_models=False`
    always runs dbt)."""
    say = progress or (lambda _m: None)
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    all_plans, plans = load_plans(settings, select)
    secret = read_secret(settings.pseudonym_key)  # a bad key file stops the run before dbt
    # Loads the profile first: a warehouse that does not exist stops the run here, by name.
    warehouse = warehouse_for(settings)
    contracts = {p.contract.name: p.contract for p in all_plans}
    by_dbt = dbt_tests or _chained(plans, contracts)
    selector = _selector(plans)
    # everything dbt reads, hashed once (None: this project is always built by dbt)
    key = replay.run_digest(settings, selector) if replay_models and not by_dbt else None
    models = _replayed(settings, selector, key, warehouse, say) if key and not gx else None
    if models is None:
        project = project or DbtProject.from_settings(settings)
        models = _build(project, settings, plans, selector, contracts, say, by_dbt)
    build, relations, sources = models.build, models.relations, models.sources
    results: list[CheckResult] = []
    verdicts: dict[str, ContractVerdict] = {}
    with warehouse as wh:
        if key and not models.replayed:
            replay.record(settings, selector, key, models, wh)
        outcomes = dict(build.outcomes)
        known: run_metrics.Figures = {}
        if not by_dbt:
            say(f"checks: {sum(len(p.checks) for p in plans)} on one connection")
            checks = run_checks(wh, plans, relations | models.shared, build, say)
            outcomes.update(checks.outcomes)
            known = checks.values
            say(f"checks finished: {len(checks.queries)} queries")
        for plan in plans:
            for check in plan.checks:
                results.append(_result(check, outcomes.get(check.id)))
        fingerprints, states = _measure(wh, plans, contracts, relations, sources, say, known)
        for result, check in failed_checks(results, plans):
            result.sample = sample_rows(wh, check, contracts, relations)
        metrics, metric_warnings = run_metrics.for_plans(
            wh, plans, contracts, relations, secret, known
        )
    if gx:  # after our own connection closed: GX's duckdb-engine opens the file its own way
        _run_gx(warehouse, plans, results, say)
    for plan in plans:
        verdicts[plan.contract.name] = _verdict(
            plan,
            [r for r in results if r.contract == plan.contract.name],
            fingerprints[plan.contract.name],
            evidence.recorded(settings, all_plans, plan.contract),
        )
    run = ValidationRun(
        started_at, time.monotonic() - started, results, verdicts, _environment(warehouse)
    )
    run.metrics, run.warnings, run.replayed = metrics, metric_warnings, models.replayed
    if record:
        _record(settings, run, say)
        failures = _state_failures(results)
        for name, state in states.items():
            incremental.write_state(
                settings,
                contracts[name],
                relations,
                state,
                {c.id: failures[c.id] for p in plans if p.contract.name == name for c in p.checks},
                run.ledger_seq,
            )
    return run


def _selector(plans: list[Plan]) -> str:
    """dbt's selection of the models of the selected contracts and of the contracts their
    checks read, plus every test and shared model tagged with a selected contract."""
    models = {p.contract.name for p in plans}
    for p in plans:
        models |= p.contract.depends_on()
    return " ".join(sorted(models) + [f"tag:labelpact_{p.contract.name}" for p in plans])


def _replayed(
    settings: Settings, selector: str, key: str, warehouse: Warehouse, say: Callable[[str], None]
) -> replay.Models | None:
    """The models built from dbt's recorded run, when nothing dbt reads changed since."""
    data = replay.load(settings, selector, key)
    if data is None:
        return None
    say(f"dbt run: replayed without dbt ({len(data['nodes'])} models; nothing dbt reads changed)")
    with warehouse as wh:
        models = replay.replay(data, wh)
    if models is None:
        say("dbt run: a relation differs from what dbt built last; dbt builds the models")
        return None
    say(f"dbt run finished: {len(models.build.models)} models replayed")
    return models


def _build(
    project: DbtProject,
    settings: Settings,
    plans: list[Plan],
    selector: str,
    contracts: Iterable[str],
    say: Callable[[str], None],
    tests: bool = True,
) -> replay.Models:
    """`dbt build` of `selector` (`_selector(plans)`); without `tests`, `dbt run` of the same
    models (the shared per-item models are tagged too). With the relations dbt names for the
    models of `contracts`, the shared models and the sources of the selected contracts."""
    command = "build" if tests else "run"
    say(f"dbt {command}: {', '.join(p.contract.name for p in plans)}")
    build = project.build(env=settings.env, select=selector, command=command)
    say(f"dbt {command} finished: {len(build.outcomes)} results")
    return replay.Models(
        build,
        relations={n: project.relation_name(n) for n in contracts},
        shared={m: project.relation_name(m) for p in plans for m in item_stats_models(p)},
        sources={
            p.contract.name: evidence.source_relation(project, p.contract.name) for p in plans
        },
    )


def _chained(plans: list[Plan], contracts: dict[str, Contract]) -> bool:
    """True when a model to build reads another contract's model (`source: {ref: ...}`):
    `dbt build` skips it when a test of the model it reads fails, which only dbt's own
    ordering of models and tests reproduces, so such a run has dbt run the checks."""
    names = {p.contract.name for p in plans}
    for p in plans:
        names |= p.contract.depends_on()
    return any(contracts[n].source.kind == "ref" for n in names if n in contracts)


def _measure(
    wh: Warehouse,
    plans: list[Plan],
    contracts: dict[str, Contract],
    relations: dict[str, str],
    sources: dict[str, str],
    say: Callable[[str], None],
    known: run_metrics.Figures,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(fingerprint, incremental state) of each selected contract's source; the state only for
    contracts that declare batches (their fingerprint is the sum of their batches'). `known`:
    the per-group figures the run's checks fetched."""
    fingerprints: dict[str, dict[str, Any]] = {}
    states: dict[str, dict[str, Any]] = {}
    for plan in plans:
        say(f"fingerprint {plan.contract.name}")
        source = sources[plan.contract.name]
        evidence.require_source(wh, plan.contract.name, source)
        if plan.contract.sections.incremental:
            state = incremental.measure(wh, plan, contracts, relations, source, known)
            states[plan.contract.name] = state
            fingerprints[plan.contract.name] = {
                **incremental.source_fingerprint(wh, state),
                "version": plan.contract.version,
            }
        else:
            fingerprints[plan.contract.name] = fingerprint(wh, source, plan.contract)
    return fingerprints, states


def _record(settings: Settings, run: ValidationRun, say: Callable[[str], None]) -> None:
    """Append the run to the ledger (the primary) and mirror it to the warehouse."""
    entry = ledger_for(settings).append(run.record())
    run.ledger_seq = entry.seq
    say(f"ledger entry {entry.seq} written to {settings.ledger_path}")
    try:
        mirror_to_warehouse(settings, entry)
    except LabelpactError as exc:  # the file is the primary; the mirror can catch up
        run.warnings.append(f"ledger entry {entry.seq} not mirrored to the warehouse: {exc}")


def _state_failures(results: list[CheckResult]) -> dict[str, int | None]:
    """Failure count per check; a passing check without a count (the schema check: dbt's
    model contract) failed 0 times."""
    return {
        r.check_id: 0 if r.failures is None and r.status == "pass" else r.failures for r in results
    }


def validate_incremental(
    settings: Settings,
    select: list[str] | None = None,
    progress: Progress | None = None,
    project: DbtProject | None = None,
    record: bool = True,
) -> ValidationRun:
    """Validate only the batches that are new since the last validation (see `incremental`);
    a full validation when that is not possible, with the reason among the warnings. Without
    `select`, the contracts that have an `incremental` section."""
    say = progress or (lambda _m: None)
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    all_plans, plans = load_plans(settings, select)
    warehouse = warehouse_for(settings)
    contracts = {p.contract.name: p.contract for p in all_plans}
    if not select:  # the contracts that declare batches; others need a full validation
        plans = [p for p in plans if p.contract.sections.incremental] or plans
        select = [p.contract.name for p in plans]
    try:
        for plan in plans:
            if not plan.contract.sections.incremental:
                raise incremental.NotIncremental(
                    f"contract '{plan.contract.name}' has no `incremental` section"
                )
        states = {p.contract.name: incremental.read_state(settings, p.contract) for p in plans}
        results: list[CheckResult] = []
        verdicts, new_states = {}, {}
        with warehouse as wh:
            for plan in plans:
                name = plan.contract.name
                run = incremental_run.ContractRun(wh, plan, contracts, states[name])
                say(f"{name}: {len(run.new)} new batch(es)")
                mine = [_run_new_batches(wh, run, check, contracts, say) for check in plan.checks]
                new = batch_data.batch_fingerprints(
                    wh, run.restricted(run.source), plan.contract, run.source_columns
                )
                batches = batch_data.Batches({**states[name]["batches"], **new.rows})
                fp = incremental.source_fingerprint(wh, {**states[name], "batches": batches})
                verdicts[name] = _verdict(
                    plan,
                    mine,
                    {**fp, "version": plan.contract.version},
                    evidence.recorded(settings, all_plans, plan.contract),
                )
                results += mine
                new_states[name] = (run, batches, states[name])
    except incremental.NotIncremental as exc:
        say(f"incremental validation not possible: {exc}; validating in full")
        full = validate(settings, select, progress, project, record)
        full.warnings.append(f"validated in full: {exc}")
        return full
    run_ = ValidationRun(
        started_at,
        time.monotonic() - started,
        results,
        verdicts,
        _environment(warehouse),
        mode="incremental",
    )
    if record:
        _record(settings, run_, say)
        for name, (crun, batches, state) in new_states.items():
            measured = {
                "batches": batches,
                "columns": state["columns"],
                "signatures": crun.signatures,
                "source": state["source"],
                "sums": crun.sums,
            }
            incremental.write_state(
                settings,
                contracts[name],
                state["relations"],
                measured,
                {k: v for k, v in _state_failures(results).items() if k.startswith(name + ".")},
                run_.ledger_seq,
            )
    return run_


def _run_new_batches(
    wh: Warehouse,
    run: incremental_run.ContractRun,
    check: Check,
    contracts: dict[str, Contract],
    say: Callable[[str], None],
) -> CheckResult:
    """One check on the new batches, with failing rows drawn from where it read them."""
    outcome = run.run(check)
    result = _incremental_result(check, outcome)
    if result.status in ("fail", "warn") and outcome.mode != "schema":
        relation = run.sample_relation(check, outcome.mode)
        result.sample = sample_rows(wh, check, contracts, run.relations, relation)
    say(f"  {check.id}: {outcome.failures} failing ({outcome.mode}, {outcome.duration:.2f} s)")
    return result


def _incremental_result(check: Check, outcome: incremental_run.Outcome) -> CheckResult:
    failing = (outcome.failures or 0) > 0
    status = ("warn" if check.severity == "warn" else "fail") if failing else "pass"
    scope = {
        "rows": "new batches",
        "items": "new batches (new items)",
        "sums": "new batches (new items), added to the stored counts per group",
        "row_sums": "new batches, added to the stored counts per group",
        "unmatched": "new batches (they match only new rows of the other relation, whose "
        "other rows are as before: the stored failures stand)",
        "unique": "values in new batches, against the whole table",
        "full": "whole table",
        "schema": "column signature",
    }[outcome.mode]
    return CheckResult(
        check.id,
        check.contract,
        check.kind.value,
        check.severity,
        check.owner,
        check.description,
        status,
        outcome.failures,
        f"{outcome.failures} failing; checked: {scope}" if failing else f"checked: {scope}",
        outcome.duration,
        outcome.sql,
        group_by=check.params.group_column(),
    )


def _verdict(
    plan: Plan,
    results: list[CheckResult],
    fingerprint: dict[str, Any],
    evidence: dict[str, Any] | None = None,
) -> ContractVerdict:
    failing = [r.check_id for r in results if r.status in ("fail", "error")]
    not_run = [r.check_id for r in results if r.status == "skipped"]
    warned = [r.check_id for r in results if r.status == "warn"]
    status = "fail" if failing or not_run else "warn" if warned else "pass"
    return ContractVerdict(
        plan.contract.name,
        plan.contract.version,
        status,
        fingerprint,
        failing + warned,
        **(evidence or {}),
        not_run=not_run,
    )


def _result(check: Check, outcome: CheckOutcome | None) -> CheckResult:
    if outcome is None:
        status, failures, message, duration, sql = (
            "error",
            None,
            "check did not run (is the dbt project compiled?)",
            0.0,
            "",
        )
    else:
        status, failures, message = outcome.status, outcome.failures, outcome.message
        duration, sql = outcome.duration, outcome.sql
        if status == "skipped":
            message = message or "skipped because the model failed (see the schema check)"
    return CheckResult(
        check.id,
        check.contract,
        check.kind.value,
        check.severity,
        check.owner,
        check.description,
        status,
        failures,
        message,
        duration,
        sql,
        group_by=check.params.group_column(),
    )
