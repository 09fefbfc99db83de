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


__all__ = ["READERS", "Reading", "koo_li", "krippendorff", "landis_koch", "read"]
