"""The report pages' filter bar gives the default filters one key, whatever the period's ends: the
key under which the app computes the figures ahead of the first visitor (issue 17)."""

from __future__ import annotations

from session_rater.ui import analysis_data as ad
from session_rater.usecases import reports

from .conftest import AppEnv, open_app

OVERSEER = "Dev Sharma"


def test_the_whole_period_is_no_period_so_the_opening_filters_are_the_default_ones(app_env: AppEnv) -> None:
    at = open_app("overscoring", rater=app_env.person(OVERSEER))
    assert not at.exception, [e.message for e in at.exception]
    url = app_env.services.settings.database_url
    default = ad.default_filters(reports.load_scores(app_env.services))
    assert ("report", url, default.key()) in ad._LATEST
    # a narrower period is a filter of its own
    start, end = at.date_input(key="overscoring:period").value
    at.date_input(key="overscoring:period").set_value((start.replace(day=min(start.day + 1, 28)), end)).run()
    assert not at.exception, [e.message for e in at.exception]
    narrowed = [k for k in ad._LATEST if k[0] == "report" and k[1] == url and k[2] != default.key()]
    assert narrowed and narrowed[-1][2][2] is not None and narrowed[-1][2][3] is None
