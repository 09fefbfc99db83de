"""Compare, one session and tutor: every submitted rating in its own column, grouped by capacity
(two treatment managers who gave 1 and 2 show 1 and 2, never a mean of 1.5), and the evidence
notes and moments behind the scores, as far as the viewer may see them.

Who sees what. The scores: whoever may see others' ratings of this (session, tutor)
(:attr:`Action.SEE_OTHERS_RATINGS`: blind until one's own rating is submitted; an overseer who
looks is recorded as not blind), checked by :meth:`Permitted.compare_session`. The notes of
others' ratings are supervision material: shown to those who may see this tutor's supervision
feedback (:attr:`Action.VIEW_SUPERVISION`: the tutor, their treatment manager, the area's
programme manager, administrators), never to a co-tutor or an assessor; one's own notes always.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from session_rater.domain.access import Action
from session_rater.domain.model import Capacity
from session_rater.domain.records import RatingView
from session_rater.domain.versions import version_sort_key
from session_rater.usecases.permitted import Permitted

__all__ = ["EvidenceNote", "RaterColumn", "SessionComparison", "compare_one_session"]

CAPACITY_ORDER = {c: i for i, c in enumerate(Capacity)}


@dataclass(frozen=True)
class RaterColumn:
    """One submitted rating, shown as one column."""

    capacity: Capacity
    rater: str  # the rater's name (with a number when two raters share one)
    rater_id: int
    rubric_version: str
    is_blind: bool


@dataclass(frozen=True)
class EvidenceNote:
    """What one rater wrote about one item, with the moment in the recording they tied it to."""

    item_id: str
    item: str
    capacity: Capacity
    rater: str
    score: int | None
    not_applicable: bool
    note: str
    moment_seconds: float | None


@dataclass(frozen=True)
class SessionComparison:
    items: list[tuple[str, str]]
    """(item id, title), in the order of the newest checklist version used."""
    columns: list[RaterColumn]
    scores: pd.DataFrame
    """One row per item (index: item id), one column per entry of :attr:`columns`, in that
    order; NaN where N/A or not scored."""
    notes: list[EvidenceNote]
    """The notes the viewer may see, in item order, then capacity, then rater."""
    notes_withheld: int
    """Notes of others' ratings the viewer may not see (0 when they may see them all)."""

    @property
    def spread(self) -> pd.Series:
        """Per item: the highest score minus the lowest, over every rater (NaN with fewer than one score)."""
        return self.scores.max(axis=1) - self.scores.min(axis=1)


def _names(ratings: list[RatingView], people: dict[int, str]) -> list[str]:
    names = [people.get(r.rater_id, f"person #{r.rater_id}") for r in ratings]
    repeated = Counter(names)
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(f"{name} ({seen[name]})" if repeated[name] > 1 else name)
    return out


def compare_one_session(me: Permitted, recording_id: int, tutor_id: int | None) -> SessionComparison:
    """Every submitted rating of this (session, tutor) side by side, for ``me``.

    Raises AccessDeniedError while ratings are blind to ``me`` (see the module docstring);
    an overseer who looks is recorded as not blind, as on the Compare page before."""
    recording, ratings = me.ratings_to_compare(recording_id, tutor_id)  # checks, and records unblinding
    ratings = sorted(ratings, key=lambda r: (CAPACITY_ORDER[r.capacity], r.submitted_at or r.updated_at, r.id))
    if not ratings:
        return SessionComparison([], [], pd.DataFrame(), [], 0)
    svc = me.svc
    rubric = max((svc.rubric_of(r) for r in ratings), key=lambda rb: version_sort_key(rb.version))
    items = [(item.id, item.title) for item in rubric.items]
    known = {i for i, _ in items}
    for r in ratings:  # items of an older version that the newest dropped, after the others
        for item_id in r.scores:
            if item_id not in known:
                known.add(item_id)
                items.append((item_id, f"{item_id} (not in v{rubric.version})"))
    names = _names(ratings, me.people_names())
    columns = [RaterColumn(r.capacity, n, r.rater_id, r.rubric_version, r.is_blind) for r, n in zip(ratings, names, strict=True)]
    scores = pd.DataFrame(
        {i: [float(s.score) if (s := r.scores.get(item_id)) is not None and s.score is not None else float("nan")
             for item_id, _ in items] for i, r in enumerate(ratings)},
        index=[item_id for item_id, _ in items],
    )  # fmt: skip
    may_see_notes = bool(me.decide(Action.VIEW_SUPERVISION, recording, tutor_id=tutor_id))
    titles = dict(items)
    notes, withheld = [], 0
    for item_id, _ in items:
        for r, name in zip(ratings, names, strict=True):
            s = r.scores.get(item_id)
            if s is None or not (s.evidence.strip() or s.moment_seconds is not None):
                continue
            if not may_see_notes and r.rater_id != me.person.id:
                withheld += 1
                continue
            notes.append(EvidenceNote(item_id, titles[item_id], r.capacity, name, s.score, s.not_applicable,
                                      s.evidence.strip(), s.moment_seconds))  # fmt: skip
    return SessionComparison(items, columns, scores, notes, withheld)
