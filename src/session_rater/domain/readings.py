"""Plain-English readings of agreement figures, each with the published scale it comes from.

A reading is a convention, not a test: it helps a treatment manager who does not live with
these coefficients, and it always names its source so the reader can weigh it.

=====================  ==============================  ==============================================
figure                 scale                           read on
=====================  ==============================  ==============================================
kappa-type (Fleiss'    Landis & Koch (1977)            the point estimate: < 0 poor, .00-.20 slight,
kappa, Cohen's kappa,                                  .21-.40 fair, .41-.60 moderate, .61-.80
Gwet's AC1/AC2)                                        substantial, .81-1.00 almost perfect
ICC                    Koo & Li (2016)                 the 95% CI, as they advise: < .50 poor,
                                                       .50-.75 moderate, .75-.90 good, > .90
                                                       excellent; an interval spanning bands reads
                                                       "moderate to good"
Krippendorff's alpha   Krippendorff (2004, p. 241)     the point estimate: >= .800 reliable,
                                                       .667-.800 tentative conclusions only,
                                                       < .667 not reliable
=====================  ==============================  ==============================================

Percent agreement has no published verbal scale and gets no reading.

References
    Landis JR, Koch GG (1977). The measurement of observer agreement for categorical data.
    Biometrics 33:159-174.
    Koo TK, Li MY (2016). A guideline of selecting and reporting intraclass correlation
    coefficients for reliability research. J Chiropr Med 15:155-163.
    Krippendorff K (2004). Content Analysis: An Introduction to Its Methodology, 2nd ed. Sage.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

LANDIS_KOCH_SOURCE = (
    "Landis JR, Koch GG (1977). The measurement of observer agreement for categorical data. Biometrics 33:159-174."
)
KOO_LI_SOURCE = (
    "Koo TK, Li MY (2016). A guideline of selecting and reporting intraclass correlation "
    "coefficients for reliability research. J Chiropr Med 15:155-163."
)
KRIPPENDORFF_SOURCE = (
    "Krippendorff K (2004). Content Analysis: An Introduction to Its Methodology, 2nd ed. Sage, p. 241."
)

# (upper bound, label): a value below the bound (or at it, where ``inclusive``) gets the label.
LANDIS_KOCH: Sequence[tuple[float, str]] = (
    (0.0, "poor"),
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (math.inf, "almost perfect"),
)
KOO_LI: Sequence[tuple[float, str]] = ((0.50, "poor"), (0.75, "moderate"), (0.90, "good"), (math.inf, "excellent"))
KRIPPENDORFF: Sequence[tuple[float, str]] = (
    (0.667, "not reliable (below .667)"),
    (0.800, "tentative conclusions only (.667 to .800)"),
    (math.inf, "reliable (.800 or above)"),
)


@dataclass(frozen=True)
class Reading:
    """``text`` ("substantial", "moderate to good"), the ``scale`` it comes from, the full
    ``source`` reference, and what was read (``basis``: the point estimate or the interval)."""

    text: str
    scale: str
    source: str
    basis: str


def _band(value: float, bands: Sequence[tuple[float, str]], *, inclusive: bool) -> str:
    for bound, label in bands:
        if value < bound or (inclusive and value <= bound and bound != 0.0):
            return label
    return bands[-1][1]


def landis_koch(value: float) -> Reading:
    """Landis & Koch (1977) for kappa-type coefficients, on the point estimate.

    Their bands are closed above (.41-.60 moderate): .60 itself reads "moderate".
    """
    return Reading(
        _band(value, LANDIS_KOCH, inclusive=True), "Landis & Koch (1977)", LANDIS_KOCH_SOURCE, "point estimate"
    )


def _koo_li_band(value: float) -> str:
    """Koo & Li's bands: below .50 poor, .50 to .75 moderate, .75 to .90 good, *greater than*
    .90 excellent (so .90 itself reads "good")."""
    return "good" if value == 0.90 else _band(value, KOO_LI, inclusive=False)


def koo_li(value: float, ci: tuple[float, float] | None = None) -> Reading:
    """Koo & Li (2016) for an ICC, judged on its confidence interval where there is one.

    The reading covers both ends: an interval from .70 to .85 reads "moderate to good". Without
    an interval the point estimate is read, and ``basis`` says so.
    """
    if ci is None:
        return Reading(
            _koo_li_band(value), "Koo & Li (2016)", KOO_LI_SOURCE, "point estimate (no interval)"
        )
    low, high = (_koo_li_band(end) for end in ci)
    text = low if low == high else f"{low} to {high}"
    return Reading(text, "Koo & Li (2016)", KOO_LI_SOURCE, "95% confidence interval")


def krippendorff(value: float) -> Reading:
    """Krippendorff (2004): rely on alpha >= .800, draw tentative conclusions from .667."""
    return Reading(
        _band(value, KRIPPENDORFF, inclusive=False), "Krippendorff (2004)", KRIPPENDORFF_SOURCE, "point estimate"
    )


Reader = Callable[[float, "tuple[float, float] | None"], Reading]

READERS: dict[str, Reader] = {
    "cohen_kappa": lambda value, ci: landis_koch(value),
    "fleiss_kappa": lambda value, ci: landis_koch(value),
    "gwet_ac": lambda value, ci: landis_koch(value),
    "icc": koo_li,
    "krippendorff_alpha": lambda value, ci: krippendorff(value),
}
"""Measure-name prefix -> reader. Percent agreement is absent on purpose: it has no scale."""


def read(measure: str, value: float | None, ci: tuple[float, float] | None = None) -> Reading | None:
    """The reading of a measure named as in the agreement registry (``"gwet_ac2_quadratic"``,
    ``"icc_2_1"``, ...), or None where the figure is missing or the measure has no scale."""
    if value is None or not math.isfinite(value):
        return None
    for prefix, reader in READERS.items():
        if measure.startswith(prefix):
            return reader(value, ci)
    return None


# -- one verdict from several figures -------------------------------------------------------------

FEINSTEIN_CICCHETTI_SOURCE = (
    "Feinstein AR, Cicchetti DV (1990). High agreement but low kappa: I. The problems of two paradoxes. "
    "J Clin Epidemiol 43:543-549."
)
GWET_SOURCE = (
    "Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of high agreement. "
    "Br J Math Stat Psychol 61:29-48."
)
CROWDED_SHARE = 0.6
"""Scores crowd the scale when this share of them sits on two neighbouring points (or one end)."""
GAP_POINTS = 0.3
"""A gap between two capacities' mean scores of this many points is systematic, not noise."""


@dataclass(frozen=True)
class Spread:
    """How the scores use the scale: the two neighbouring points holding the most of them
    (``points``, ``share``) and, where one end alone holds 70% or more, that end (``pile``)."""

    points: tuple[float, float]
    share: float
    pile: tuple[str, float, float] | None = None  # ("top", 3.0, 0.74): end, point, share

    @classmethod
    def of(cls, scores: Sequence[float], scale: Sequence[float]) -> Spread | None:
        """From the scores given (missing left out) on the scale's points, in order."""
        values = [float(x) for x in scores if x is not None and math.isfinite(x)]
        points = sorted(float(p) for p in scale)
        if not values or len(points) < 2:
            return None
        share = {p: sum(v == p for v in values) / len(values) for p in points}
        a, b = max(itertools.pairwise(points), key=lambda ab: share[ab[0]] + share[ab[1]])
        end, point = max((("top", points[-1]), ("bottom", points[0])), key=lambda e: share[e[1]])
        pile = (end, point, share[point]) if share[point] >= 0.7 else None
        return cls((a, b), share[a] + share[b], pile)

    @property
    def crowded(self) -> bool:
        return self.pile is not None or self.share >= CROWDED_SHARE

    def words(self) -> str:
        if self.pile is not None:
            end, point, share = self.pile
            return f"{share:.0%} of all scores are at the {end} of the scale ({point:g})"
        a, b = self.points
        return f"{self.share:.0%} of all scores are on just two neighbouring points of the scale ({a:g} and {b:g})"


@dataclass(frozen=True)
class Verdict:
    """One answer in plain words (``headline``), then why (``reasons``: what raters do, the figures,
    and where the figures disagree, "Why alpha and AC2 disagree:" followed by each cause), and which figure to
    read for which question (``trust``); ``paradox`` where the chance-corrected figures
    disagree with the raw ones because the scores crowd the scale."""

    headline: str
    reasons: tuple[str, ...]
    trust: str
    paradox: bool


def agreement_verdict(
    *,
    alpha: float | None,
    ac2: float | None,
    exact: float | None,
    within_one: float | None,
    icc: float | None = None,
    spread: Spread | None = None,
    gap: tuple[str, str, float] | None = None,
) -> Verdict:
    """The agreement of a set of ratings in one verdict a programme manager can act on.

    ``alpha`` (Krippendorff, ordinal) decides the headline, read on Krippendorff (2004); ``ac2``
    (Gwet, quadratic weights) and ``within_one`` say whether raters at least give near scores.
    Where alpha reads "not reliable" while AC2 reads moderate or better, the figures disagree and
    the reasons say why: scores crowded on a little of the scale (``spread``: the kappa paradox,
    Feinstein & Cicchetti 1990; Gwet 2008) and a systematic gap between two groups of raters
    (``gap``: who scores higher, who lower, by how many points), which alpha and the ICC count as
    disagreement and AC2 and within-one-point mostly do not.
    """
    near = (ac2 is not None and ac2 > 0.60) or (within_one is not None and within_one >= 0.8)
    said = []
    if exact is not None and within_one is not None:
        said.append(f"two raters scoring the same tutor in the same session give the same score {exact:.0%} of the "
                    f"time, and scores at most one point apart {within_one:.0%} of the time")  # fmt: skip
    if alpha is None:
        headline = "Agreement cannot be judged yet: too few items were scored by two or more raters."
    elif alpha >= 0.800:
        headline = "Raters agree reliably: the same delivery gets the same score whoever rates it."
    elif alpha >= 0.667:
        headline = "Raters agree well enough for tentative conclusions, not yet for decisions about one tutor."
    elif near:
        headline = ("Raters give near, not the same, scores: good enough to talk about a session, not yet reliable "
                    "enough to compare tutors or judge one against a standard.")  # fmt: skip
    else:
        headline = "Raters do not agree: the same delivery gets clearly different scores from different raters."
    disagree = alpha is not None and alpha < 0.667 and ac2 is not None and ac2 > 0.40
    reasons = []
    if said:
        reasons.append(said[0][:1].upper() + said[0][1:] + ".")
    figures = []
    if alpha is not None:
        figures.append(f"Krippendorff's alpha is {alpha:.2f} ({krippendorff(alpha).text.split(' (')[0]})")
    if ac2 is not None:
        figures.append(f"Gwet's AC2 {ac2:.2f} ({landis_koch(ac2).text})")
    if icc is not None:
        figures.append(f"the ICC {icc:.2f}")
    if figures:
        reasons.append("Corrected for chance agreement, " + ", ".join(figures[:-1]) + (" and " if len(figures) > 1 else "")
                       + figures[-1] + ".")  # fmt: skip
    paradox = bool(disagree and spread is not None and spread.crowded)
    if disagree:
        reasons.append("Why alpha and AC2 disagree:")
        why = []
        if paradox and spread is not None:
            why.append(
                f"{spread.words()}. When scores crowd into so little of the scale, chance alone would make raters "
                "agree often, so alpha and kappa, which take that chance away, fall although raters mostly agree: the "
                "kappa paradox (Feinstein & Cicchetti 1990). AC2 estimates chance in a way that crowding hardly moves "
                "(Gwet 2008)."
            )
        if gap is not None and abs(gap[2]) >= GAP_POINTS:
            high, low, points = gap
            why.append(
                f"{high[:1].upper() + high[1:]} score {abs(points):.1f} points higher than {low} on average: alpha and the "
                "ICC count a steady gap like this as disagreement, while AC2 and within-one-point treat a one-point gap "
                "as near agreement."
            )
        if not why:
            why.append("Alpha counts every one-point difference against agreement, while AC2 gives near misses partial "
                       "credit.")  # fmt: skip
        reasons += why
    trust = (
        "Which to read for what: for \"do raters give about the same score?\" read AC2 and within one point; for \"can a "
        "tutor's score be relied on, to compare tutors or judge one against a standard?\" read alpha and the ICC. How "
        "far scores sit above the benchmark is on the Over-scoring page: agreement is not accuracy."
    )
    return Verdict(headline, tuple(reasons), trust, paradox)


__all__ = [
    "READERS",
    "Reading",
    "Spread",
    "Verdict",
    "agreement_verdict",
    "koo_li",
    "krippendorff",
    "landis_koch",
    "read",
]
