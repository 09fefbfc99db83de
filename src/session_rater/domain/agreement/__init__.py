"""Inter-rater agreement: chance-corrected coefficients, the ICC, percent agreement, Bland-Altman.

Pure functions of a ratings table (numpy and scipy only). Each returns a frozen
:class:`AgreementResult` (value, interval, units, raters, a sentence naming the method and its
reference); :func:`bland_altman` returns a :class:`BlandAltmanResult`.

=====================  ===========================================================  ==========================
function               what it measures                                              interval
=====================  ===========================================================  ==========================
cohen_kappa            two raters, unweighted or linear/quadratic weights            Fleiss, Cohen & Everitt 1969
fleiss_kappa           many raters, missing ratings allowed (Gwet's generalisation)  Gwet's variance
krippendorff_alpha     many raters, nominal/ordinal/interval/ratio                   seeded bootstrap over units
gwet_ac                AC1, or AC2 with weights: robust when scores bunch at the top Gwet's variance
icc                    the six Shrout & Fleiss forms, complete cases                 F distribution
percent_agreement      share of agreeing pairs, exact or within a tolerance          Gwet's variance
bland_altman           signed bias against a reference and limits of agreement       t, Bland & Altman 1986/1999
=====================  ===========================================================  ==========================

Agreement is not accuracy: two lenient raters can agree perfectly and both over-score. Report
agreement between raters *and* the bias against the benchmark. When over-scoring squeezes scores
into the top of the scale, kappa and alpha can be low while raters almost always agree; report
AC2 and percent agreement beside them.

Ratings are a units x raters table (list of lists, numpy array or pandas DataFrame) of scale
points, NaN or None for a missing rating; ``categories`` declares the scale (e.g.
``[0, 1, 2, 3]``) so that unused points still count. Input for which a figure is not defined
raises :class:`AgreementError` (a ``ValueError`` and a ``SessionRaterError``) saying why:
no figure is ever a silent NaN. :data:`MEASURES` names every coefficient and variant.
"""

from session_rater.domain.agreement._bland_altman import BlandAltmanResult, bland_altman
from session_rater.domain.agreement._common import AgreementError, AgreementResult
from session_rater.domain.agreement._gwet import gwet_ac, percent_agreement
from session_rater.domain.agreement._icc import icc
from session_rater.domain.agreement._kappa import cohen_kappa, fleiss_kappa
from session_rater.domain.agreement._krippendorff import krippendorff_alpha
from session_rater.domain.agreement._registry import MEASURES, TWO_RATER_MEASURES

__all__ = [
    "MEASURES",
    "TWO_RATER_MEASURES",
    "AgreementError",
    "AgreementResult",
    "BlandAltmanResult",
    "bland_altman",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac",
    "icc",
    "krippendorff_alpha",
    "percent_agreement",
]
