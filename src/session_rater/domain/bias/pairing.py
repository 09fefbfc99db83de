"""Which reference each score is compared with, and the pairs (score, reference score) of the
same session, tutor and item: the input of every over-scoring figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

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


def plain(value: object) -> object:
    """numpy scalars to Python ones, missing values to None (for keys and JSON)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


