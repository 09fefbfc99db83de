"""How close one rater's scores of a benchmark session are to its master scores.

For the items both scored (an item the master scores as not applicable, or the rater left
N/A, is not compared):

* exact agreement: the share of items where the rater's score equals the master score;
* agreement within one point ("adjacent agreement"): the share where they differ by at most 1;
* mean signed difference: the mean of rater minus master (positive: the rater over-scores).

These are the figures scoring centres certify raters on (exact and adjacent agreement with
validity papers, and the direction of the differences); the Think First audit asks whether
treatment managers' scoring "is accurate", which the signed difference answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class AgreementWithMaster:
    """The figures over ``n_items`` compared items. ``exact_count`` and ``within_one_count``
    are kept as counts (and ``difference_sum`` as an exact sum) so a rule's edge, 80% or a bias
    of 0.5, is decided without rounding."""

    n_items: int
    exact_count: int
    within_one_count: int
    difference_sum: Fraction

    @property
    def exact(self) -> float:
        return self.exact_count / self.n_items

    @property
    def within_one(self) -> float:
        return self.within_one_count / self.n_items

    @property
    def mean_bias(self) -> float:
        """Rater minus master, averaged over the compared items."""
        return float(self.difference_sum / self.n_items)

    def __add__(self, other: AgreementWithMaster) -> AgreementWithMaster:
        """Figures over a round: the items of several sessions pooled."""
        return AgreementWithMaster(self.n_items + other.n_items, self.exact_count + other.exact_count,
                                   self.within_one_count + other.within_one_count,
                                   self.difference_sum + other.difference_sum)  # fmt: skip


@dataclass(frozen=True)
class ItemComparison:
    """One item as the rater sees it after submitting: their score beside the master's."""

    item_id: str
    rater: int | None
    master: int | None

    @property
    def difference(self) -> int | None:
        return None if self.rater is None or self.master is None else self.rater - self.master


def compare_items(item_ids: Sequence[str], rater: Mapping[str, int | None],
                  master: Mapping[str, int | None]) -> list[ItemComparison]:  # fmt: skip
    """Each item of the rubric, in its order, with the rater's and the master score (``None``:
    not applicable or not scored)."""
    return [ItemComparison(item_id, rater.get(item_id), master.get(item_id)) for item_id in item_ids]


def agreement_with_master(comparisons: Sequence[ItemComparison]) -> AgreementWithMaster:
    """The figures of :class:`AgreementWithMaster` over the items both scored.

    Raises ``ValueError`` when no item was scored by both: there is nothing to compare, and a
    share of nothing is not 0%.
    """
    differences = [c.difference for c in comparisons if c.difference is not None]
    if not differences:
        raise ValueError("no item was scored both by the rater and in the master scores: nothing to compare")
    return AgreementWithMaster(
        n_items=len(differences),
        exact_count=sum(d == 0 for d in differences),
        within_one_count=sum(abs(d) <= 1 for d in differences),
        difference_sum=Fraction(sum(differences)),
    )
