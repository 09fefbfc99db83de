"""The report as the JSON contract of session-rater analyse --format json."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from session_rater.domain.bias import (
    BiasEstimate,
)
from session_rater.domain.dependability import DStudyTable, g_study_to_dict, mfrm_to_dict
from session_rater.usecases.analysis.dependability import PHI_TARGET, Dependability, describe_design
from session_rater.usecases.analysis.report import (
    MATRICES,
    MEASURES,
    AnalysisReport,
    MeasureResult,
)


def report_to_json(report: AnalysisReport) -> dict[str, Any]:
    """The JSON contract of issue 4, with a few keys more (reference, bootstrap, methods,
    warnings, bias_by_tutor, skipped_rows, scale) and issue 11's ``g_study`` and ``mfrm``;
    NaN never appears: a missing figure is None."""
    bias = report.bias
    plain: dict[str, Any] = _clean(
        {
            "n_scores": report.n_scores,
            "n_not_applicable": report.n_not_applicable,
            "skipped_rows": report.skipped_rows,
            "benchmark_role": report.benchmark_role,
            "reference": {
                "requested": bias.reference.requested,
                "description": bias.reference.describe(),
                "pairs_by_source": dict(bias.reference.pairs_by_source),
            },
            "bootstrap": {
                "resamples": bias.n_boot,
                "seed": bias.seed,
                "resampled_unit": "session",
                "interval": f"{bias.confidence:.0%} percentile",
            },
            "agreement": {
                "overall": {name: _measure_json(m) for name, m in report.agreement.overall.items()},
                "by_item": {
                    item: {name: _measure_json(m, method=False) for name, m in measures.items()}
                    for item, measures in report.agreement.by_item.items()
                },
            },
            "methods": {
                "matrices": dict(MATRICES),
                "measures": {name: {"label": spec.label, "matrix": spec.matrix} for name, spec in MEASURES.items()},
            },
            "warnings": list(report.agreement.warnings),
            "bias": [
                {"rater_id": e.key[0], "rater_role": e.key[1], **_bias_json(e, full=True)}
                for e in bias.by_rater.estimates
            ],
            "bias_by_role": {str(e.key[0]): _bias_json(e, full=True) for e in bias.by_role.estimates},
            "bias_by_item": _nested(bias.by_item.estimates),
            "bias_by_tutor": _nested(bias.by_tutor.estimates),
            "halo": [
                {"rater_id": f.rater_id, "rater_role": f.rater_role, "flag": f.flag, "detail": f.detail}
                for f in report.independence.flags
            ],
            "scale": {
                "points": list(report.categories) if report.categories is not None else None,
                "source": report.scale_source or "none given: the points observed in the scores",
            },
            **_dependability_json(report.dependability),
        }
    )
    return plain


def _dependability_json(dep: Dependability | None) -> dict[str, Any]:
    """``g_study`` and ``mfrm`` (the contract of :mod:`session_rater.domain.dependability.export`)
    with a few keys more: what each is based on, and a ``note`` saying why a figure is missing."""
    if dep is None:
        return {}
    based_on = {"scores_used": dep.n_scores, "left_out": dep.left_out}
    if dep.gstudy is not None:
        table = DStudyTable(dep.gstudy.design, dep.d_study)
        g_study = {
            **g_study_to_dict(dep.gstudy, d_study=table),
            "description": describe_design(dep.gstudy),
            "sample_sizes": dict(dep.gstudy.sample_sizes),
            "sessions_needed": {str(raters): n for raters, n in dep.sessions_needed.items()},
            "phi_target": PHI_TARGET,
            "note": dep.d_study_note,
        }
    else:
        g_study = {"design": None, "estimator": None, "components": [], "erho2": None, "phi": None, "d_study": [],
                   "note": dep.gstudy_note}  # fmt: skip
    if dep.model is not None:
        mfrm = mfrm_to_dict(dep.model)
        for rater in dep.raters:
            low, high = rater.interval
            mfrm["raters"][rater.key].update({"rater_id": rater.rater_id, "rater_role": rater.rater_role,
                                              "interval": [low, high], "flag": rater.flag})  # fmt: skip
        for tutor in dep.tutors:
            mfrm["tutors"][str(tutor.tutor_id)]["moved"] = tutor.moved
        mfrm.update({"description": dep.model.description, "note": dep.model_note})
    else:
        mfrm = {"method": "JMLE", "raters": {}, "tutors": {}, "note": dep.model_note}
    return {"g_study": {**g_study, **based_on}, "mfrm": {**mfrm, **based_on}}


def _measure_json(m: MeasureResult, *, method: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "value": m.value,
        "ci": list(m.ci) if m.ci else None,
        "n_units": m.n_units,
        "n_raters": m.n_raters,
        "reading": m.reading.text if m.reading else None,
        "reading_source": m.reading.scale if m.reading else None,
        "reading_basis": m.reading.basis if m.reading else None,
        "matrix": MEASURES[m.name].matrix,
    }
    if method:
        out["method"] = m.method
    if m.note:
        out["note"] = m.note
    return out


def _bias_json(e: BiasEstimate, *, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"n": e.n, "mean_diff": e.mean_diff, "ci": list(e.ci) if e.ci else None}
    if full:
        out.update({"p_value": e.p_value, "share_over_by_1": e.share_over_by_1})
    out.update(
        {
            "n_sessions": e.n_sessions,
            "limits_of_agreement": list(e.limits) if e.limits else None,
        }
    )
    if not full:
        out.update({"p_value": e.p_value, "share_over_by_1": e.share_over_by_1})
    return out


def _nested(estimates: Sequence[BiasEstimate]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in estimates:
        key = "none" if e.key[0] is None else str(e.key[0])
        out.setdefault(key, {})[str(e.key[1])] = _bias_json(e, full=False)
    return out


def _clean(value: Any) -> Any:
    """Plain JSON: NaN and infinities become None, numpy scalars Python ones, tuples lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


# -- text ------------------------------------------------------------------------------------------


