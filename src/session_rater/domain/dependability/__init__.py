"""Dependability of monitoring scores: generalizability theory and the many-facet Rasch model.

Pure functions of long score tables (numpy, scipy and pandas only).

=====================  ================================================================
function               what it answers
=====================  ================================================================
g_study                variance components of any crossed/nested design (ANOVA when
                       balanced, Henderson Method 1 otherwise), E rho^2 and Phi;
                       ``GStudy.d_study`` for other sample sizes and fixed facets
tutor_dependability    the G study of the app's scores: tutors in ``(r:s:t) x i``
d_study_table          Phi and E rho^2 for 1-12 sessions x 1-3 raters per session
sessions_needed        fewest sessions for Phi >= .80 with a given number of raters
mfrm                   many-facet Rasch rating-scale model by JMLE: rater severity and
                       fit, tutors' measures and fair averages, as FACETS
g_study_to_dict,       JSON-ready dicts for ``analyse --format json``
mfrm_to_dict
=====================  ================================================================

Input for which a figure is not defined (one rater, a facet with one level, no replication, a
single score category) raises :class:`~session_rater.errors.DesignError`, a ``ValueError``
and a ``SessionRaterError``, saying why.
"""

from session_rater.domain.dependability.export import g_study_to_dict, mfrm_to_dict
from session_rater.domain.dependability.generalizability import DStudy, GStudy, VarianceComponent, g_study
from session_rater.domain.dependability.rasch import MfrmResult, mfrm
from session_rater.domain.dependability.tutors import (
    DStudyRow,
    DStudyTable,
    d_study_table,
    sessions_needed,
    tutor_dependability,
)
from session_rater.errors import DesignError

__all__ = [
    "DStudy",
    "DStudyRow",
    "DStudyTable",
    "DesignError",
    "GStudy",
    "MfrmResult",
    "VarianceComponent",
    "d_study_table",
    "g_study",
    "g_study_to_dict",
    "mfrm",
    "mfrm_to_dict",
    "sessions_needed",
    "tutor_dependability",
]
