"""Signed differences from the reference, summarised per group: mean, cluster-bootstrap interval
over sessions, signed-rank p-value, share one point above and Bland-Altman limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from session_rater.domain.bias.pairing import (
    BY_ITEM,
    BY_RATER,
    BY_ROLE,
    BY_TUTOR,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    LOA_Z,
    MIN_SESSIONS_FOR_INTERVAL,
    OVER_BY,
    PairedScores,
    Reference,
    group_codes,
    pair_with_benchmark,
    plain,
)
from session_rater.domain.bias.signed_rank import (
    TOL,
    AbsoluteRanks,
    wilcoxon_p,
)

_CELLS_PER_CHUNK = 2_000_000  # sessions x resamples per chunk: 16 MB of weights, scattered in cache
_DENSE_MAX_CELLS = 6_000_000  # sessions x groups below which a grouping is multiplied densely
_BOOT_DTYPE = np.float32
"""Resampled sums are formed in single precision: half the memory traffic of the matrix
products, and a relative error near 1e-7, far below the 3-4 decimals an interval is read to."""


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
    ranks = AbsoluteRanks(d)
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


def estimate_bias_by(
    paired: PairedScores,
    by: Sequence[str] = BY_ROLE,
    *,
    n_boot: int = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator = DEFAULT_SEED,
    confidence: float = 0.95,
) -> BiasTable:
    """One table of :func:`estimate_bias` (``by`` one of its groupings: BY_RATER, BY_ROLE,
    BY_ITEM, BY_TUTOR), the same figures without computing the other three: the resamples of
    sessions depend on the seed and the sessions alone, never on the groupings."""
    if n_boot < 1:
        raise ValueError(f"n_boot must be a positive number of resamples, not {n_boot}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, not {confidence}")
    by = tuple(by)
    if by not in (BY_RATER, BY_ROLE, BY_ITEM, BY_TUTOR):
        raise ValueError(f"no grouping by {by!r}")
    pairs = paired.pairs
    d = pairs["difference"].to_numpy(dtype=float)
    session, n_sessions = group_codes(pairs, ("session_id",))
    grouped = _groupings(pairs, session, n_sessions, (by,))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    _cluster_bootstrap(grouped, d, session, n_sessions, n_boot, rng)
    return grouped[0].table(d, confidence, AbsoluteRanks(d))


def _groupings(pairs: pd.DataFrame, session: np.ndarray, n_sessions: int,
               which: Sequence[tuple[str, ...]] = (BY_RATER, BY_ROLE, BY_ITEM, BY_TUTOR)) -> list[_Grouping]:  # fmt: skip
    """The groupings ``which`` (by default the four of :class:`BiasReport`, in its order).

    Rater, capacity and tutor are properties of a *form* (one rater's scoring of one session
    and tutor), so their per-session cells are found among the forms, a twentieth of the pairs;
    items are found among the pairs, on a dense item x session grid.
    """
    form, n_forms = group_codes(pairs, ("rater_id", "rater_role", "session_id", "tutor_id"))
    first = _first_rows(form, n_forms)
    forms = pairs.iloc[first][["rater_id", "rater_role", "tutor_id"]].reset_index(drop=True)
    form_session = session[first]
    out = []
    for by in which:
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

    def table(self, d: np.ndarray, confidence: float, ranks: AbsoluteRanks) -> BiasTable:
        g = self.n_groups
        n = np.bincount(self.code, minlength=g)
        total = np.bincount(self.code, weights=d, minlength=g)
        squares = np.bincount(self.code, weights=d * d, minlength=g)
        over = np.bincount(self.code, weights=(d >= OVER_BY - TOL).astype(float), minlength=g)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n
            var = np.where(n > 1, (squares - n * mean**2) / (n - 1), np.nan)
        sd = np.sqrt(np.clip(var, 0, None))
        low, high = _percentile_interval(self.boot, confidence)
        p = wilcoxon_p(self.code, d, g, ranks)
        estimates = []
        keys = list(self.keys.itertuples(index=False, name=None))
        for i in range(g):  # codes follow the sort order of the key columns
            has_ci = self.sessions_per_group[i] >= MIN_SESSIONS_FOR_INTERVAL and np.isfinite(low[i])
            estimates.append(
                BiasEstimate(
                    key=tuple(plain(v) for v in keys[i]),
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


