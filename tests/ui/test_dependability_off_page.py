"""The G study and Rasch model at national scale (issue 17): computed beside the page run, the
page showing the last ones computed with when and how many ratings came since, never a wait."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from session_rater.domain.bias import pair_with_benchmark
from session_rater.domain.model import Capacity
from session_rater.settings import load_settings
from session_rater.ui import analysis_data as ad
from session_rater.usecases import reports, score_snapshot
from session_rater.usecases.services import Services, open_services


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Services]:
    settings = load_settings({"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "SESSION_RATER_DEMO": "1",
                              "SESSION_RATER_SECRET": "d" * 40})  # fmt: skip
    svc = open_services(settings)
    yield svc
    score_snapshot.forget()
    svc.close()


def _settled(svc: Services, filters: ad.Filters) -> ad.DependabilityStatus:
    for _ in range(600):
        status = ad.dependability(svc, filters)
        if not status.computing:
            return status
        time.sleep(0.1)
    raise AssertionError("the dependability figures were never computed")


def _same(a: reports.Dependability, b: reports.Dependability) -> bool:
    return a.sessions_needed == b.sessions_needed and a.phi(4, 1) == b.phi(4, 1) and a.gstudy_note == b.gstudy_note


def test_above_the_inline_size_the_page_never_waits_and_says_how_old_the_figures_are(
    demo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ad, "INLINE_SCORES", 0)  # the demo as if it were national
    filters = ad.Filters()
    first = ad.dependability(demo, filters)
    assert first.figures is None and first.computing  # being computed beside the page
    done = _settled(demo, filters)
    assert done.current and done.since == 0
    assert _same(done.figures, reports.dependability_of(reports.load_scores(demo)))
    assert _same(ad.report(demo, filters).dependability, done.figures)
    # a correction: the page shows the figures it has, saying one rating came since
    old = next(r for r in demo.store.submitted_ratings() if r.capacity is Capacity.MONITORING)
    new = demo.store.correct_rating(old.id, "looked again", actor_id=old.rater_id)
    demo.store.submit_rating(new.id, confirm_uniform=True, actor_id=old.rater_id)
    stale = ad.dependability(demo, filters)
    assert stale.figures is done.figures and stale.since == 1 and not stale.current
    fresh = _settled(demo, filters)
    assert fresh.current and _same(fresh.figures, reports.dependability_of(reports.load_scores(demo)))


def test_small_data_is_computed_on_the_page_run_as_before(demo: Services) -> None:
    filters = ad.Filters()
    status = ad.dependability(demo, filters)
    assert status.current
    full = reports.analyse_scores(demo, reports.load_scores(demo))
    assert _same(ad.report(demo, filters).dependability, full.dependability)


def test_at_national_size_the_figures_after_a_submission_are_the_last_ones_until_the_new_are_ready(
    demo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ad, "INLINE_SCORES", 0)
    filters = ad.Filters()
    first = ad.report(demo, filters)  # the first computation for a filter is waited for
    assert ad.figures_status(demo, filters).current
    old = next(r for r in demo.store.submitted_ratings() if r.capacity is Capacity.SELF_ASSESSMENT)
    new = demo.store.correct_rating(old.id, "misread the item", actor_id=old.rater_id)
    demo.store.save_item(new.id, next(iter(old.scores)), score=1, actor_id=old.rater_id)
    demo.store.submit_rating(new.id, confirm_uniform=True, actor_id=old.rater_id)
    status = ad.figures_status(demo, filters)
    assert status.since == 1 and not status.current  # said on the page, not waited for
    assert ad.report(demo, filters).bias == first.bias
    for _ in range(600):
        if ad.figures_status(demo, filters).current:
            break
        time.sleep(0.1)
    fresh = ad.report(demo, filters)
    expected = reports.analyse_scores(demo, reports.load_scores(demo), dependability=False)
    assert fresh.bias == expected.bias and fresh.n_scores == expected.n_scores
    assert fresh.bias != first.bias  # the correction moved the figures


def test_the_default_figures_are_computed_as_the_app_starts_so_the_first_visitor_does_not_wait(
    demo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ad, "INLINE_SCORES", 0)
    scores = reports.load_scores(demo)
    filters = ad.default_filters(scores)
    ad.warm_default_figures(demo)  # what app.py runs in its warm-up thread
    for kind in ("report", "quarterly", "paired", "pairs", "monitored", "dependability"):
        done = ad._LATEST[(kind, demo.settings.database_url, filters.key())]
        assert done.stamp == score_snapshot.scores_frame(demo).stamp and done.error is None, kind
    status = ad.dependability(demo, filters)
    assert status.current and _same(status.figures, reports.dependability_of(scores))  # computed in the worker
    assert ad.figures_status(demo, filters).current
    assert ad.report(demo, filters).bias == reports.analyse_scores(demo, scores, dependability=False).bias
    # every figure computed in the worker processes is the one computed here
    pd.testing.assert_frame_equal(ad.quarterly_bias(demo, filters), reports.bias_by_period(scores, "quarter"))
    pd.testing.assert_frame_equal(ad.rater_agreement(demo, filters),
                                  reports.pairwise_agreement(scores, categories=reports.scale_of(demo, scores)))
    pd.testing.assert_frame_equal(ad.paired_scores(demo, filters).pairs, pair_with_benchmark(scores).pairs)
    assert ad.monitored_sessions(demo, filters) == reports.monitored_sessions(scores)


def test_a_visitor_asking_for_a_figure_being_computed_waits_for_it_instead_of_computing_it_again(
    demo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setattr(ad, "INLINE_SCORES", 0)
    calls: list[str] = []
    started, release = threading.Event(), threading.Event()

    def slow(svc: Services, scores: pd.DataFrame) -> int:
        calls.append(threading.current_thread().name)
        started.set()
        release.wait(30)
        return len(scores)

    filters = ad.Filters(sites=("Barrow",))
    first = threading.Thread(target=lambda: ad._latest("slow", demo, filters, slow), name="first visitor")
    first.start()
    assert started.wait(30)
    answers: list[object] = []
    second = threading.Thread(target=lambda: answers.append(ad._latest("slow", demo, filters, slow)[0]),
                              name="second visitor")  # fmt: skip
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting for the first visitor's computation, not computing its own
    release.set()
    first.join(30), second.join(30)
    assert calls == ["first visitor"] and answers == [len(filters.apply(reports.load_scores(demo)))]


def test_warming_on_small_data_computes_nothing_ahead(demo: Services) -> None:
    before = set(ad._LATEST)
    ad.warm_default_figures(demo)  # the demo: figures take well under a second on the page run
    assert set(ad._LATEST) == before
