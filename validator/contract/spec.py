"""The contract language, declared once: the loader validates against it (`structure`) and the
JSON Schema published for editors is generated from it (`json_schema`), so the two cannot
disagree.

The module is long because the language is one declarative table (`CONTRACT`): every key, its
type, default and description in one place, read top to bottom like the reference it is.
Splitting it by section would scatter what a contract author reads as one document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TYPES = ("bigint", "integer", "varchar", "double", "boolean", "date", "timestamp")
NUMERIC_TYPES = frozenset({"bigint", "integer", "double"})
TEMPORAL_TYPES = frozenset({"date", "timestamp"})
TYPE_SYNONYMS = {
    "string": "varchar",
    "text": "varchar",
    "str": "varchar",
    "int": "integer",
    "long": "bigint",
    "int64": "bigint",
    "int32": "integer",
    "float": "double",
    "float64": "double",
    "real": "double",
    "number": "double",
    "bool": "boolean",
    "datetime": "timestamp",
    "time": "timestamp",
}
SEVERITIES = ("error", "warn")
IDENT = r"^[a-z][a-z0-9_]*$"
SEMVER = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$"


@dataclass
class Spec:
    doc: str = ""


@dataclass
class Str(Spec):
    pattern: str | None = None
    pattern_doc: str = ""
    regex: bool = False  # the value itself must compile as a regular expression


@dataclass
class Enum(Spec):
    choices: tuple[str, ...] = ()
    synonyms: dict[str, str] = field(default_factory=dict)


@dataclass
class Bool(Spec):
    pass


@dataclass
class Num(Spec):
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None


@dataclass
class Scalar(Spec):
    """A string, number or boolean (for accepted values)."""


@dataclass
class ColRef(Spec):
    """Names a column declared in this contract's `columns`, optionally of certain types."""

    types: frozenset[str] | None = None


@dataclass
class ContractRef(Spec):
    """Names another contract by its `contract:` name."""


@dataclass
class ListOf(Spec):
    item: Spec = field(default_factory=Spec)
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False


@dataclass
class MapOf(Spec):
    value: Spec = field(default_factory=Spec)
    key_pattern: str | None = None
    min_items: int = 0


@dataclass
class Field:
    spec: Spec
    required: bool = False
    default: Any = None


@dataclass
class Obj(Spec):
    fields: dict[str, Field] = field(default_factory=dict)
    one_of: tuple[str, ...] = ()  # exactly one of these keys must be present


def _f(spec: Spec, required: bool = False, default: Any = None) -> Field:
    return Field(spec, required, default)


SEVERITY = _f(
    Enum(
        "Severity of the checks in this section: error fails the build, warn only reports.",
        SEVERITIES,
    ),
    default="error",
)

# A row filter of a section's rules (see `contract/filters.py`).
WHERE = _f(
    Str(
        "Only rows satisfying this read-only boolean SQL expression over the contract's columns "
        "count for this section's rules, e.g. `NOT is_cancelled AND NOT is_gold` (rows where it "
        "is NULL do not count). Not applied to `uncertainty.range` (a rule on every value) nor "
        "to the adjudication records' decisions."
    )
)

COLUMN = Obj(
    "A contracted column.",
    {
        "type": _f(
            Enum("Logical type; mapped to each warehouse's type.", TYPES, TYPE_SYNONYMS),
            required=True,
        ),
        "required": _f(Bool("Value must not be null."), default=False),
        "unique": _f(Bool("Values must be unique."), default=False),
        "pattern": _f(
            Str(
                "Regular expression every non-null value must fully match (anchor with ^...$).",
                regex=True,
            )
        ),
        "accepted_values": _f(
            ListOf("Every non-null value must be one of these.", Scalar(), min_items=1, unique=True)
        ),
        "between": _f(ListOf("Inclusive [min, max]; use null for an open end.", Num(), 2, 2)),
        "not_in_future": _f(Bool("Timestamp must not lie in the future."), default=False),
        "description": _f(Str("What the column means (shown in dbt docs).")),
        "pii": _f(Bool("Personal data: never shown in failure samples."), default=False),
        "references": _f(
            Obj(
                "Every non-null value must exist in another contract's column.",
                {
                    "contract": _f(ContractRef("Referenced contract."), required=True),
                    "column": _f(Str("Referenced column."), required=True),
                },
            )
        ),
        "severity": SEVERITY,
    },
)

# Per-annotator quality (`annotators:`): each rule judges one annotator's labels against a bound,
# once the annotator has `min_labels` labels (fewer are too few to judge).
_RATE = Num("Highest acceptable rate (0-1).", minimum=0, maximum=1)
ANNOTATORS = Obj(
    "Per-annotator quality: each annotator's label mix, rate of low-confidence labels, rate of "
    "labels later corrected and turnaround, each within bounds.",
    {
        "annotator": _f(ColRef("Annotator column."), required=True),
        "min_labels": _f(
            Num(
                "Labels an annotator needs before these rules judge them.", integer=True, minimum=1
            ),
            default=30,
        ),
        "label_mix": _f(
            Obj(
                "Each annotator's label shares (current labels) are within `max_divergence` of "
                "the population's (every current label, the annotator's own included).",
                {
                    "label": _f(ColRef("Label column."), required=True),
                    "measure": _f(
                        Enum(
                            "total_variation: half the summed absolute share differences; "
                            "jensen_shannon: the Jensen-Shannon divergence in bits. Both lie in "
                            "[0, 1] (0 = the same mix, 1 = disjoint labels).",
                            ("total_variation", "jensen_shannon"),
                        ),
                        default="total_variation",
                    ),
                    "max_divergence": _f(
                        Num("Largest acceptable divergence.", minimum=0, maximum=1), required=True
                    ),
                },
            )
        ),
        "low_confidence": _f(
            Obj(
                "Each annotator's share of labels (with a confidence) below `below` is at most "
                "`max_rate`.",
                {
                    "confidence": _f(ColRef("Confidence column.", NUMERIC_TYPES), required=True),
                    "below": _f(Num("A label is low-confidence below this value."), default=0.5),
                    "max_rate": _f(_RATE, required=True),
                },
            )
        ),
        "corrected": _f(
            Obj(
                "Each annotator's share of labels that a later row corrects (`revisions.parent` "
                "points at them) is at most `max_rate`; needs a `revisions` section.",
                {"max_rate": _f(_RATE, required=True)},
            )
        ),
        "turnaround": _f(
            Obj(
                "Time spent per label, from a duration column (`seconds`) or two timestamps "
                "(`started`, `finished`), per annotator or per `by` (e.g. the batch): the median "
                "within [min_median, max_median] (a low median is implausibly fast work) and "
                "the 90th percentile at most max_p90, in seconds (percentiles interpolate "
                "linearly, as PERCENTILE_CONT).",
                {
                    "seconds": _f(ColRef("Duration column, in seconds.", NUMERIC_TYPES)),
                    "started": _f(ColRef("When work on the label began.", TEMPORAL_TYPES)),
                    "finished": _f(ColRef("When the label was given.", TEMPORAL_TYPES)),
                    "by": _f(ColRef("Group column (default: the annotator column).")),
                    "min_median": _f(Num("Lowest acceptable median, seconds.", minimum=0)),
                    "max_median": _f(Num("Highest acceptable median, seconds.", minimum=0)),
                    "max_p90": _f(Num("Highest acceptable 90th percentile, seconds.", minimum=0)),
                },
            )
        ),
        "severity": SEVERITY,
    },
)


CONTRACT = Obj(
    "A labelpact data contract for one relation of annotation data.",
    {
        "contract": _f(
            Str(
                "Contract name; also the dbt model name.",
                IDENT,
                "lowercase letters, digits and _ , starting with a letter",
            ),
            required=True,
        ),
        "version": _f(
            Str("Semantic version of the contract itself.", SEMVER, "semver like 1.2.0"),
            required=True,
        ),
        "owner": _f(Str("Who answers for this data; reported with failures."), required=True),
        "description": _f(Str("What one row means.")),
        "source": _f(
            Obj(
                "Where the data lives; exactly one of the keys.",
                {
                    "dbt_source": _f(
                        Str(
                            "A dbt source as schema.table.",
                            r"^[A-Za-z_][A-Za-z0-9_]*\."
                            r"[A-Za-z_][A-Za-z0-9_]*$",
                            "schema.table",
                        )
                    ),
                    "ref": _f(Str("An existing dbt model name.")),
                    "path": _f(Str("A Parquet/CSV file path (DuckDB only).")),
                },
                one_of=("dbt_source", "ref", "path"),
            ),
            required=True,
        ),
        "key": _f(
            ListOf(
                "Columns that identify a row; checked for compound uniqueness.",
                ColRef(),
                min_items=1,
                unique=True,
            )
        ),
        "extra_columns": _f(
            Enum("Whether columns not listed here are allowed.", ("forbid", "allow")),
            default="forbid",
        ),
        "materialized": _f(
            Enum("How dbt exposes the contracted relation.", ("view", "table")), default="view"
        ),
        "columns": _f(
            MapOf("The contracted columns, in order.", COLUMN, min_items=1), required=True
        ),
        "checks": _f(
            ListOf(
                "Custom row checks: every row must satisfy a SQL boolean expression "
                "over this contract's columns (rows where it is NULL pass).",
                Obj(
                    "",
                    {
                        "name": _f(
                            Str(
                                "Check name (part of its id).",
                                IDENT,
                                "lowercase letters, digits and _ , starting with a letter",
                            ),
                            required=True,
                        ),
                        "expression": _f(
                            Str(
                                "A read-only boolean SQL expression, e.g. `confidence >= 0.5 OR "
                                "notes IS NOT NULL`."
                            ),
                            required=True,
                        ),
                        "description": _f(Str("What the rule means.")),
                        "severity": SEVERITY,
                    },
                ),
                min_items=1,
            )
        ),
        "provenance": _f(
            Obj(
                "Who gave a label, when, with which tool, in which batch.",
                {
                    "annotator": _f(ColRef("Annotator id column.")),
                    "timestamp": _f(ColRef("Label time column.", TEMPORAL_TYPES)),
                    "tool": _f(ColRef("Labeling tool column.")),
                    "batch": _f(ColRef("Batch column.")),
                    "severity": SEVERITY,
                },
            )
        ),
        "uncertainty": _f(
            Obj(
                "How sure annotators were, per label and per batch.",
                {
                    "confidence": _f(ColRef("Confidence column.", NUMERIC_TYPES), required=True),
                    "range": _f(ListOf("Valid confidence range.", Num(), 2, 2), default=[0, 1]),
                    "notes": _f(ColRef("Free-text notes column.")),
                    "notes_required_below": _f(
                        Num("Notes must be present when confidence is below this.")
                    ),
                    "batch": _f(
                        Obj(
                            "Per-batch uncertainty bounds.",
                            {
                                "by": _f(ColRef("Batch column."), required=True),
                                "low_confidence_below": _f(
                                    Num("A label is low-confidence below this."), default=0.5
                                ),
                                "max_low_share": _f(
                                    Num(
                                        "Max share of low-confidence labels per batch.",
                                        minimum=0,
                                        maximum=1,
                                    )
                                ),
                                "mean_between": _f(
                                    ListOf("Bounds for mean confidence per batch.", Num(), 2, 2)
                                ),
                            },
                        )
                    ),
                    "where": WHERE,
                    "severity": SEVERITY,
                },
            )
        ),
        "instructions": _f(
            Obj(
                "Which labeling-instruction version each label was made under.",
                {
                    "column": _f(ColRef("Instruction version column."), required=True),
                    "registry": _f(
                        ContractRef("The instruction registry contract."), required=True
                    ),
                    "active_at": _f(
                        ColRef("Timestamp the version must be active at.", TEMPORAL_TYPES),
                        required=True,
                    ),
                    "require_approved": _f(
                        Bool("Versions must be approved before use."), default=True
                    ),
                    "superseded": _f(
                        MapOf(
                            "What happens to current labels made under a version that a "
                            "later one superseded, per split (`all` for every split): "
                            "accept (grandfathered), flag (a warning), reject (an error: "
                            "they must be re-labelled under a newer version).",
                            Enum("", ("accept", "flag", "reject")),
                        )
                    ),
                    "splits": _f(
                        Obj(
                            "Version rules per dataset split.",
                            {
                                "column": _f(ColRef("Split column."), required=True),
                                "single_version": _f(
                                    ListOf(
                                        "These splits together must use one version.",
                                        Str(),
                                        min_items=1,
                                        unique=True,
                                    )
                                ),
                                "allowed": _f(
                                    MapOf(
                                        "Versions allowed per split.",
                                        ListOf("", Str(), min_items=1),
                                    )
                                ),
                            },
                        )
                    ),
                    "severity": SEVERITY,
                },
            )
        ),
        "registry": _f(
            Obj(
                "This contract is an instruction-version registry.",
                {
                    "version": _f(ColRef("Version id column."), required=True),
                    "effective_from": _f(
                        ColRef("Start of validity.", TEMPORAL_TYPES), required=True
                    ),
                    "retired_at": _f(
                        ColRef("End of validity (exclusive), null while active.", TEMPORAL_TYPES)
                    ),
                    "approved_by": _f(ColRef("Approver column.")),
                    "approved_at": _f(ColRef("Approval time column.", TEMPORAL_TYPES)),
                    "non_overlapping": _f(
                        Bool("Validity windows must not overlap."), default=False
                    ),
                    "supersedes": _f(
                        ColRef("The version this one replaced (supersession history).")
                    ),
                    "severity": SEVERITY,
                },
            )
        ),
        "agreement": _f(
            Obj(
                "Inter-annotator agreement per group, with a minimum.",
                {
                    "item": _f(ColRef("Item column."), required=True),
                    "rater": _f(ColRef("Annotator column."), required=True),
                    "label": _f(ColRef("Label column."), required=True),
                    "by": _f(ColRef("Group column (batch, split); whole table when absent.")),
                    "metric": _f(
                        Enum(
                            "Agreement coefficient.",
                            ("krippendorff_alpha", "fleiss_kappa", "cohen_kappa"),
                        ),
                        required=True,
                    ),
                    "level": _f(
                        Enum(
                            "Krippendorff level of measurement.", ("nominal", "ordinal", "interval")
                        ),
                        default="nominal",
                    ),
                    "weights": _f(
                        Enum("Cohen weighting.", ("none", "linear", "quadratic")), default="none"
                    ),
                    "categories": _f(
                        ListOf(
                            "Ordered categories (ordinal alpha, weighted kappa); numbers for "
                            "a numeric label.",
                            Scalar(),
                            min_items=2,
                            unique=True,
                        )
                    ),
                    "min": _f(
                        Num("Minimum acceptable value per group.", minimum=-1, maximum=1),
                        required=True,
                    ),
                    "per_annotator": _f(
                        Obj(
                            "Each annotator's agreement with the item's reference label: the "
                            "adjudicated decision (with an `adjudication` section) where there "
                            "is one, else the unique majority of the other annotators' current "
                            "labels; a label without a reference (a tie, no other annotator) "
                            "does not count.",
                            {
                                "min": _f(
                                    Num(
                                        "Minimum share of labels equal to the reference.",
                                        minimum=0,
                                        maximum=1,
                                    ),
                                    required=True,
                                ),
                                "min_items": _f(
                                    Num(
                                        "Labels with a reference an annotator needs before "
                                        "the rule applies to them.",
                                        integer=True,
                                        minimum=1,
                                    ),
                                    default=20,
                                ),
                            },
                        )
                    ),
                    "where": WHERE,
                    "severity": SEVERITY,
                },
            )
        ),
        "adjudication": _f(
            Obj(
                "Disagreements need an adjudication record.",
                {
                    "contract": _f(
                        ContractRef("Contract holding adjudication records."), required=True
                    ),
                    "item": _f(ColRef("Item column in this contract."), required=True),
                    "label": _f(ColRef("Label column in this contract."), required=True),
                    "flag_unneeded": _f(
                        Bool("Flag adjudications of items without disagreement."), default=True
                    ),
                    "where": WHERE,
                    "severity": SEVERITY,
                },
            )
        ),
        "adjudication_record": _f(
            Obj(
                "This contract holds adjudication decisions.",
                {
                    "item": _f(ColRef("Adjudicated item column."), required=True),
                    "decision": _f(ColRef("Decided label column."), required=True),
                    "adjudicator": _f(ColRef("Adjudicator column."), required=True),
                    "rationale": _f(ColRef("Rationale column."), required=True),
                },
            )
        ),
        "audits": _f(
            Obj(
                "Audited error rate per annotator and per batch, from the audit results of "
                "another contract (one row per audited label). A group fails only when the lower "
                "bound of the Wilson confidence interval of its error rate exceeds "
                "`max_error_rate`, so a handful of audits cannot fail a group by bad luck.",
                {
                    "contract": _f(
                        ContractRef("Contract holding the audit results."), required=True
                    ),
                    "annotator": _f(ColRef("Annotator column: an error rate per annotator.")),
                    "batch": _f(ColRef("Batch column: an error rate per batch.")),
                    "error_verdicts": _f(
                        ListOf("Verdicts that count as an error.", Str(), min_items=1, unique=True),
                        default=["incorrect"],
                    ),
                    "max_error_rate": _f(
                        Num("Highest acceptable error rate.", minimum=0, maximum=1),
                        required=True,
                    ),
                    "confidence": _f(
                        Num(
                            "Confidence level of the Wilson interval (0.95: z = 1.96).",
                            minimum=0.5,
                            maximum=0.999,
                        ),
                        default=0.95,
                    ),
                    "severity": SEVERITY,
                },
            )
        ),
        "audit_record": _f(
            Obj(
                "This contract holds audit results: one row per audited label.",
                {
                    "annotation": _f(
                        ColRef("The audited label: the key of the audited contract."),
                        required=True,
                    ),
                    "item": _f(ColRef("Audited item column."), required=True),
                    "auditor": _f(ColRef("Auditor column."), required=True),
                    "verdict": _f(
                        ColRef("Verdict column (e.g. correct / incorrect)."), required=True
                    ),
                    "error_type": _f(ColRef("Kind of error found, if any.")),
                    "audited_at": _f(
                        ColRef("When the audit was made.", TEMPORAL_TYPES), required=True
                    ),
                },
            )
        ),
        "revisions": _f(
            Obj(
                "Corrections keep a complete history.",
                {
                    "parent": _f(
                        ColRef("Column pointing at the corrected row's key."), required=True
                    ),
                    "lineage": _f(
                        ListOf(
                            "Columns identifying one lineage (one current row each).",
                            ColRef(),
                            min_items=1,
                            unique=True,
                        )
                    ),
                    "timestamp": _f(
                        ColRef("Timestamps must increase along a chain.", TEMPORAL_TYPES)
                    ),
                    "severity": SEVERITY,
                },
            )
        ),
        "coverage": _f(
            Obj(
                "How many current annotations each item has.",
                {
                    "item": _f(ColRef("Item column."), required=True),
                    "min_annotations": _f(
                        Num("Minimum annotations per item.", integer=True, minimum=1), required=True
                    ),
                    "max_annotations": _f(
                        Num("Maximum annotations per item.", integer=True, minimum=1)
                    ),
                    "items": _f(
                        Obj(
                            "The contract listing every item (items with none are reported).",
                            {
                                "contract": _f(ContractRef("Items contract."), required=True),
                                "item": _f(Str("Item column in that contract."), required=True),
                            },
                        )
                    ),
                    "where": WHERE,
                    "severity": SEVERITY,
                },
            )
        ),
        "incremental": _f(
            Obj(
                "Validate new batches in proportion to their size "
                "(`labelpact validate --incremental`): rows arrive in batches, and "
                "a batch, once validated, does not change.",
                {
                    "batch": _f(
                        ColRef("Column naming the batch each row arrived in."), required=True
                    ),
                },
            )
        ),
        "label_distribution": _f(
            Obj(
                "Share of each label per segment, to catch skew.",
                {
                    "label": _f(ColRef("Label column."), required=True),
                    "by": _f(ColRef("Segment column (batch, annotator, split).")),
                    "min_share": _f(Num("Minimum share of each label.", minimum=0, maximum=1)),
                    "max_share": _f(Num("Maximum share of any label.", minimum=0, maximum=1)),
                    "reference": _f(
                        MapOf(
                            "Expected share of each label (e.g. the labelling "
                            "population), to compare every segment with.",
                            Num(minimum=0, maximum=1),
                            min_items=2,
                        )
                    ),
                    "max_divergence": _f(
                        Num(
                            "Maximum total-variation distance between a segment's label "
                            "shares and `reference` (0 = identical, 1 = disjoint).",
                            minimum=0,
                            maximum=1,
                        )
                    ),
                    "where": WHERE,
                    "severity": SEVERITY,
                },
            )
        ),
        "annotators": _f(ANNOTATORS),
    },
)

SECTIONS = (
    "provenance",
    "uncertainty",
    "instructions",
    "registry",
    "agreement",
    "adjudication",
    "adjudication_record",
    "audits",
    "audit_record",
    "revisions",
    "coverage",
    "label_distribution",
    "annotators",
    "incremental",
)


# dbt renders Jinja in generated YAML and SQL, and labelpact marks relations with `__lp_`
# placeholders: a contract string carrying either could smuggle code into the build.
