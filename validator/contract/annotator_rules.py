"""Rules between the keys of the `annotators:` section that the language's structure cannot say
(which keys go together, a range in order, the sections a rule builds on).

Checks return problems and never change the sections they are given.
"""

from __future__ import annotations

from collections.abc import Callable

from validator.contract.sections import Annotators, Sections, Turnaround
from validator.errors import Location, Problem

At = Callable[..., Location]


def check_annotators(s: Sections, key: list[str], at: At) -> list[Problem]:
    """Problems of the `annotators:` section (none when it is absent)."""
    a = s.annotators
    if a is None:
        return []
    problems: list[Problem] = []
    if not (a.label_mix or a.low_confidence or a.corrected or a.turnaround):
        problems.append(
            Problem(
                at("annotators"),
                "annotators needs at least one rule: label_mix, low_confidence, corrected or "
                "turnaround",
            )
        )
    problems.extend(_check_corrected(a, s, key, at))
    if a.turnaround is not None:
        problems.extend(_check_turnaround(a.turnaround, at))
    return problems


def _check_corrected(a: Annotators, s: Sections, key: list[str], at: At) -> list[Problem]:
    """A label is corrected when a row's `revisions.parent` names its key."""
    if a.corrected is None:
        return []
    if s.revisions is None:
        return [
            Problem(
                at("annotators", "corrected"),
                "annotators.corrected needs a `revisions:` section (its `parent` column says "
                "which label a row corrects)",
            )
        ]
    if len(key) != 1:
        return [
            Problem(
                at("annotators", "corrected"),
                "annotators.corrected needs a single-column `key:` (revisions.parent names it)",
            )
        ]
    return []


def _check_turnaround(t: Turnaround, at: At) -> list[Problem]:
    where = at("annotators", "turnaround")
    problems: list[Problem] = []
    stamps = (t.started is not None, t.finished is not None)
    if (t.seconds is not None) == any(stamps) or (any(stamps) and not all(stamps)):
        problems.append(
            Problem(
                where,
                "annotators.turnaround needs either `seconds:` (a duration column) or both "
                "`started:` and `finished:` (two timestamps)",
            )
        )
    if t.min_median is None and t.max_median is None and t.max_p90 is None:
        problems.append(
            Problem(where, "annotators.turnaround needs min_median, max_median or max_p90")
        )
    if t.min_median is not None and t.max_median is not None and t.min_median > t.max_median:
        problems.append(Problem(where, "annotators.turnaround.min_median is above max_median"))
    return problems
