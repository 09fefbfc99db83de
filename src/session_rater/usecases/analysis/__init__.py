"""The agreement and over-scoring report: one call from long-format scores to every figure.

:func:`analyse` assembles the pure parts of ``session_rater.domain``:

* **over-scoring** (:mod:`~session_rater.domain.bias`): each score minus the reference score of
  the same session, tutor and item, per rater, capacity, item and tutor, with session-cluster
  bootstrap intervals, Wilcoxon p-values, the share scored a point or more above and
  Bland-Altman limits;
* **agreement** (:mod:`~session_rater.domain.agreement`) among the raters of the same
  (session, tutor, item), overall and per item, each figure with its reading
  (:mod:`~session_rater.domain.readings`), and the kappa-paradox warning where ratings pile up
  at one end of the scale (:mod:`~session_rater.domain.independence`);
* **independence**: straight-line forms and halo raters;
* **dependability** (:mod:`.dependability`): the G study of tutors' scores, D studies for other
  numbers of rated sessions and raters, and the many-facet Rasch model's rater severities and
  tutors' fair averages.

:func:`read_scores_with_scale` (:mod:`.scale`) reads a scores file and checks each score
against the scale given, or else the scale of the rubric its rows name.

:func:`report_to_json` gives the JSON contract of ``session-rater analyse --format json``
(issue 4); :func:`report_to_text` a readable report that states the reference used.
"""

from session_rater.io.scores_csv import ScoresFile, read_scores_csv
from session_rater.usecases.analysis.dependability import (
    Dependability,
    RaterFit,
    TutorFit,
    assess_dependability,
)
from session_rater.usecases.analysis.report import (
    MATRICES,
    MEASURES,
    AgreementSummary,
    AnalysisReport,
    MeasureResult,
    MeasureSpec,
    analyse,
)
from session_rater.usecases.analysis.scale import ScaleChoice, read_scores_with_scale
from session_rater.usecases.analysis.to_json import report_to_json
from session_rater.usecases.analysis.to_text import report_to_text

__all__ = [
    "ScoresFile",
    "read_scores_csv",
    "MATRICES",
    "MEASURES",
    "AnalysisReport",
    "analyse",
    "report_to_json",
    "report_to_text",
    "AgreementSummary",
    "MeasureResult",
    "MeasureSpec",
    "Dependability",
    "RaterFit",
    "TutorFit",
    "assess_dependability",
    "ScaleChoice",
    "read_scores_with_scale",
]
