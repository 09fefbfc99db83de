"""JSON-ready dicts of G studies and Rasch fits, as ``analyse --format json`` writes them.

Contract::

    "g_study": {"design", "estimator",
                "components": [{"effect", "variance", "df", "ms"}],
                "erho2", "phi",
                "d_study": [{"sessions", "raters", "erho2", "phi"}]}
    "mfrm": {"method",
             "raters": {id: {"severity", "se", "infit", "outfit"}},
             "tutors": {id: {"measure", "se", "fair_average", "raw_average"}}}

Ids become strings (JSON object keys); a number that is not finite becomes ``null``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

from session_rater.domain.dependability.generalizability import GStudy
from session_rater.domain.dependability.rasch import MfrmResult
from session_rater.domain.dependability.tutors import DStudyTable


def g_study_to_dict(gstudy: GStudy, *, d_study: DStudyTable | None = None) -> dict[str, Any]:
    """The G study (and, if given, its D-study table from :func:`d_study_table`) as plain data."""
    return {
        "design": gstudy.design,
        "estimator": gstudy.estimator,
        "components": [
            {"effect": c.effect, "variance": _number(c.variance), "df": _number(c.df), "ms": _number(c.ms)}
            for c in gstudy.components
        ],
        "erho2": _number(gstudy.erho2),
        "phi": _number(gstudy.phi),
        "d_study": [
            {"sessions": row.sessions, "raters": row.raters, "erho2": _number(row.erho2), "phi": _number(row.phi)}
            for row in (d_study.rows if d_study is not None else ())
        ],
    }


def mfrm_to_dict(result: MfrmResult) -> dict[str, Any]:
    """Rater severities and fit, and tutors' measures, fair and raw averages, as plain data."""
    return {
        "method": result.method,
        "raters": {
            _key(rater): {
                "severity": _number(severity),
                "se": _number(result.rater_se[rater]),
                "infit": _number(result.rater_infit[rater]),
                "outfit": _number(result.rater_outfit[rater]),
            }
            for rater, severity in result.rater_severity.items()
        },
        "tutors": {
            _key(tutor): {
                "measure": _number(measure),
                "se": _number(result.person_se[tutor]),
                "fair_average": _number(result.person_fair_average[tutor]),
                "raw_average": _number(result.person_raw_average[tutor]),
            }
            for tutor, measure in result.person_measure.items()
        },
    }


def _number(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _key(identifier: Hashable) -> str:
    return str(identifier)
