"""Adjudication: from a panel's blind ratings of a benchmark session to its master scores.

Each panel member rates the session blind in the capacity ``benchmark``. When every rating is
in, the items where members differ are shown to the panel lead, who agrees a master score per
item with a rationale. A rationale is required where the members disagreed (the reason the
master score is what it is, for raters who will be compared with it); elsewhere it is optional.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PanelDisagreement:
    item_id: str
    scores: Mapping[int, int | None]  # panel member id -> their score (None: not applicable)

    @property
    def spread(self) -> int | None:
        given = [s for s in self.scores.values() if s is not None]
        return max(given) - min(given) if given else None


@dataclass(frozen=True)
class MasterScore:
    item_id: str
    score: int | None  # None: the item does not apply to this session
    rationale: str = ""
    moments: tuple[float, ...] = field(default=())  # seconds into the recording, the evidence


def panel_disagreements(item_ids: Sequence[str], panel: Mapping[int, Mapping[str, int | None]]) -> list[PanelDisagreement]:
    """The items, in rubric order, where the panel's members did not all give the same score
    (a member's N/A against another's score counts as a disagreement)."""
    if len(panel) < 2:
        raise ValueError(f"a benchmark panel has two or more members; this one has {len(panel)}")
    return [PanelDisagreement(item_id, {m: scores.get(item_id) for m, scores in panel.items()})
            for item_id in item_ids if len({scores.get(item_id) for scores in panel.values()}) > 1]  # fmt: skip


def check_master_scores(item_ids: Sequence[str], scale: tuple[int, int], panel: Mapping[int, Mapping[str, int | None]],
                        masters: Sequence[MasterScore], *, duration: float | None = None) -> list[str]:  # fmt: skip
    """Every problem that stops ``masters`` being agreed, in words for the panel lead (an empty
    list: they can be locked): each item scored once, on the scale, with a rationale where the
    panel disagreed, and evidence moments within the recording."""
    problems = []
    low, high = scale
    by_item: dict[str, MasterScore] = {}
    for master in masters:
        if master.item_id not in item_ids:
            problems.append(f"{master.item_id}: not an item of this rubric")
        elif master.item_id in by_item:
            problems.append(f"{master.item_id}: given twice")
        by_item[master.item_id] = master
    disputed = {d.item_id for d in panel_disagreements(item_ids, panel)}
    for item_id in item_ids:
        master = by_item.get(item_id)
        if master is None:
            problems.append(f"{item_id}: no master score yet")
            continue
        if master.score is not None and not low <= master.score <= high:
            problems.append(f"{item_id}: {master.score} is not on the scale {low} to {high}")
        if item_id in disputed and not master.rationale.strip():
            problems.append(f"{item_id}: the panel disagreed here, so say why the master score is what it is")
        for moment in master.moments:
            if moment < 0 or (duration is not None and moment > duration):
                problems.append(f"{item_id}: the moment {moment:g} s is not within the recording")
    return problems
