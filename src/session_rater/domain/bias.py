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

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

from session_rater.domain.model import Capacity

MASTER_ROLE = Capacity.BENCHMARK.rater_role
FALLBACK_ROLE = Capacity.EXTERNAL.rater_role
ROLES = tuple(c.rater_role for c in Capacity)
KEY = ("session_id", "tutor_id", "item_id")
SCORE_COLUMNS = ("session_id", "tutor_id", "rater_id", "rater_role", "item_id", "score")

BY_RATER = ("rater_id", "rater_role")
BY_ROLE = ("rater_role",)
BY_ITEM = ("item_id", "rater_role")
BY_TUTOR = ("tutor_id", "rater_role")

DEFAULT_SEED = 2002
"""Seed of the bootstrap when none is given (the year of the audit): reports are reproducible."""
DEFAULT_RESAMPLES = 1000
MIN_SESSIONS_FOR_INTERVAL = 5
"""Below five sessions a cluster bootstrap has too few distinct resamples (at most 126 for
five) and too little spread to give a credible interval; the figure stands without one."""
OVER_BY = 1.0
"""'Scored at least one point above': one scale point, the smallest disagreement that counts."""
LOA_Z = 1.96
"""Bland & Altman's multiplier for 95% limits of agreement (normal quantile 0.975)."""

_SCIPY_WILCOXON_MAX_N = 50  # scipy's 'auto' method switches to the normal approximation above 50
_PERMUTATION_MAX_N = 13  # ... and, with zeros or ties, enumerates all sign changes up to 13
_CELLS_PER_CHUNK = 2_000_000  # sessions x resamples per chunk: 16 MB of weights, scattered in cache
_DENSE_MAX_CELLS = 6_000_000  # sessions x groups below which a grouping is multiplied densely
_TOL = 1e-9
_BOOT_DTYPE = np.float32
"""Resampled sums are formed in single precision: half the memory traffic of the matrix
products, and a relative error near 1e-7, far below the 3-4 decimals an interval is read to."""


@dataclass(frozen=True)
class Reference:
    """Which scores the differences were taken against.

    ``requested`` is the ``benchmark_role`` asked for (``None``: the default rule, master scores
    else external assessors). ``pairs_by_source`` counts the pairs each role served as reference.
    """

    requested: str | None
    pairs_by_source: Mapping[str, int]

    @property
    def role(self) -> str | None:
        """The role(s) actually used: ``"benchmark"``, ``"external_assessor"``, or
        ``"benchmark, else external_assessor"`` when the default rule drew on both."""
        used = [role for role, n in self.pairs_by_source.items() if n]
        return ", else ".join(used) if used else None

    def describe(self) -> str:
        """One sentence saying which scores the differences were taken against."""
        if not any(self.pairs_by_source.values()):
            wanted = _SCORES_OF.get(self.requested or "", "master scores or external assessors' scores")
            return f"no reference: no unit scored by another rater has {wanted}"
        parts = [f"{_SCORES_OF[role]} ({n:,} pairs)" for role, n in self.pairs_by_source.items() if n]
        if len(parts) == 2:
            return f"{parts[0]} where they exist for a session, tutor and item, otherwise {parts[1]}"
        return f"{parts[0]}, of the same session, tutor and item"


_SCORES_OF = {
    "benchmark": "master (benchmark) scores",
    "external_assessor": "external assessors' scores",
    "treatment_manager": "treatment managers' scores",
    "tutor": "tutors' self-assessments",
}


@dataclass(frozen=True)
class PairedScores:
    """Each compared score beside its reference.

    ``pairs`` columns: session_id, tutor_id, item_id, rater_id, rater_role, score, reference
    (mean of the reference raters), difference (score - reference) and source (the role whose
    scores made the reference of that pair).
    """

    reference: Reference
    pairs: pd.DataFrame


@dataclass(frozen=True)
class BiasEstimate:
    """Signed difference against the reference for one group (see the module docstring)."""

    key: tuple[object, ...]
    n: int
    n_sessions: int
    mean_diff: float
    ci: tuple[float, float] | None
    p_value: float
    share_over_by_1: float
    limits: tuple[float, float] | None
    sd_diff: float | None


@dataclass(frozen=True)
class BiasTable:
    """Estimates for every group of one grouping, ``by`` naming the key's columns."""

    by: tuple[str, ...]
    estimates: tuple[BiasEstimate, ...]

    def get(self, *key: object) -> BiasEstimate:
        for estimate in self.estimates:
            if estimate.key == key:
                return estimate
        raise KeyError(key)

    def to_frame(self) -> pd.DataFrame:
        rows = [
            {
                **dict(zip(self.by, e.key, strict=True)),
                "n": e.n,
                "n_sessions": e.n_sessions,
                "mean_diff": e.mean_diff,
                "ci_low": e.ci[0] if e.ci else np.nan,
                "ci_high": e.ci[1] if e.ci else np.nan,
                "p_value": e.p_value,
                "share_over_by_1": e.share_over_by_1,
                "loa_low": e.limits[0] if e.limits else np.nan,
                "loa_high": e.limits[1] if e.limits else np.nan,
            }
            for e in self.estimates
        ]
        columns = [
            *self.by,
            "n",
            "n_sessions",
            "mean_diff",
            "ci_low",
            "ci_high",
            "p_value",
            "share_over_by_1",
            "loa_low",
            "loa_high",
        ]
        return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class BiasReport:
    """Bias per rater, per capacity, per item and capacity, per tutor and capacity."""

    reference: Reference
    by_rater: BiasTable
    by_role: BiasTable
    by_item: BiasTable
    by_tutor: BiasTable
    n_pairs: int
    n_sessions: int
    n_boot: int
    seed: int | None
    confidence: float


# -- pairing -------------------------------------------------------------------------------------


def pair_with_benchmark(scores: pd.DataFrame, *, benchmark_role: str | None = None) -> PairedScores:
    """Pair every score with the reference score of its (session, tutor, item).

    ``scores`` is long format with at least the columns of :data:`SCORE_COLUMNS`; ``score`` NaN
    means "not applicable". ``tutor_id`` may be missing (a session rated as a whole).
    """
    _require_columns(scores)
    if benchmark_role is not None and benchmark_role not in ROLES:
        raise ValueError(f"benchmark_role must be one of {', '.join(ROLES)}, not {benchmark_role!r}")
    value = scores["score"].to_numpy(dtype=float)
    rows = np.flatnonzero(~np.isnan(value))
    role_codes, role_names = pd.factorize(scores["rater_role"])
    role_index = {str(name): i for i, name in enumerate(role_names)}
    unit, n_units = group_codes(scores, KEY)  # units whose scores are all N/A get no reference
    if rows.size < len(scores):
        value, role_codes, unit = value[rows], role_codes[rows], unit[rows]

    preference = [benchmark_role] if benchmark_role else [MASTER_ROLE, FALLBACK_ROLE]
    source = np.full(n_units, -1)
    reference = np.full(n_units, np.nan)
    for role in preference:
        if role not in role_index:
            continue
        mine = role_codes == role_index[role]
        total = np.bincount(unit[mine], weights=value[mine], minlength=n_units)
        count = np.bincount(unit[mine], minlength=n_units)
        take = (source < 0) & (count > 0)
        source[take] = role_index[role]
        reference[take] = total[take] / count[take]

    row_source = source[unit]
    keep = (row_source >= 0) & (role_codes != row_source)
    if benchmark_role is None and MASTER_ROLE in role_index:
        keep &= role_codes != role_index[MASTER_ROLE]  # a master score is never itself "rated"
    columns = ["session_id", "tutor_id", "item_id", "rater_id", "rater_role", "score"]
    pairs = scores[columns].take(rows[keep]).reset_index(drop=True)
    ref = reference[unit[keep]]
    pairs["reference"] = ref
    pairs["difference"] = value[keep] - ref
    pairs["source"] = pd.Categorical.from_codes(row_source[keep], categories=[str(n) for n in role_names])
    counts = np.bincount(row_source[keep], minlength=len(role_names))
    by_source = {role: int(counts[role_index[role]]) if role in role_index else 0 for role in preference}
    return PairedScores(Reference(benchmark_role, by_source), pairs)


# -- estimation ----------------------------------------------------------------------------------


def estimate_bias(
    paired: PairedScores,
    *,
    n_boot: int = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator = DEFAULT_SEED,
    confidence: float = 0.95,
) -> BiasReport:
    """Bias per rater, capacity, item and tutor, with session-cluster bootstrap intervals.

    One set of ``n_boot`` resamples of sessions serves every group, so the figures of one report
    are mutually consistent and reproducible from ``seed`` (an int, stored in the report, or a
    ``numpy.random.Generator``).
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be a positive number of resamples, not {n_boot}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, not {confidence}")
    pairs = paired.pairs
    d = pairs["difference"].to_numpy(dtype=float)
    session, n_sessions = group_codes(pairs, ("session_id",))
    grouped = _groupings(pairs, session, n_sessions)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    _cluster_bootstrap(grouped, d, session, n_sessions, n_boot, rng)
    ranks = _AbsoluteRanks(d)
    tables = [g.table(d, confidence, ranks) for g in grouped]
    return BiasReport(
        reference=paired.reference,
        by_rater=tables[0],
        by_role=tables[1],
        by_item=tables[2],
        by_tutor=tables[3],
        n_pairs=int(d.size),
        n_sessions=n_sessions,
        n_boot=n_boot,
        seed=None if isinstance(seed, np.random.Generator) else int(seed),
        confidence=confidence,
    )


def bias_against_benchmark(
    scores: pd.DataFrame,
    *,
    benchmark_role: str | None = None,
    n_boot: int = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator = DEFAULT_SEED,
    confidence: float = 0.95,
) -> BiasReport:
    """:func:`pair_with_benchmark` then :func:`estimate_bias`."""
    paired = pair_with_benchmark(scores, benchmark_role=benchmark_role)
    return estimate_bias(paired, n_boot=n_boot, seed=seed, confidence=confidence)


def _groupings(pairs: pd.DataFrame, session: np.ndarray, n_sessions: int) -> list[_Grouping]:
    """The four groupings of :class:`BiasReport`, in its order.

    Rater, capacity and tutor are properties of a *form* (one rater's scoring of one session
    and tutor), so their per-session cells are found among the forms, a twentieth of the pairs;
    items are found among the pairs, on a dense item x session grid.
    """
    form, n_forms = group_codes(pairs, ("rater_id", "rater_role", "session_id", "tutor_id"))
    first = _first_rows(form, n_forms)
    forms = pairs.iloc[first][["rater_id", "rater_role", "tutor_id"]].reset_index(drop=True)
    form_session = session[first]
    out = []
    for by in (BY_RATER, BY_ROLE, BY_ITEM, BY_TUTOR):
        if by == BY_ITEM:
            code, n_groups = group_codes(pairs, by)
            keys = pairs.iloc[_first_rows(code, n_groups)][list(by)]
            out.append(_Grouping(by, code, n_groups, keys, session, n_sessions))
        else:
            form_code, n_groups = group_codes(forms, by)
            keys = forms.iloc[_first_rows(form_code, n_groups)][list(by)]
            out.append(
                _Grouping(
                    by,
                    form_code[form],
                    n_groups,
                    keys,
                    session,
                    n_sessions,
                    unit_code=form,
                    unit_group=form_code,
                    unit_session=form_session,
                )
            )
    return out


def _first_rows(code: np.ndarray, n: int) -> np.ndarray:
    first = np.full(n, code.size, dtype=np.int64)
    np.minimum.at(first, code, np.arange(code.size))
    return first


class _Grouping:
    """One grouping: each pair's group, the groups' keys, and the per-session cells.

    A *cell* is a (group, session) with pairs. With ``unit_code`` given, cells are found among
    the units (forms) that the pairs belong to, each unit lying in one group and one session;
    otherwise on the dense groups x sessions grid.
    """

    def __init__(
        self,
        by: Sequence[str],
        code: np.ndarray,
        n_groups: int,
        keys: pd.DataFrame,
        session: np.ndarray,
        n_sessions: int,
        *,
        unit_code: np.ndarray | None = None,
        unit_group: np.ndarray | None = None,
        unit_session: np.ndarray | None = None,
    ):
        self.by = tuple(by)
        self.code, self.n_groups = code, n_groups
        self.keys = keys.reset_index(drop=True)
        s = max(n_sessions, 1)
        self.dense = n_sessions * n_groups <= _DENSE_MAX_CELLS
        if self.dense:
            self.cell_of_pair = code * s + session
            self.n_cells = n_groups * s
            self.cell_group = np.repeat(np.arange(n_groups), s)
            self.cell_session = np.tile(np.arange(s), n_groups)
        else:
            if unit_code is None or unit_group is None or unit_session is None:
                unit_code, unit_group, unit_session = np.arange(code.size), code, session
            cell_of_unit, cells = pd.factorize(unit_group * s + unit_session)
            cells = np.asarray(cells, dtype=np.int64)
            self.cell_of_pair = cell_of_unit[unit_code]
            self.n_cells = cells.size
            self.cell_group, self.cell_session = cells // s, cells % s
        self._n_sessions = s
        self.boot: np.ndarray = np.empty((n_groups, 0))
        self.sessions_per_group = np.zeros(n_groups, dtype=np.int64)

    def session_matrix(self, d: np.ndarray) -> np.ndarray | sparse.csr_matrix:
        """(2 groups) x sessions: row g holds group g's sum of d per session, row G+g its count."""
        g, s = self.n_groups, self._n_sessions
        sums = np.bincount(self.cell_of_pair, weights=d, minlength=self.n_cells)
        counts = np.bincount(self.cell_of_pair, minlength=self.n_cells).astype(float)
        occupied = counts > 0
        self.sessions_per_group = np.bincount(self.cell_group[occupied], minlength=g)
        if self.dense:
            return np.concatenate([sums.reshape(g, s), counts.reshape(g, s)]).astype(_BOOT_DTYPE)
        rows = np.concatenate([self.cell_group, self.cell_group + g])
        cols = np.concatenate([self.cell_session, self.cell_session])
        data = np.concatenate([sums, counts]).astype(_BOOT_DTYPE)
        return sparse.csr_matrix((data, (rows, cols)), shape=(2 * g, s))

    def table(self, d: np.ndarray, confidence: float, ranks: _AbsoluteRanks) -> BiasTable:
        g = self.n_groups
        n = np.bincount(self.code, minlength=g)
        total = np.bincount(self.code, weights=d, minlength=g)
        squares = np.bincount(self.code, weights=d * d, minlength=g)
        over = np.bincount(self.code, weights=(d >= OVER_BY - _TOL).astype(float), minlength=g)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n
            var = np.where(n > 1, (squares - n * mean**2) / (n - 1), np.nan)
        sd = np.sqrt(np.clip(var, 0, None))
        low, high = _percentile_interval(self.boot, confidence)
        p = _wilcoxon_p(self.code, d, g, ranks)
        estimates = []
        keys = list(self.keys.itertuples(index=False, name=None))
        for i in range(g):  # codes follow the sort order of the key columns
            has_ci = self.sessions_per_group[i] >= MIN_SESSIONS_FOR_INTERVAL and np.isfinite(low[i])
            estimates.append(
                BiasEstimate(
                    key=tuple(_plain(v) for v in keys[i]),
                    n=int(n[i]),
                    n_sessions=int(self.sessions_per_group[i]),
                    mean_diff=float(mean[i]),
                    ci=(float(low[i]), float(high[i])) if has_ci else None,
                    p_value=float(p[i]),
                    share_over_by_1=float(over[i] / n[i]),
                    limits=(float(mean[i] - LOA_Z * sd[i]), float(mean[i] + LOA_Z * sd[i])) if n[i] > 1 else None,
                    sd_diff=float(sd[i]) if n[i] > 1 else None,
                )
            )
        return BiasTable(self.by, tuple(estimates))


def _cluster_bootstrap(
    groupings: Sequence[_Grouping],
    d: np.ndarray,
    session: np.ndarray,
    n_sessions: int,
    n_boot: int,
    rng: np.random.Generator,
) -> None:
    """Fill each grouping's ``boot`` (groups x n_boot) with resampled group means.

    A resample is a vector of session multiplicities ``w`` (how often each session was drawn);
    a group's resampled mean is ``sum_s w_s S_gs / sum_s w_s N_gs`` with ``S_gs`` and ``N_gs`` the
    group's sum of differences and number of pairs in session ``s``: one matrix product per
    chunk of resamples, dense (BLAS) for groupings with few groups, sparse otherwise.
    """
    matrices = [g.session_matrix(d) for g in groupings]
    for g in groupings:
        g.boot = np.empty((g.n_groups, n_boot))
    s = n_sessions
    if s == 0:
        for g in groupings:
            g.boot.fill(np.nan)
        return
    chunk = max(1, min(n_boot, _CELLS_PER_CHUNK // s))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        drawn = rng.integers(0, s, size=(b, s), dtype=np.int64)
        drawn *= b
        drawn += np.arange(b)[:, None]  # the cell (session, resample) of each draw
        weights = np.bincount(drawn.ravel(), minlength=s * b).reshape(s, b).astype(_BOOT_DTYPE)
        for g, matrix in zip(groupings, matrices, strict=True):
            product = matrix @ weights
            with np.errstate(invalid="ignore", divide="ignore"):  # no pair in a resample: 0 / 0 = NaN
                np.divide(product[: g.n_groups], product[g.n_groups :], out=g.boot[:, start : start + b])


def _percentile_interval(boot: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise percentile interval ignoring NaN (numpy's 'linear' quantile), vectorised."""
    if boot.shape[1] == 0:
        nan = np.full(boot.shape[0], np.nan)
        return nan, nan
    ordered = np.sort(boot, axis=1)  # NaN sort last
    k = np.sum(~np.isnan(ordered), axis=1)
    alpha = (1 - confidence) / 2
    out = []
    for q in (alpha, 1 - alpha):
        pos = q * np.maximum(k - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(k - 1, 0))
        a = np.take_along_axis(ordered, lo[:, None], axis=1)[:, 0]
        c = np.take_along_axis(ordered, hi[:, None], axis=1)[:, 0]
        value = a + (pos - lo) * (c - a)
        out.append(np.where(k > 0, value, np.nan))
    return out[0], out[1]


# -- Wilcoxon signed-rank test -------------------------------------------------------------------


def signed_rank_p(d: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of one set of differences; 1.0 if all are zero."""
    d = np.asarray(d, dtype=float)
    return float(_wilcoxon_p(np.zeros(d.size, dtype=np.int64), d, 1)[0])


class _AbsoluteRanks:
    """The non-zero differences and the rank of each ``|d|`` among the distinct values, found once."""

    def __init__(self, d: np.ndarray):
        self.nonzero = d != 0
        value_code, values = pd.factorize(np.abs(d[self.nonzero]))
        rank_of = np.empty(len(values), dtype=np.int64)
        rank_of[np.argsort(np.asarray(values), kind="stable")] = np.arange(len(values))
        self.rank = rank_of[value_code]
        self.n_values = max(len(values), 1)


def _wilcoxon_p(code: np.ndarray, d: np.ndarray, n_groups: int, ranks: _AbsoluteRanks | None = None) -> np.ndarray:
    """Per-group p-values equal to ``scipy.stats.wilcoxon(d_g)`` (defaults), all-zero groups 1.0.

    scipy's ``method="auto"`` takes, for a group of ``n`` differences: the normal approximation
    above 50, or from 14 to 50 when there are zeros or ties (computed here for all groups at
    once); the exact null distribution up to 50 without zeros or ties (scipy is called); and a
    permutation test over all ``2^n`` sign changes for 13 or fewer with zeros or ties
    (enumerated here, as scipy does, but without its per-call cost).
    """
    p, has_ties = _signed_rank_normal(code, d, n_groups, ranks or _AbsoluteRanks(d))
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
    code: np.ndarray, d: np.ndarray, n_groups: int, ranks: _AbsoluteRanks
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


def _require_columns(scores: pd.DataFrame) -> None:
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lack the column(s) {', '.join(missing)}; expected {', '.join(SCORE_COLUMNS)}")


def group_codes(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, int]:
    """Integer codes ``0 .. k-1`` of the distinct combinations of ``columns``, every code used,
    ordered as the values sort (missing values last). Integer and categorical columns are coded
    arithmetically; only text columns and large combinations are hashed."""
    if not columns:
        raise ValueError("no columns to group by")
    combined = np.zeros(len(frame), dtype=np.int64)
    size = 1
    for column in columns:
        codes, k = _column_codes(frame[column])
        if size * k > 4 * len(frame) + 1024:  # renumber early: small hash tables are fast ones
            combined, size = _dense(combined, size)
        combined = combined * k + codes
        size *= k
    return _dense(combined, size)


def _column_codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Codes of one column, not necessarily all used; missing values get the last code."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        k = len(values.cat.categories)
        codes = values.cat.codes.to_numpy().astype(np.int64)
        return np.where(codes < 0, k, codes), k + 1
    array = values.to_numpy()
    if array.dtype.kind in "iu" and array.size:
        low, high = int(array.min()), int(array.max())
        if high - low < 4 * array.size + 1024:
            return array.astype(np.int64) - low, high - low + 1
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=False)
    return codes.astype(np.int64), max(len(uniques), 1)


def _dense(codes: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """Renumber codes so that every code in ``0 .. k-1`` is used, keeping their order."""
    if codes.size == 0:
        return codes, 0
    if size <= 4 * codes.size + 1024:
        used = np.bincount(codes, minlength=size) > 0
        remap = np.cumsum(used) - 1
        return remap[codes], int(used.sum())
    dense, uniques = pd.factorize(codes)  # then sort the few uniques, not the many codes
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(np.asarray(uniques), kind="stable")] = np.arange(len(uniques))
    return rank[dense], len(uniques)


def _plain(value: object) -> object:
    """numpy scalars to Python ones, missing values to None (for keys and JSON)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


__all__ = [
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
    "group_codes",
    "pair_with_benchmark",
    "signed_rank_p",
]
