"""The Wilcoxon (1945) signed-rank test of the differences, as scipy.stats.wilcoxon computes it,
for every group at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

_SCIPY_WILCOXON_MAX_N = 50  # scipy's 'auto' method switches to the normal approximation above 50
_PERMUTATION_MAX_N = 13  # ... and, with zeros or ties, enumerates all sign changes up to 13
TOL = 1e-9
def signed_rank_p(d: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of one set of differences; 1.0 if all are zero."""
    d = np.asarray(d, dtype=float)
    return float(wilcoxon_p(np.zeros(d.size, dtype=np.int64), d, 1)[0])


class AbsoluteRanks:
    """The non-zero differences and the rank of each ``|d|`` among the distinct values, found once."""

    def __init__(self, d: np.ndarray):
        self.nonzero = d != 0
        value_code, values = pd.factorize(np.abs(d[self.nonzero]))
        rank_of = np.empty(len(values), dtype=np.int64)
        rank_of[np.argsort(np.asarray(values), kind="stable")] = np.arange(len(values))
        self.rank = rank_of[value_code]
        self.n_values = max(len(values), 1)


def wilcoxon_p(code: np.ndarray, d: np.ndarray, n_groups: int, ranks: AbsoluteRanks | None = None) -> np.ndarray:
    """Per-group p-values equal to ``scipy.stats.wilcoxon(d_g)`` (defaults), all-zero groups 1.0.

    scipy's ``method="auto"`` takes, for a group of ``n`` differences: the normal approximation
    above 50, or from 14 to 50 when there are zeros or ties (computed here for all groups at
    once); the exact null distribution up to 50 without zeros or ties (scipy is called); and a
    permutation test over all ``2^n`` sign changes for 13 or fewer with zeros or ties
    (enumerated here, as scipy does, but without its per-call cost).
    """
    p, has_ties = _signed_rank_normal(code, d, n_groups, ranks or AbsoluteRanks(d))
    size = np.bincount(code, minlength=n_groups)
    nonzero = np.bincount(code, weights=(d != 0).astype(float), minlength=n_groups)
    small = (size <= _SCIPY_WILCOXON_MAX_N) & (nonzero > 0)
    exact = small & ~has_ties & (nonzero == size)
    permutation = small & ~exact & (size <= _PERMUTATION_MAX_N)
    if (exact | permutation).any():
        order = np.argsort(code, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(size)])
        for g in np.flatnonzero(exact | permutation):
            group = d[order[bounds[g] : bounds[g + 1]]]
            p[g] = float(stats.wilcoxon(group).pvalue) if exact[g] else _sign_flip_p(group)
    return p


def _sign_flip_p(d: np.ndarray) -> float:
    """Two-sided permutation p-value of ``R+`` over every sign change of the non-zero ``d``.

    As ``scipy.stats.wilcoxon(d, method=PermutationMethod())`` for ``n <= 13``: mid-ranks of
    ``|d|``, ``p = min(1, 2 min(P(R+ <= r), P(R+ >= r)))`` with scipy's relative tolerance.
    """
    nonzero = d[d != 0]
    m = nonzero.size
    ranks = stats.rankdata(np.abs(nonzero))
    observed = float(ranks[nonzero > 0].sum())
    patterns = (np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1
    null = patterns @ ranks
    gamma = abs(100 * np.finfo(float).eps * observed)
    greater = float(np.mean(null >= observed - gamma))
    less = float(np.mean(null <= observed + gamma))
    return min(1.0, 2 * min(greater, less))


def _signed_rank_normal(
    code: np.ndarray, d: np.ndarray, n_groups: int, ranks: AbsoluteRanks
) -> tuple[np.ndarray, np.ndarray]:
    """Normal approximation of the signed-rank statistic with tie correction, all groups at once.

    Zeros are dropped; ``|d|`` gets mid-ranks within its group; ``R+`` is the sum of ranks of the
    positive differences; ``z = (R+ - n(n+1)/4) / sqrt((n(n+1)(2n+1) - sum(t^3 - t)/2) / 24)``
    over tie groups of size ``t``; ``p = 2 * (1 - Phi(|z|))`` (Wilcoxon 1945; as scipy).
    Groups without a non-zero difference get ``p = 1``. Also returns which groups have ties.
    """
    keep = ranks.nonzero
    g, positive = code[keep].astype(np.int64), (d[keep] > 0).astype(float)
    n_values = ranks.n_values
    block = g * n_values + ranks.rank  # (group, |d|) blocks; their order = group, then |d|
    if n_groups * n_values <= 20_000_000:
        block_code, n_blocks = block, n_groups * n_values
        block_group = np.arange(n_blocks) // n_values
    else:
        block_code, blocks = pd.factorize(block)
        order = np.argsort(np.asarray(blocks), kind="stable")
        remap = np.empty_like(order)
        remap[order] = np.arange(order.size)
        block_code, n_blocks = remap[block_code], order.size
        block_group = np.asarray(blocks)[order] // n_values
    t = np.bincount(block_code, minlength=n_blocks).astype(float)
    t_plus = np.bincount(block_code, weights=positive, minlength=n_blocks)
    n = np.bincount(block_group, weights=t, minlength=n_groups)
    before_in_group = np.cumsum(t) - t - (np.cumsum(n) - n)[block_group]
    midrank = before_in_group + (t + 1) / 2
    r_plus = np.bincount(block_group, weights=midrank * t_plus, minlength=n_groups)
    ties = np.bincount(block_group, weights=t**3 - t, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt((n * (n + 1) * (2 * n + 1) - ties / 2) / 24)
        z = (r_plus - n * (n + 1) / 4) / se
        p = 2 * stats.norm.sf(np.abs(z))
    has_ties = np.bincount(block_group, weights=(t > 1).astype(float), minlength=n_groups) > 0
    return np.where(se > 0, np.minimum(p, 1.0), 1.0), has_ties


# -- helpers -------------------------------------------------------------------------------------


