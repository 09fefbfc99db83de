"""The pages of issue 12 with AppTest on the demo: Supervision, Monitoring report, Area report
and Audit. Each shows its report to those the rules allow, refuses everyone else saying why,
and offers its files through the app's own download route (fetched here as the browser would,
for the person signed in)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import AppEnv, download_links, fetch, rendered

OpenPage = Callable[..., AppTest]
REPO = Path(__file__).resolve().parents[2]


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def shown(at: AppTest) -> str:
    return rendered("\n".join(e.value for kind in ("markdown", "caption", "info", "warning", "success", "error")
                              for e in at.get(kind)))  # fmt: skip


def titles(at: AppTest) -> list[str]:
    return [e.value for e in at.get("title")] + [e.value for e in at.get("subheader")]


def test_a_treatment_manager_sees_supervision_feedback_records_a_discussion_and_downloads_the_pdf(
        app_env: AppEnv, open_page: OpenPage) -> None:  # fmt: skip
    helen, tom = app_env.person("Helen Price"), app_env.person("Tom Hughes")
    session = app_env.recording("tf02-s03-problem-solving.mp4")
    at = open_page("supervision", rater=helen, recording=session, tutor=tom)
    no_exception(at)
    for heading in ("Strengths", "Development points", "Evidence notes", "Discussed in supervision", "Item by item"):
        assert heading in titles(at), heading
    text = shown(at)
    assert "Tutor: Tom Hughes. Treatment manager: Helen Price." in text
    assert "must never write an offender's name" in text
    assert f"/supervision?recording={session}&tutor={tom}&at=" in text  # each moment links to the recording there
    assert "Mean item score per session. Treatment manager: from" in text  # the trend chart in words
    assert any(e.label.startswith("Figures of the chart") for e in at.expander)
    at.text_input[0].set_value("Check understanding before moving on.")
    at.button[0].click().run()  # the form's submit button
    no_exception(at)
    assert "Check understanding before moving on." in shown(at)
    name, pdf = fetch(at, download_links(at)["Download PDF"])
    assert name.startswith("supervision-tom-hughes-2026-04-16") and pdf.startswith(b"%PDF")


@pytest.mark.parametrize("who", ["Sam Rowe", "Mark Dixon", "Ruth Okafor"])
def test_supervision_feedback_is_refused_to_others(app_env: AppEnv, open_page: OpenPage, who: str) -> None:
    session = app_env.recording("tf02-s03-problem-solving.mp4")
    at = open_page("supervision", rater=app_env.person(who), recording=session, tutor=app_env.person("Tom Hughes"))
    no_exception(at)
    assert "Strengths" not in titles(at)
    assert "cannot see" in shown(at) or "No supervision feedback that you can see" in shown(at)


def test_a_programme_manager_who_has_not_rated_is_asked_before_being_recorded_as_not_blind(
        app_env: AppEnv, open_page: OpenPage) -> None:  # fmt: skip
    dev, tom = app_env.person("Dev Sharma"), app_env.person("Tom Hughes")
    session = app_env.recording("tf02-s03-problem-solving.mp4")
    at = open_page("supervision", rater=dev, recording=session, tutor=tom)
    assert "recorded as not blind" in shown(at) and "Strengths" not in titles(at)
    assert not app_env.services.store.is_unblinded(dev, session, tom)
    at.button[0].click().run()
    no_exception(at)
    assert "Strengths" in titles(at)
    assert app_env.services.store.is_unblinded(dev, session, tom)


def test_the_monitoring_report_page_and_its_pdf(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("monitoring-report", rater=app_env.person("Helen Price"))
    no_exception(at)
    for heading in ("Monitoring against the targets", "Overdue work", "Double-rated sessions and agreement",
                    "Difference from the benchmark", "Calibration"):  # fmt: skip
        assert heading in titles(at), heading
    assert "Status: Certified." in shown(at)  # the demo's calibration round (issue 10)
    name, pdf = fetch(at, download_links(at)["Download PDF"])
    assert name == "monitoring-report-helen-price-2026Q2.pdf" and pdf.startswith(b"%PDF")


def test_a_treatment_manager_sees_only_their_own_monitoring_report(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("monitoring-report", rater=app_env.person("Helen Price"), manager=app_env.person("Mark Dixon"))
    no_exception(at)
    assert at.selectbox[0].options == ["Helen Price"]


@pytest.mark.parametrize("who", ["Tom Hughes", "Ruth Okafor"])
def test_the_monitoring_report_is_refused_to_tutors_and_assessors(app_env: AppEnv, open_page: OpenPage, who: str) -> None:
    at = open_page("monitoring-report", rater=app_env.person(who))
    no_exception(at)
    assert "monitoring reports are for treatment managers, programme managers and administrators" in shown(at).lower()


def test_the_area_report_page_its_pdf_and_its_xlsx(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("area-report", rater=app_env.person("Dev Sharma"))
    no_exception(at)
    for heading in ("Coverage", "Over-scoring by capacity", "Agreement between capacities", "Raters",
                    "Items most often over-scored (top 10)"):  # fmt: skip
        assert heading in titles(at), heading
    links = download_links(at)
    name, pdf = fetch(at, links["Download PDF"])
    assert name == "area-report-cumbria-all.pdf" and pdf.startswith(b"%PDF")
    assert "Mean difference from the reference by period (above 0" in shown(at)  # the trend chart in words
    name, xlsx = fetch(at, links["Download XLSX"])
    assert name == "area-report-cumbria-all.xlsx" and xlsx.startswith(b"PK")


def test_the_area_report_says_how_old_its_figures_are_while_newer_ones_are_computed(
        app_env: AppEnv, open_page: OpenPage) -> None:  # fmt: skip
    """After a submission, figures slow to compute are shown as they were, saying when they were
    computed and how many ratings came since, and the next visit shows those of the new scores."""
    from session_rater.db.ratings import ItemEntry, RatingSpec
    from session_rater.domain.model import Capacity, Role
    from session_rater.usecases import area_report

    app_env.monkeypatch.setattr(area_report, "INLINE_SECONDS", -1.0)  # every recomputation counts as slow
    area_report._FIGURES.clear()
    dev = app_env.person("Dev Sharma")
    at = open_page("area-report", rater=dev)
    no_exception(at)
    assert "were computed at" not in shown(at)
    svc = app_env.services
    rubric = svc.rubrics()[0]
    assessor = next(p.id for p in svc.store.list_people() if Role.EXTERNAL_ASSESSOR.value in p.roles)
    session = next(r for r in svc.store.list_recordings() if r.area == "Cumbria" and r.tutors
                   and svc.store.find_rating(r.id, r.tutors[0].id, assessor, Capacity.EXTERNAL) is None)  # fmt: skip
    entries = {item.id: ItemEntry(score=3 - i % 2) for i, item in enumerate(rubric.items)}
    svc.store.add_ratings([RatingSpec(session.id, session.tutors[0].id, assessor, Capacity.EXTERNAL, entries)], rubric)
    at = open_page("area-report", rater=dev)
    no_exception(at)
    assert "The over-scoring, agreement and raters' figures were computed at" in shown(at)
    assert "1 rating submitted or corrected since" in shown(at)
    area_report._FIGURES.wait()
    at = open_page("area-report", rater=dev)
    no_exception(at)
    assert "were computed at" not in shown(at)


def test_the_area_reports_coverage_counts_sessions_monitored_without_a_draw(app_env: AppEnv) -> None:
    from session_rater.usecases.area_report import AreaReports
    from session_rater.usecases.permitted import Permitted

    svc = app_env.services  # the demo has no sample drawn, but its managers have rated sessions
    me = Permitted(svc, svc.person(app_env.person("Dev Sharma")))
    coverage = AreaReports(me).report("Cumbria").tables["Coverage"]
    whole = coverage[coverage["period"] == "whole period"].iloc[0]
    assert int(whole["sampled"]) == 0 and int(whole["rated"]) > 0


@pytest.mark.parametrize("who", ["Helen Price", "Tom Hughes", "Alan Reid"])
def test_the_area_report_is_refused_to_all_but_programme_managers_and_administrators(
        app_env: AppEnv, open_page: OpenPage, who: str) -> None:  # fmt: skip
    at = open_page("area-report", rater=app_env.person(who))
    no_exception(at)
    assert "the area report is for the area's programme manager and administrators" in shown(at).lower()
    assert not download_links(at)


def test_an_assessor_imports_marks_sees_the_iqr_and_downloads_pdf_and_csv(app_env: AppEnv, open_page: OpenPage) -> None:
    from session_rater.usecases.audits import Audits
    from session_rater.usecases.permitted import Permitted

    ruth = app_env.person("Ruth Okafor")
    audits = Audits(Permitted(app_env.services, app_env.services.person(ruth)))
    marks = (REPO / "tests" / "data" / "audit" / "cumbria-2002-follow-up-marks.csv").read_text()
    saved = audits.save(title="Follow-up audit, November 2002", area="Cumbria", marks_csv=marks, mandatory=[])
    at = open_page("audit-scoring", rater=ruth, audit=saved.mark_set.id)
    no_exception(at)
    assert [m.value for m in at.metric] == ["63%"]
    assert "What Session Rater holds on monitoring (beside C1)" in shown(at)
    links = download_links(at)
    name, pdf = fetch(at, links["Download PDF"])
    assert pdf.startswith(b"%PDF") and name.endswith("-summary.pdf")
    _, csv = fetch(at, links["Download CSV"])
    assert csv.decode().splitlines()[0] == "criterion_id,title,mark,carried_over,note"


def test_an_incomplete_set_of_marks_is_not_saved_and_says_what_is_missing(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("audit-scoring", rater=app_env.person("Alan Reid"))
    no_exception(at)
    at.text_input[0].set_value("Follow-up audit")
    at.button[0].click().run()  # every criterion still without a mark
    no_exception(at)
    text = shown(at)
    assert "nothing was saved" in text and "no criterion of think-first-2002 is marked" in text
    assert not app_env.services.accounts_store.audit_log(limit=5) or all(
        e.entity != "audit_marks" for e in app_env.services.accounts_store.audit_log(limit=50))


@pytest.mark.parametrize("who", ["Tom Hughes", "Helen Price"])
def test_the_audit_page_is_refused_to_tutors_and_treatment_managers(app_env: AppEnv, open_page: OpenPage, who: str) -> None:
    at = open_page("audit-scoring", rater=app_env.person(who))
    no_exception(at)
    assert "kept by the audit team (external assessors) and administrators" in shown(at)


def test_a_download_of_someone_elses_report_is_refused_by_the_route(app_env: AppEnv, open_page: OpenPage) -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from session_rater.ui.auth import TOKEN_KEY
    from session_rater.web.routes import routes
    from session_rater.web.signin import SESSION_COOKIE

    at = open_page("monitoring-report", rater=app_env.person("Helen Price"))
    client = TestClient(Starlette(routes=routes()), cookies={SESSION_COOKIE: at.session_state[TOKEN_KEY]})
    mark = app_env.person("Mark Dixon")
    assert client.get(f"/exports/monitoring-report.pdf?manager={mark}&period=2026Q1").status_code == 403
    assert client.get("/exports/area-report.pdf?area=Cumbria").status_code == 403
    assert client.get("/exports/audit-marks.csv?audit=1").status_code == 403
