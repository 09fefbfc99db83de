"""Over-scoring against a benchmark: signed differences with cluster-bootstrap intervals.

The audit found that "tutors continued to over-score their own delivery performance" and that
treatment managers' "scoring was not yet accurate" (HMIP 2002, C1.5 and Section B). This module
measures that gap: every score ``x`` of a rater is paired with the *reference* score ``r`` of
the same (session, tutor, item) and the signed difference ``d = x - r`` is summarised per group
(a rater, a capacity, an item within a capacity, a tutor within a capacity).

Reference (which one is always returned, per pair and overall)
    By default the master scores (``rater_role == "benchmark"``) where they exist for a
    (session, tutor, item), otherwise the external assessors' scores of the same session, tutor
    and item. With ``benchmark_role`` given, only that role's scores. Where several reference
    raters scored a unit, ``r`` is their mean (as in :mod:`session_rater.domain.compare`).
    A rater is never compared with a reference made of their own role's scores, and a pair
    where either side is "not applicable" does not exist.

Figures per group, for the pairs ``d_1 .. d_n`` of the group
    ``mean_diff``
        ``d_bar = sum(d) / n``, the bias of Bland & Altman (1986); over-scoring is positive.
    ``ci``
        a percentile interval (Efron & Tibshirani 1993, ch. 13) of ``d_bar`` over ``B``
        cluster-bootstrap resamples. Scores of one session are not independent (same video,
        same rater's mood, same reference), so the resampled unit is the *session*: each
        resample draws as many sessions as the data hold, with replacement, from all sessions
        that have a pair, and every group's mean is recomputed on it (resampling at the top
        stage of a multi-stage design: Davison & Hinkley 1997, section 3.8; Field & Welsh
        2007). A group's own number of sessions thus varies between resamples, as in the
        Poisson bootstrap for large data (Hanley & MacGibbon 2006; Chamandy et al. 2012);
        resamples in which a group has no pair are left out of its interval. A group with fewer
        than :data:`MIN_SESSIONS_FOR_INTERVAL` sessions gets no interval (``None``).
    ``p_value``
        the two-sided Wilcoxon (1945) signed-rank test of "differences symmetric about 0",
        zeros dropped (Wilcoxon's own treatment). It equals ``scipy.stats.wilcoxon(d)`` with
        its defaults: groups of at most 50 pairs are passed to scipy (exact or permutation
        distribution); larger ones use the same normal approximation with tie correction,
        computed for all groups at once. If every difference is zero there is nothing to rank
        and the data are as far from over-scoring as they can be: ``p_value = 1.0`` by policy,
        without a warning. The test treats pairs as independent, which they are not within a
        session: read it beside the interval, which does not.
    ``share_over_by_1``
        the share of pairs with ``d >= 1``: items scored at least one point above the reference.
    ``limits``
        Bland & Altman (1986) 95% limits of agreement, ``d_bar -+ 1.96 s_d`` (``s_d`` with
        ``n - 1``), treating each pair as one observation; with many items per session the
        between-session part of the variance is included but not separated (Bland & Altman
        2007 give the components-of-variance version).

References
    Bland JM, Altman DG (1986). Statistical methods for assessing agreement between two methods
    of clinical measurement. Lancet 327:307-310.
    Bland JM, Altman DG (2007). Agreement between methods of measurement with multiple
    observations per individual. J Biopharm Stat 17:571-582.
    Chamandy N, Muralidharan O, Najmi A, Naidu S (2012). Estimating uncertainty for massive
    data streams. Google technical report.
    Davison AC, Hinkley DV (1997). Bootstrap Methods and their Application. Cambridge UP.
    Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall.
    Field CA, Welsh AH (2007). Bootstrapping clustered data. J R Stat Soc B 69:369-390.
    Hanley JA, MacGibbon B (2006). Creating non-parametric bootstrap samples using Poisson
    frequencies. Comput Methods Programs Biomed 83:57-62.
    Wilcoxon F (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1:80-83.

Checked against: ``scipy.stats.wilcoxon`` (p-values, every group) and
``session_rater.domain.agreement.bland_altman`` (limits) in ``tests/unit/test_bias.py``.
"""

from session_rater.domain.bias.estimate import (
    BiasEstimate,
    BiasReport,
    BiasTable,
    bias_against_benchmark,
    estimate_bias,
    estimate_bias_by,
)
from session_rater.domain.bias.pairing import (
    BY_ITEM,
    BY_RATER,
    BY_ROLE,
    BY_TUTOR,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    FALLBACK_ROLE,
    KEY,
    MASTER_ROLE,
    MIN_SESSIONS_FOR_INTERVAL,
    OVER_BY,
    ROLES,
    SCORE_COLUMNS,
    PairedScores,
    Reference,
    group_codes,
    pair_with_benchmark,
)
from session_rater.domain.bias.signed_rank import signed_rank_p

__all__ = [
    "FALLBACK_ROLE",
    "KEY",
    "MASTER_ROLE",
    "OVER_BY",
    "ROLES",
    "SCORE_COLUMNS",
    "BY_ITEM",
    "BY_RATER",
    "BY_ROLE",
    "BY_TUTOR",
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "MIN_SESSIONS_FOR_INTERVAL",
    "BiasEstimate",
    "BiasReport",
    "BiasTable",
    "PairedScores",
    "Reference",
    "bias_against_benchmark",
    "estimate_bias",
    "estimate_bias_by",
    "group_codes",
    "pair_with_benchmark",
    "signed_rank_p",
]
