"""Session Rater: score recorded programme sessions against an integrity checklist, blind,
and measure agreement and over-scoring against a benchmark.

The statistics are a public API (code outside this repository calls them exactly so)::

    from session_rater import cohen_kappa, fleiss_kappa, krippendorff_alpha, gwet_ac, icc
    from session_rater import percent_agreement, bland_altman, analyse
    from session_rater import g_study, mfrm, GStudy, DStudy, MfrmResult
"""

from session_rater.usecases.analysis import AnalysisReport, analyse, report_to_json, report_to_text
from session_rater.domain.agreement import (
    MEASURES,
    TWO_RATER_MEASURES,
    AgreementError,
    AgreementResult,
    BlandAltmanResult,
    bland_altman,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
    percent_agreement,
)
from session_rater.domain.bias import bias_against_benchmark, estimate_bias, pair_with_benchmark
from session_rater.domain.dependability import DStudy, GStudy, MfrmResult, g_study, mfrm
from session_rater.domain.independence import assess_independence, kappa_paradox
from session_rater.errors import DesignError
from session_rater.io.scores_csv import read_scores_csv

__version__ = "0.1.0"

__all__ = [
    "MEASURES",
    "TWO_RATER_MEASURES",
    "AgreementError",
    "AgreementResult",
    "AnalysisReport",
    "BlandAltmanResult",
    "DStudy",
    "DesignError",
    "GStudy",
    "MfrmResult",
    "analyse",
    "assess_independence",
    "bias_against_benchmark",
    "bland_altman",
    "cohen_kappa",
    "estimate_bias",
    "fleiss_kappa",
    "g_study",
    "gwet_ac",
    "icc",
    "kappa_paradox",
    "krippendorff_alpha",
    "mfrm",
    "pair_with_benchmark",
    "percent_agreement",
    "read_scores_csv",
    "report_to_json",
    "report_to_text",
]
