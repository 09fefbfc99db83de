"""The report pages' data: every submitted score in long format with the session's programme,
site, area and date beside it, the items' titles and order, and the figures computed from a
filtered part of it (bias by period, agreement of each pair of raters, how many sessions of each
tutor are monitored a year and what that means for the dependability of their score). No
Streamlit: the pages cache these (ui.analysis_data) under :func:`fingerprint`. The scores come
from the process's incremental snapshot (:mod:`session_rater.usecases.score_snapshot`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from session_rater.domain.agreement import AgreementError, cohen_kappa
from session_rater.domain.bias import (
    BY_ROLE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    PairedScores,
    estimate_bias_by,
    pair_with_benchmark,
)
from session_rater.domain.model import Capacity
from session_rater.domain.readings import Spread, Verdict, agreement_verdict
from session_rater.domain.versions import version_sort_key
from session_rater.errors import NotFoundError, SessionRaterError
from session_rater.usecases.analysis import AnalysisReport, Dependability, analyse, assess_dependability
from session_rater.usecases.analysis.dependability import PHI_TARGET
from session_rater.usecases.analysis.scale import rubric_label
from session_rater.usecases.monitoring import policies_in_force, policy_catalog
from session_rater.db.score_columns import person_names
from session_rater.usecases.score_snapshot import COLUMNS as _COLUMNS
from session_rater.usecases.score_snapshot import scores_frame
from session_rater.usecases.services import Services

SEED = DEFAULT_SEED
"""The bootstrap seed of every figure on the pages: the same data always give the same interval."""
N_BOOT = DEFAULT_RESAMPLES
MAX_MATRIX_RATERS = 30
"""The rater x rater matrix shows at most this many raters (those sharing the most scores):
beyond that a heat map cannot be read."""
CAPACITY_LABELS = {c.rater_role: c.label for c in Capacity}
ROLE_ORDER = [c.rater_role for c in Capacity]
UNIT = ["session_id", "tutor_id", "item_id"]


def capacity_label(rater_role: str) -> str:
    return CAPACITY_LABELS.get(rater_role, rater_role)


@dataclass(frozen=True)
class Filters:
    """Which scores a page analyses: sessions of these programmes and sites, recorded in the
    period (ends included); empty means "all". ``rubric_id`` None: every checklist."""

    programmes: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    rubric_id: str | None = None
    areas: tuple[str, ...] | None = None  # the areas the viewer's reports cover; None: every area

    def key(self) -> tuple[object, ...]:
        return (self.programmes, self.sites, self.date_from, self.date_to, self.rubric_id, self.areas)

    def apply(self, scores: pd.DataFrame) -> pd.DataFrame:
        keep = pd.Series(True, index=scores.index)
        if self.areas is not None:
            keep &= scores["area"].isin(self.areas)
        if self.programmes:
            keep &= scores["programme"].isin(self.programmes)
        if self.sites:
            keep &= scores["site"].isin(self.sites)
        if self.date_from is not None:
            keep &= scores["recorded_on"] >= self.date_from
        if self.date_to is not None:
            keep &= scores["recorded_on"] <= self.date_to
        if self.rubric_id is not None:
            keep &= scores["rubric_id"] == self.rubric_id
        if keep.all() and isinstance(scores.index, pd.RangeIndex) and scores.index.start == 0:
            return scores  # nothing filtered out: not a copy of millions of rows (never changed in place)
        return scores.loc[keep].reset_index(drop=True)

    def describe(self) -> str:
        parts = [
            ", ".join(self.programmes) if self.programmes else "all programmes",
            ", ".join(self.sites) if self.sites else "all sites",
        ]
        if self.date_from or self.date_to:
            start = f"{self.date_from:%d/%m/%Y}" if self.date_from else "the first session"
            end = f"{self.date_to:%d/%m/%Y}" if self.date_to else "the last"
            parts.append(f"sessions recorded {start} to {end}")
        return "; ".join(parts)


# -- the database ----------------------------------------------------------------------------------


def fingerprint(svc: Services) -> tuple[object, ...]:
    """What changes whenever the submitted scores do: the stamp of the snapshot they are read
    from (:func:`session_rater.usecases.score_snapshot.scores_frame`)."""
    return scores_frame(svc).stamp


def load_scores(svc: Services) -> pd.DataFrame:
    """Every submitted item score (N/A as NaN) with its recording's programme, site and date:
    the process's snapshot of them (read incrementally; shared, so never changed in place)."""
    return scores_frame(svc).frame


def load_scores_from_export(svc: Services) -> pd.DataFrame:
    """:func:`load_scores` the way it was read before the snapshot (every row through
    :meth:`Services.export_rows`): kept as the reference the snapshot is tested against."""
    rows = svc.export_rows()
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "score" else object) for c in _COLUMNS})
    scores = pd.DataFrame(rows)
    scores["score"] = pd.to_numeric(scores["score"].replace("", np.nan)).astype(float)
    scores["tutor_id"] = scores["tutor_id"].map(lambda t: None if t == "" else int(t)).astype(object)
    recordings = pd.DataFrame(
        [(r.id, r.programme, r.site, r.area or "", r.recorded_on) for r in svc.store.list_recordings()],
        columns=["session_id", "programme", "site", "area", "recorded_on"],
    )
    recordings["quarter"] = [f"{d.year}Q{(d.month - 1) // 3 + 1}" for d in recordings["recorded_on"]]
    return scores.merge(recordings, on="session_id", how="left")[_COLUMNS]


def people_names(svc: Services) -> dict[object, str]:
    """Person id -> display name, in one narrow query (not every person with their roles)."""
    return person_names(svc.store.engine)


def rater_label(rater_id: object, rater_role: str, names: dict[object, str]) -> str:
    """"Helen Price (treatment manager monitoring)": a person may rate in several capacities."""
    return f"{names.get(rater_id, f'rater {rater_id}')} ({capacity_label(rater_role).lower()})"


@dataclass(frozen=True)
class ItemInfo:
    order: int
    section: str
    title: str


def item_info(svc: Services, scores: pd.DataFrame) -> dict[str, ItemInfo]:
    """Each item's title, section and place in the form, from the newest rubric version used."""
    out: dict[str, ItemInfo] = {}
    keys = scores[["rubric_id", "rubric_version"]].drop_duplicates()
    rubrics = []
    for rubric_id, version in keys.itertuples(index=False):
        try:
            rubrics.append(svc.store.rubric_version(str(rubric_id), str(version)))
        except NotFoundError:
            continue
    for rubric in sorted(rubrics, key=lambda r: version_sort_key(r.version), reverse=True):
        for section in rubric.sections:
            for item in section.items:
                out.setdefault(item.id, ItemInfo(len(out), section.title, item.title))
    for item_id in sorted(set(scores["item_id"]) - set(out)):
        out[item_id] = ItemInfo(len(out), "", item_id)
    return out


def scale_of(svc: Services, scores: pd.DataFrame) -> tuple[float, ...] | None:
    """The scale points of the rubric versions scored, if they all share one scale."""
    scales = set()
    for rubric_id, version in scores[["rubric_id", "rubric_version"]].drop_duplicates().itertuples(index=False):
        try:
            scales.add(svc.store.rubric_version(str(rubric_id), str(version)).scale_values)
        except NotFoundError:
            return None
    return tuple(float(v) for v in scales.pop()) if len(scales) == 1 else None


# -- the figures -----------------------------------------------------------------------------------


def analyse_scores(svc: Services, scores: pd.DataFrame, *, dependability: bool = True) -> AnalysisReport:
    """:func:`analyse` of ``scores`` (master scores else external assessors as the reference;
    seed :data:`SEED`). Raises ScoreError when no score is left to analyse. ``dependability``
    False: without the G study and Rasch model (see :func:`dependability_of`)."""
    return analyse(scores, **analysis_arguments(svc, scores), dependability=dependability)


def analysis_arguments(svc: Services, scores: pd.DataFrame) -> dict[str, object]:
    """What :func:`analyse_scores` gives :func:`analyse` besides the scores (read from the
    database: the rubrics' shared scale), so that ``analyse`` itself can run elsewhere."""
    scale = scale_of(svc, scores)
    rubrics = sorted({rubric_label(str(r), str(v)) for r, v in scores[["rubric_id", "rubric_version"]].drop_duplicates()
                      .itertuples(index=False)})  # fmt: skip
    source = " and ".join(rubrics) if scale is not None else "none shared by the rubrics scored"
    return {"seed": SEED, "n_boot": N_BOOT, "categories": scale, "source": "the database", "scale_source": source}


def dependability_of(scores: pd.DataFrame) -> Dependability:
    """The G study, D studies and Rasch model of ``scores``, exactly as :func:`analyse_scores`
    computes them into ``report.dependability``."""
    return assess_dependability(scores.loc[scores["score"].notna()].copy(deep=False))


def bias_by_period(scores: pd.DataFrame, period: str, *, n_boot: int = N_BOOT, seed: int = SEED) -> pd.DataFrame:
    """Per period and capacity: the by-capacity table of :func:`estimate_bias` on that period's pairs.

    Scores are paired once (a session lies in one period, so pairing per period would give the
    same pairs); each period's intervals resample that period's sessions, seeded.
    """
    columns = ["period", "rater_role", "n", "n_sessions", "mean_diff", "ci_low", "ci_high", "p_value", "share_over_by_1"]
    if scores["score"].notna().sum() == 0:
        return pd.DataFrame(columns=columns)
    paired = pair_with_benchmark(scores)
    if paired.pairs.empty:
        return pd.DataFrame(columns=columns)
    period_of = scores.drop_duplicates("session_id").set_index("session_id")[period]
    pairs = paired.pairs.assign(period=paired.pairs["session_id"].map(period_of))
    frames = []
    for value, part in pairs.groupby("period", sort=True):
        by_role = estimate_bias_by(  # the by-capacity table alone (the same figures as estimate_bias's)
            PairedScores(paired.reference, part.drop(columns="period").reset_index(drop=True)), BY_ROLE,
            n_boot=n_boot, seed=seed,
        )  # fmt: skip
        frames.append(by_role.to_frame().assign(period=value))
    return pd.concat(frames, ignore_index=True)[columns]


def pairwise_agreement(scores: pd.DataFrame, *, categories: Sequence[float] | None = None) -> pd.DataFrame:
    """Agreement of each pair of raters (a rater is a person in one capacity) over the items of
    the same (session, tutor) that both scored.

    One row per ordered pair ``a``, ``b``: ``n`` common item scores, ``n_forms`` common
    (session, tutor) forms, ``exact`` and ``within_one`` (shares of items scored the same, or
    at most one point apart), ``mean_diff`` (``a - b``) and ``kappa_w``: Cohen's (1968)
    kappa with quadratic weights over the scale points, None where it is not defined (one
    category used, say), with ``kappa_note`` saying why.
    """
    columns = [
        "rater_a", "role_a", "rater_b", "role_b", "n", "n_forms", "exact", "within_one", "mean_diff", "kappa_w",
        "kappa_note",
    ]  # fmt: skip
    scored = scores.loc[scores["score"].notna(), [*UNIT, "rater_id", "rater_role", "score"]].copy()
    if scored.empty:
        return pd.DataFrame(columns=columns)
    scored["tutor_id"] = scored["tutor_id"].fillna(-1).astype(np.int64)  # vectorised: millions of rows
    both = scored.merge(scored, on=UNIT, suffixes=("_a", "_b"))
    both = both[(both["rater_id_a"] != both["rater_id_b"]) | (both["rater_role_a"] != both["rater_role_b"])]
    if both.empty:
        return pd.DataFrame(columns=columns)
    d = both["score_a"] - both["score_b"]
    # a (session, tutor) form as one integer, not a string per pair of scores (tens of millions at national scale)
    form = both["session_id"].to_numpy(np.int64) * (int(scored["tutor_id"].max()) + 2) + both["tutor_id"].to_numpy(np.int64) + 1
    both = both.assign(d=d, exact=(d == 0).astype(float), within=(d.abs() <= 1).astype(float), form=form)
    keys = ["rater_id_a", "rater_role_a", "rater_id_b", "rater_role_b"]
    table = (
        both.groupby(keys, sort=True)
        .agg(n=("d", "size"), n_forms=("form", "nunique"), exact=("exact", "mean"), within_one=("within", "mean"),
             mean_diff=("d", "mean"))
        .reset_index()
        .rename(columns={"rater_id_a": "rater_a", "rater_role_a": "role_a", "rater_id_b": "rater_b", "rater_role_b": "role_b"})
    )  # fmt: skip
    kappas: dict[tuple[object, ...], tuple[float | None, str | None]] = {}
    for key, part in both.groupby(keys, sort=False):
        mirror = (key[2], key[3], key[0], key[1])
        if mirror in kappas:  # weighted kappa is symmetric in the two raters
            kappas[key] = kappas[mirror]
            continue
        try:
            result = cohen_kappa(part["score_a"].to_numpy(), part["score_b"].to_numpy(), weights="quadratic",
                                 categories=categories)  # fmt: skip
            kappas[key] = (result.value if math.isfinite(result.value) else None, None)
        except AgreementError as error:
            kappas[key] = (None, str(error))
    table["kappa_w"] = [kappas[k][0] for k in table[["rater_a", "role_a", "rater_b", "role_b"]].itertuples(index=False, name=None)]
    table["kappa_note"] = [kappas[k][1] for k in table[["rater_a", "role_a", "rater_b", "role_b"]].itertuples(index=False, name=None)]
    return table[columns]


def verdict(report: AnalysisReport, scores: pd.DataFrame) -> Verdict:
    """The Agreement page's answer in plain words (:func:`agreement_verdict`) for the overall
    figures of ``report``, with how ``scores`` use the scale and the largest gap between a
    capacity and the benchmark (the reasons alpha and AC2 can disagree)."""
    overall = report.agreement.overall

    def value(name: str) -> float | None:
        found = overall.get(name)
        return found.value if found is not None else None

    scale = report.categories or tuple(sorted(scores["score"].dropna().unique()))
    spread = Spread.of(scores["score"].dropna().tolist(), scale) if len(scale) > 1 else None
    gap = None
    if report.bias.by_role.estimates:
        widest = max(report.bias.by_role.estimates, key=lambda e: abs(e.mean_diff))
        used = sorted(role for role, n in report.bias.reference.pairs_by_source.items() if n)
        reference = " and ".join(_WHO.get(r, capacity_label(r)) for r in used) or "the benchmark"
        who = _WHO.get(str(widest.key[0]), capacity_label(str(widest.key[0])))
        gap = (who, reference, widest.mean_diff) if widest.mean_diff > 0 else (reference, who, -widest.mean_diff)
    return agreement_verdict(
        alpha=value("krippendorff_alpha_ordinal"), ac2=value("gwet_ac2_quadratic"), exact=value("percent_agreement"),
        within_one=value("percent_agreement_within_1"), icc=value("icc_2_1"), spread=spread, gap=gap,
    )  # fmt: skip


_WHO = {"tutor": "tutors (self-assessment)", "treatment_manager": "treatment managers",
        "external_assessor": "external assessors", "benchmark": "the master scores"}  # fmt: skip


# -- how dependable a tutor's score is at the current monitoring rate ---------------------------------

DEFAULT_MONITORING_PERCENT = 10.0
"""The inspectorate's target (HMIP 2002: "monitoring 10% of videoed sessions"), when no policy says."""
MONITORING_ROLE = Capacity.MONITORING.rater_role


@dataclass(frozen=True)
class MonitoringPolicy:
    """The share of sessions treatment managers monitor, and the policy in force that sets it
    (``label`` None: no policy in force has a monitoring rule, so the HMIP target is assumed)."""

    percent: float
    label: str | None


def monitoring_policy(svc: Services) -> MonitoringPolicy:
    """The monitoring percentage of the sampling policy in force (``default`` first, else the
    first by name with a monitoring rule), else :data:`DEFAULT_MONITORING_PERCENT`."""
    try:
        in_force = policies_in_force(policy_catalog(svc.settings.policies_dir), svc.sampling)
    except SessionRaterError:  # no policies folder: nothing is in force
        in_force = []
    monitoring = [(entry.policy, entry.policy.monitoring) for entry in in_force if entry.policy.monitoring]
    if not monitoring:
        return MonitoringPolicy(DEFAULT_MONITORING_PERCENT, None)
    policy, rule = next((pair for pair in monitoring if pair[0].name == "default"), monitoring[0])
    return MonitoringPolicy(float(rule.percent), policy.label)


@dataclass(frozen=True)
class MonitoredSessions:
    """How many sessions of each tutor a treatment manager rated (submitted), per calendar year.

    ``per_year``: the mean over tutors and the years each had such a session (None: none had);
    ``first`` and ``last``: the first and last recording date among all the scores given.
    """

    per_year: float | None
    tutors: int
    years: tuple[int, ...]
    first: dt.date | None
    last: dt.date | None

    @property
    def less_than_a_year(self) -> bool:
        """Whether the sessions span less than a year, so a year's count is understated."""
        return self.first is not None and self.last is not None and (self.last - self.first).days < 365


def monitored_sessions(scores: pd.DataFrame) -> MonitoredSessions:
    """Sessions with a submitted treatment manager's rating, per tutor per calendar year."""
    dates = scores["recorded_on"].dropna()
    first, last = (dates.min(), dates.max()) if len(dates) else (None, None)
    rated = scores.loc[(scores["rater_role"] == MONITORING_ROLE) & scores["tutor_id"].notna(),
                       ["tutor_id", "session_id", "recorded_on"]].dropna()  # fmt: skip
    if rated.empty:
        return MonitoredSessions(None, 0, (), first, last)
    rated = rated.assign(year=[d.year for d in rated["recorded_on"]])
    counts = rated.groupby(["tutor_id", "year"])["session_id"].nunique()
    years = tuple(sorted(int(y) for y in rated["year"].unique()))
    return MonitoredSessions(float(counts.mean()), int(rated["tutor_id"].nunique()), years, first, last)


def dependability_reading(dep: Dependability | None, seen: MonitoredSessions, policy: MonitoringPolicy) -> list[str]:
    """The D study in plain words for a programme manager: what the current monitoring gives,
    and how many rated sessions a tutor's score needs to be dependable (Phi .80)."""
    if dep is None or dep.gstudy is None:
        return []
    rule = f"{policy.percent:g}% monitoring" + (
        f" (sampling policy {policy.label})" if policy.label else " (the HMIP target: no sampling policy in force sets one)"
    )
    target = f"{PHI_TARGET:.2f}".lstrip("0")
    needed = dep.sessions_needed.get(1)
    out = []
    if seen.per_year is None:
        out.append(
            f"With the current {rule}: no session in these data has a submitted treatment manager's rating, so how "
            "many sessions of each tutor are monitored a year cannot be read from them."
        )
    else:
        n = seen.per_year
        years = "–".join(str(y) for y in (seen.years[0], seen.years[-1])) if len(seen.years) > 1 else str(seen.years[0])
        text = (
            f"With the current {rule} each tutor has about **{_count(n)} rated session{'s' if round(n, 1) != 1 else ''} "
            f"a year** (sessions with a treatment manager's submitted rating, mean over {seen.tutors} tutors, {years})"
        )
        phi = dep.phi(n, 1)
        text += f": **Phi = {phi:.2f}**." if phi is not None else "."
        out.append(text)
        if seen.less_than_a_year and seen.first and seen.last:
            out.append(
                f"The sessions shown were recorded between {seen.first:%d/%m/%Y} and {seen.last:%d/%m/%Y}, less than a "
                "year apart: a full year would hold more rated sessions, and a higher Phi."
            )
    if dep.d_study:
        if needed is None:
            out.append(
                f"Even 100 sessions rated by one manager would not reach {target}: errors that do not shrink with more "
                "sessions (items scored higher or lower for everyone, tutor-by-item differences) hold Phi below it. "
                "Clearer descriptors or more items would help more than more sessions."
            )
        else:
            text = f"**{needed} session{'s' if needed != 1 else ''} rated by one manager** would reach {target}"
            others = [(r, n) for r, n in dep.sessions_needed.items() if r > 1 and n is not None]
            if others:
                text += " (" + "; ".join(f"{n} if each were rated by {r} raters" for r, n in others) + ")"
            out.append(text + ".")
    out.append(
        f"Phi (0 to 1) is how far a tutor's mean score can be trusted as a measure of their delivery against a fixed "
        f"standard: the share of the differences between tutors' mean scores that is real, not the luck of which "
        f"sessions, raters and items were scored. {target} is the usual minimum for a decision about one tutor."
    )
    return out


def _count(n: float) -> str:
    return f"{n:.0f}" if abs(n - round(n)) < 0.05 else f"{n:.1f}"
