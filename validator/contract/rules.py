"""Rules between the keys of a contract's sections that the language's structure cannot say
(a range in order, keys that go together, split names that exist), and the one default that
depends on another key (ordinal agreement takes its categories from the label's accepted values).

Checks return problems and never change the sections they are given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from validator.contract import spec as S
from validator.contract.annotator_rules import check_annotators
from validator.contract.model import Column
from validator.contract.sections import Agreement as AgreementSection
from validator.contract.sections import (
    Audits,
    Coverage,
    Instructions,
    LabelDistribution,
    Revisions,
    Sections,
    Uncertainty,
)
from validator.contract.yamlload import Node
from validator.errors import Location, Problem, did_you_mean

At = Callable[..., Location]


def needs_order(a: AgreementSection) -> bool:
    return (a.metric == "krippendorff_alpha" and a.level == "ordinal") or (
        a.metric == "cohen_kappa" and a.weights != "none"
    )


def with_categories(sections: Sections, columns: dict[str, Column]) -> Sections:
    """Ordinal alpha and weighted kappa without `categories` take the label's accepted values
    in their order (`_check_agreement` reported the case where there are none)."""
    a = sections.agreement
    if a is not None and a.categories:  # numbers for a numeric label: matched as text in SQL
        return replace(sections, agreement=replace(a, categories=tuple(map(str, a.categories))))
    accepted = columns[a.label].accepted_values if a is not None else None
    if a is None or not needs_order(a) or not accepted:
        return sections
    return replace(sections, agreement=replace(a, categories=tuple(str(x) for x in accepted)))


def check_sections(node: Node, s: Sections, columns: dict[str, Column]) -> list[Problem]:
    """Rules between the keys of a section (never changes the sections)."""

    def at(*keys: str) -> Location:
        cur = node
        for key in keys:
            nxt = cur.get(key)
            if nxt is None:
                break
            cur = nxt
        return cur.loc

    key = node.plain().get("key") or []
    return [
        *_check_uncertainty(s.uncertainty, at),
        *_check_agreement(s.agreement, columns, at),
        *_check_coverage(s.coverage, at),
        *_check_distribution(s.label_distribution, at),
        *_check_instructions(s.instructions, columns, at),
        *_check_revisions(s.revisions, key, columns, at),
        *_check_audits(s.audits, key, at),
        *_check_per_annotator(s.agreement, key, at),
        *check_annotators(s, key, at),
    ]


def _check_per_annotator(a: AgreementSection | None, key: list[str], at: At) -> list[Problem]:
    """Each label is compared with the others of its item: labels are told apart by the key."""
    if a is None or a.per_annotator is None or len(key) == 1:
        return []
    return [
        Problem(
            at("agreement", "per_annotator"),
            "agreement.per_annotator needs a single-column `key:` (each label is compared with "
            "the other labels of its item)",
        )
    ]


def _check_audits(a: Audits | None, key: list[str], at: At) -> list[Problem]:
    """Audit results name one label each: by this contract's (single-column) key."""
    if a is None:
        return []
    problems = []
    if a.annotator is None and a.batch is None:
        problems.append(
            Problem(
                at("audits"),
                "audits needs `annotator:` or `batch:` (or both): the groups "
                "whose audited error rate is checked",
            )
        )
    if len(key) != 1:
        problems.append(
            Problem(
                at("audits"),
                "audits needs a single-column `key:`: audit results name the audited label by it",
            )
        )
    return problems


def _check_uncertainty(u: Uncertainty | None, at: At) -> list[Problem]:
    if u is None:
        return []
    problems: list[Problem] = []
    lo, hi = u.range
    if lo is None or hi is None or lo > hi:
        problems.append(
            Problem(
                at("uncertainty", "range"), "uncertainty.range must be [min, max] with min <= max"
            )
        )
    if u.notes_required_below is not None and not u.notes:
        problems.append(
            Problem(
                at("uncertainty", "notes_required_below"),
                "uncertainty.notes_required_below needs uncertainty.notes",
            )
        )
    batch = u.batch
    mb = batch.mean_between if batch is not None else None
    if mb and (mb[0] is None or mb[1] is None or mb[0] > mb[1]):
        problems.append(
            Problem(
                at("uncertainty", "batch", "mean_between"),
                "uncertainty.batch.mean_between must be [min, max] with min <= max",
            )
        )
    if batch is not None and batch.max_low_share is None and not mb:
        problems.append(
            Problem(
                at("uncertainty", "batch"), "uncertainty.batch needs max_low_share or mean_between"
            )
        )
    return problems


def _check_agreement(
    a: AgreementSection | None, columns: dict[str, Column], at: At
) -> list[Problem]:
    if a is None:
        return []
    problems: list[Problem] = []
    label = columns[a.label]
    if needs_order(a) and not a.categories and not label.accepted_values:
        problems.append(
            Problem(
                at("agreement"),
                "agreement needs `categories` (the label "
                "order) for ordinal alpha or weighted kappa",
            )
        )
    if (
        a.metric == "krippendorff_alpha"
        and a.level == "interval"
        and (label.type not in S.NUMERIC_TYPES)
    ):
        problems.append(
            Problem(
                at("agreement", "level"),
                f"interval agreement needs a numeric label column; '{label.name}' is {label.type}",
            )
        )
    return problems


def _check_coverage(c: Coverage | None, at: At) -> list[Problem]:
    if c is not None and c.max_annotations is not None and (c.max_annotations < c.min_annotations):
        return [
            Problem(
                at("coverage", "max_annotations"),
                "coverage.max_annotations is below min_annotations",
            )
        ]
    return []


def _check_distribution(d: LabelDistribution | None, at: At) -> list[Problem]:
    if d is None:
        return []
    problems: list[Problem] = []
    if (d.reference is None) != (d.max_divergence is None):
        problems.append(
            Problem(
                at("label_distribution"),
                "label_distribution.reference and max_divergence go together",
            )
        )
    elif d.reference and abs(sum(d.reference.values()) - 1) > 1e-6:
        problems.append(
            Problem(
                at("label_distribution", "reference"),
                f"label_distribution.reference shares sum to {sum(d.reference.values()):g}, not 1",
            )
        )
    if d.min_share is None and d.max_share is None and d.reference is None:
        problems.append(
            Problem(
                at("label_distribution"),
                "label_distribution needs min_share, max_share or reference",
            )
        )
    elif d.min_share is not None and d.max_share is not None and d.min_share > d.max_share:
        problems.append(
            Problem(at("label_distribution"), "label_distribution.min_share is above max_share")
        )
    return problems


def _check_instructions(
    i: Instructions | None, columns: dict[str, Column], at: At
) -> list[Problem]:
    if i is None:
        return []
    problems: list[Problem] = []
    named = set(i.superseded or {}) - {"all"}
    if named and i.splits is None:
        problems.append(
            Problem(
                at("instructions", "superseded"),
                "instructions.superseded names splits but instructions.splits.column is not set",
            )
        )
    if i.splits is None:
        return problems
    split_col = columns[i.splits.column]
    allowed = split_col.accepted_values
    if not allowed:
        return problems
    names = (
        list(i.splits.single_version or [])
        + list((i.splits.allowed or {}).keys())
        + [k for k in (i.superseded or {}) if k != "all"]
    )
    for name in names:
        if name not in allowed:
            problems.append(
                Problem(
                    at("instructions", "splits"),
                    f"instructions.splits "
                    f"names split '{name}', which is not an accepted "
                    f"value of '{split_col.name}'",
                    did_you_mean(name, [str(x) for x in allowed]),
                )
            )
    return problems


def _check_revisions(
    r: Revisions | None, key: list[str], columns: dict[str, Column], at: At
) -> list[Problem]:
    if r is None:
        return []
    parent = columns[r.parent]
    if len(key) != 1:
        return [
            Problem(at("revisions"), "revisions need a single-column `key` for parents to point at")
        ]
    if columns[key[0]].type != parent.type:
        return [
            Problem(
                at("revisions", "parent"),
                f"revisions.parent '{parent.name}' is "
                f"{parent.type} but the key '{key[0]}' is {columns[key[0]].type}",
            )
        ]
    return []
