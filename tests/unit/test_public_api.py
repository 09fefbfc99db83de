"""The public API: code outside this repository imports the statistics from ``session_rater``."""

from __future__ import annotations

import pandas as pd

import session_rater


def test_the_dependability_functions_and_their_results_import_from_the_package() -> None:
    from session_rater import DStudy, GStudy, MfrmResult, g_study, mfrm

    assert {"g_study", "mfrm", "GStudy", "DStudy", "MfrmResult", "DesignError"} <= set(session_rater.__all__)
    # The figures are checked in test_generalizability.py and test_rasch.py; here only the imports and types.
    scores = pd.DataFrame(
        [(p, i, s) for p, row in enumerate([[2, 3, 3], [1, 2, 2], [3, 3, 2], [0, 1, 2]]) for i, s in enumerate(row)],
        columns=["person", "item", "score"],
    )
    study = g_study(scores, object="person", facets=["item"])
    assert isinstance(study, GStudy) and isinstance(study.d_study({"item": 6}), DStudy)
    ratings = pd.DataFrame(
        [(p, r, i, (p + r + i) % 3) for p in range(4) for r in range(2) for i in range(3)],
        columns=["person", "rater", "item", "score"],
    )
    assert isinstance(mfrm(ratings, person="person", rater="rater", item="item"), MfrmResult)


def test_everything_in_all_is_importable() -> None:
    missing = [name for name in session_rater.__all__ if not hasattr(session_rater, name)]
    assert not missing
