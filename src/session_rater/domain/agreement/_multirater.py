"""The quantities shared by the multi-rater coefficients, in Gwet's (2014) notation.

For unit ``i`` rated by ``r_i`` raters, ``r_ik`` of whom chose category ``k``, and agreement
weights ``w_kl``:

* ``r*_ik = sum_l w_kl r_il``, the weighted count of ratings that agree with category ``k``;
* ``p_a|i = sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))``, the unit's share of agreeing pairs of
  raters (defined for ``r_i >= 2``), and ``p_a``, its mean over those ``n_2`` units (Fleiss
  1971's P-bar, extended to varying numbers of raters);
* ``pi_k = (1/n) sum_i r_ik / r_i``, the share of classifications into ``k`` (over all ``n``
  units with at least one rating).

The variance of a coefficient ``c = (p_a - p_e) / (1 - p_e)`` is Gwet's (2008; 2014, ch. 5)
linearisation: with ``c_i = (n / n_2) (p_a|i - p_e [r_i >= 2]) / (1 - p_e)`` and
``c*_i = c_i - 2 (1 - c) (p_e|i - p_e) / (1 - p_e)``,
``v(c) = sum_i (c*_i - c)^2 / (n (n - 1))`` (no finite-population correction).

Units come as a :class:`~session_rater.domain.agreement._common.Tally`: one row per distinct
pattern of counts, with its frequency; every sum over units is a frequency-weighted sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from session_rater.domain.agreement._common import AgreementError, FloatArray

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class UnitAgreement:
    """``p_a|i`` per pattern of units (0 where fewer than two ratings), their frequency, ``p_a``."""

    per_unit: FloatArray
    paired: BoolArray
    frequency: FloatArray
    pa: float

    @property
    def n(self) -> int:
        return int(self.frequency.sum())

    @property
    def n_paired(self) -> int:
        return int(self.frequency[self.paired].sum())


def unit_agreement(counts: FloatArray, frequency: FloatArray, w: FloatArray | None = None) -> UnitAgreement:
    """``p_a|i`` and ``p_a`` from ``counts[i, k] = r_ik`` and the weights ``w_kl`` (None: identity)."""
    r = counts.sum(axis=1)
    r_star = counts if w is None else counts @ w.T
    agreeing = (counts * (r_star - 1)).sum(axis=1)
    return from_pairs(agreeing, r * (r - 1), frequency)


def from_pairs(agreeing: FloatArray, pairs: FloatArray, frequency: FloatArray) -> UnitAgreement:
    """``p_a|i = agreeing_i / pairs_i`` for the units with at least one pair of raters."""
    paired = pairs > 0
    if not paired.any():
        raise AgreementError("no unit was rated by two raters, so agreement cannot be observed")
    per_unit = np.zeros_like(agreeing)
    per_unit[paired] = agreeing[paired] / pairs[paired]
    pa = float(frequency[paired] @ per_unit[paired] / frequency[paired].sum())
    return UnitAgreement(per_unit, paired, frequency, pa)


def classification_shares(counts: FloatArray, frequency: FloatArray) -> FloatArray:
    """``pi_k``: the mean over units of the share of the unit's ratings in category ``k``."""
    shares: FloatArray = frequency @ (counts / counts.sum(axis=1, keepdims=True)) / frequency.sum()
    return shares


def chance_corrected(pa: float, pe: float, what: str) -> float:
    if pe >= 1 - 1e-12:
        raise AgreementError(
            f"{what} is not defined: chance agreement is 1 (a single category is used), "
            "so there is no disagreement to correct for"
        )
    return (pa - pe) / (1 - pe)


def gwet_variance(agreement: UnitAgreement, value: float, pe: float, pe_i: FloatArray) -> float | None:
    """Gwet's linearised variance of ``value``; None with fewer than two units."""
    n = agreement.n
    if n < 2:
        return None
    c_i = (n / agreement.n_paired) * (agreement.per_unit - pe * agreement.paired) / (1 - pe)
    c_star = c_i - 2 * (1 - value) * (pe_i - pe) / (1 - pe)
    return float(agreement.frequency @ (c_star - value) ** 2 / (n * (n - 1)))
