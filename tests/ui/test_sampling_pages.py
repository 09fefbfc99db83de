"""The sampling pages (My work, Coverage, Sampling) with AppTest on the demo data.

Until the pages are in ``ui/nav.py`` they are opened through a small script that routes to the
app's pages plus these three (only those nav does not list yet), by the same private page hash
as ``conftest.open_app``. Demo sessions are dated 2026-02..05: a draw made "on" 2026-04-01 gives
monitoring work due in April to June, overdue today.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from session_rater.db.sampling_store import SamplingStore
from session_rater.domain.model import Capacity
from session_rater.domain.records import RecordingSpec
from session_rater.domain.sampling import Draw, Rule, draw_sample
from session_rater.io.policy_files import load_policy_dir, policy_to_dict
from session_rater.ui.pages import sampling
from session_rater.usecases.services import DEFAULT_RUBRIC_ID

from .conftest import open_app, REPO, AppEnv, download_links, fetch, rendered

OLD_DRAW_DAY = dt.date(2026, 4, 1)
OpenPage = Callable[..., AppTest]


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


@pytest.fixture
def policies_dir(app_env: AppEnv, tmp_path: Path) -> Path:
    """A private copy of the repository's policies folder (the editor writes into it)."""
    directory = tmp_path / "policies"
    shutil.copytree(REPO / "policies", directory)
    app_env.set("SESSION_RATER_POLICIES_DIR", directory)
    return directory


@pytest.fixture
def open_new_page(app_env: AppEnv, policies_dir: Path) -> OpenPage:
    return open_app  # the real router: these pages are in ui/nav.py


def save_draw(app_env: AppEnv, *, drawn_on: dt.date, seed: int = 3, change: Callable[[Draw], Draw] | None = None) -> Draw:
    """Draw the default policy on the demo data as of ``drawn_on`` and save it."""
    store = SamplingStore(app_env.services.store.engine)
    policy = load_policy_dir(app_env.services.settings.policies_dir).latest("default")
    draw = draw_sample(store.roster(), store.people(), policy, seed=seed, drawn_on=drawn_on)
    draw = change(draw) if change else draw
    store.save_draw(draw, policy_to_dict(policy))
    return draw


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


# -- My work ----------------------------------------------------------------------------------


def test_my_work_before_any_draw_says_work_appears_once_a_sample_is_drawn(
    app_env: AppEnv, open_new_page: OpenPage
) -> None:
    at = open_new_page("queue", rater=app_env.person("Helen Price"))
    no_exception(at)
    assert [t.value for t in at.title] == ["My work"]
    [info] = at.info
    assert "after a monitoring sample is drawn" in info.value
    assert "Sampling" in info.value and "session-rater sample" in info.value


def test_my_work_lists_a_managers_assignments_soonest_due_first_and_flags_the_overdue_ones(
    app_env: AppEnv, open_new_page: OpenPage
) -> None:
    today = dt.date.today()
    manager = app_env.person("Helen Price")
    later = today + dt.timedelta(days=30)

    def one_due_later(draw: Draw) -> Draw:  # one of her sessions not yet due
        mine = [s for s in draw.selections if s.rater_id == manager]
        first = mine[0]
        return dataclasses.replace(draw, selections=tuple(
            dataclasses.replace(s, due_on=later) if s is first else s for s in draw.selections
        ))  # fmt: skip

    draw = save_draw(app_env, drawn_on=OLD_DRAW_DAY, change=one_due_later)
    expected = SamplingStore(app_env.services.store.engine).work_queue(manager, today=today)
    assert {q.rule for q in expected} <= {Rule.MONITORING, Rule.CATCH_UP} and len(expected) >= 2
    assert any(q.due_on == later for q in expected) and any(q.overdue for q in expected)

    at = open_new_page("queue", rater=manager)
    no_exception(at)
    at.session_state["queue:show"] = "All"
    at.run()
    no_exception(at)
    shown = [rendered(m.value) for m in at.markdown]
    due_lines = [v for v in shown if v.startswith("**Due ")]
    assert due_lines == [f"**Due {q.due_on:%d/%m/%Y}**" for q in expected]
    overdue_flags = [v for v in shown if "Overdue by" in v]
    assert len(overdue_flags) == sum(q.overdue for q in expected)
    assert all(":red-badge[" in v for v in overdue_flags)
    assert sum(f"**{q.label}**" in shown for q in expected) == len(expected)
    assert any("first rater" in v for v in shown)
    assert f"Due {later:%d/%m/%Y}" in "\n".join(shown)
    assert len([b for b in at.button if b.key and b.key.startswith("queue-open-")]) == len(expected)
    assert draw.seed == 3


def test_my_work_shows_a_page_of_sessions_at_a_time_and_more_on_request(
    app_env: AppEnv, open_new_page: OpenPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    from session_rater.ui.pages import queue

    manager = app_env.person("Helen Price")
    save_draw(app_env, drawn_on=OLD_DRAW_DAY)
    expected = SamplingStore(app_env.services.store.engine).work_queue(manager, today=dt.date.today())
    assert len(expected) >= 3
    monkeypatch.setattr(queue, "PAGE", 2)  # a national draw gives a manager a hundred or more
    at = open_new_page("queue", rater=manager)
    at.session_state["queue:show"] = "All"
    at.run()
    no_exception(at)

    def opened() -> list[str]:
        return [b.key for b in at.button if b.key and b.key.startswith("queue-open-")]

    assert len(opened()) == 2
    assert f"Showing the first 2 of {len(expected)}, soonest due first." in [c.value for c in at.caption]
    more = next(b for b in at.button if b.key == "queue-more")
    assert more.label == f"Show {min(2, len(expected) - 2)} more"
    more.click().run()
    no_exception(at)
    assert len(opened()) == min(4, len(expected))


def test_my_work_rate_button_opens_the_rate_page_on_that_session_and_its_first_tutor(
    app_env: AppEnv, open_new_page: OpenPage
) -> None:
    manager = app_env.person("Mark Dixon")
    save_draw(app_env, drawn_on=OLD_DRAW_DAY)
    first = SamplingStore(app_env.services.store.engine).work_queue(manager, today=dt.date.today())[0]
    at = open_new_page("queue", rater=manager)
    next(b for b in at.button if b.key == f"queue-open-{first.assignment_id}-{int(first.as_second_rater)}").click().run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Rate a session"]
    tutors = app_env.services.recording(first.recording_id).tutors
    assert (at.query_params["recording"], at.query_params["tutor"]) == (str(first.recording_id), str(tutors[0].id))
    assert "rater" not in at.query_params, "who is rating comes from the sign-in, never the URL"


def _submit(app_env: AppEnv, recording_id: int, tutor_id: int | None, rater_id: int, capacity: Capacity,
            *, score: int = 1, note: str = "") -> None:  # fmt: skip
    """A submitted rating of every item, made through the store as the Rate page makes it."""
    svc = app_env.services
    rubric = svc.catalog.latest(DEFAULT_RUBRIC_ID)
    rating = svc.store.start_rating(recording_id, tutor_id, rater_id, capacity, rubric)
    for item in rubric.items:
        svc.store.save_item(rating.id, item.id, score=score, **({"evidence": note} if note else {}))
    svc.store.submit_rating(rating.id, confirm_uniform=True)


def test_my_work_shows_each_co_tutors_status_and_continue_opens_the_co_tutor_still_to_rate(
    app_env: AppEnv, open_new_page: OpenPage
) -> None:
    manager = app_env.person("Mark Dixon")
    save_draw(app_env, drawn_on=OLD_DRAW_DAY)
    queue = SamplingStore(app_env.services.store.engine).work_queue(manager, today=dt.date.today())
    item = next(q for q in queue if len(app_env.services.recording(q.recording_id).tutors) == 2)
    first, second = app_env.services.recording(item.recording_id).tutors
    _submit(app_env, item.recording_id, first.id, manager, Capacity.MONITORING)

    at = open_new_page("queue", rater=manager)
    no_exception(at)
    shown = "\n".join(rendered(m.value) for m in at.markdown)
    assert f"{first.display_name}: submitted" in shown and f"{second.display_name}: not started" in shown
    [button] = [b for b in at.button if b.key == f"queue-open-{item.assignment_id}-{int(item.as_second_rater)}"]
    assert button.label == f"Rate {second.display_name}", "the button says whom it opens, in full"
    button.click().run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Rate a session"]
    assert at.query_params["tutor"] == str(second.id), "not the tutor already submitted (read-only)"


# -- Coverage ---------------------------------------------------------------------------------




def test_coverage_counts_sessions_rated_without_a_draw_and_says_how_partly_rated_ones_count(
    app_env: AppEnv, open_new_page: OpenPage
) -> None:
    svc = app_env.services
    jo, tom = app_env.person("Jo Bell"), app_env.person("Tom Hughes")
    spec = RecordingSpec("extra.mp4", "Think First", "Barrow TF-99", 1, "Extra", dt.date(2026, 3, 2), "Barrow")
    extra = svc.store.add_recording(spec, [jo, tom])  # co-delivered; only Jo's monitoring is submitted
    _submit(app_env, extra.id, jo, app_env.person("Helen Price"), Capacity.MONITORING)
    recordings = svc.store.list_recordings()
    monitored = {r.id for r in recordings
                 if any(x.capacity is Capacity.MONITORING for x in svc.store.ratings_of_recording(r.id))}
    regular = [r for r in recordings if not r.is_catch_up]
    expected = 100 * len([r for r in regular if r.id in monitored]) / len(regular)
    assert expected > 0

    at = open_new_page("coverage")  # no sample drawn: every rating was made outside a draw
    no_exception(at)
    [headline] = [m for m in at.metric if m.label.startswith("Monitored (target")]
    assert headline.value == f"{expected:.1f}%", "sessions rated without a draw are monitored"
    assert "of which 1 partly rated" in headline.help
    assert any("partly rated" in c.value and "count as monitored" in c.value for c in at.caption)
    table = at.dataframe[0].value
    assert int(table["partly_rated"].sum()) == 1


@pytest.mark.parametrize(
    ("grouping", "heading"),
    [("area", "Area"), ("site", "Site"), ("treatment_manager", "Treatment manager"), ("tutor", "Tutor")],
)
def test_coverage_page_shows_each_grouping_with_its_figures_explained_and_downloads_csv_and_xlsx(
    app_env: AppEnv, open_new_page: OpenPage, grouping: str, heading: str
) -> None:
    save_draw(app_env, drawn_on=OLD_DRAW_DAY)
    at = open_new_page("coverage")
    no_exception(at)
    at.session_state["coverage:by"] = grouping
    at.session_state["coverage:period"] = "quarter"
    at.run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Coverage"]
    assert any("Monitored % of all sessions per period, against the" in m.value for m in at.markdown)  # the chart in words
    table = at.dataframe[0].value
    assert list(table.columns[:2]) == [grouping, "period"] and len(table) > 0
    recorded = {f"{r.recorded_on.year}Q{(r.recorded_on.month - 1) // 3 + 1}" for r in app_env.services.store.list_recordings()}
    assert set(table["period"]) <= recorded
    assert any(m.label.startswith("Monitored (target 10%)") and "÷" in m.help for m in at.metric)
    assert int(table["overdue"].sum()) > 0, "the old draw's unrated work is overdue"

    links = download_links(at)
    assert sorted(links) == ["Download CSV", "Download XLSX"]
    stem = f"coverage-by-{grouping.replace('_', '-')}-quarter-{dt.date.today():%Y-%m-%d}"
    name, csv = fetch(at, links["Download CSV"])
    assert name == f"{stem}.csv" and csv.decode("utf-8").splitlines()[0].startswith(f"{grouping},period,")
    name, xlsx = fetch(at, links["Download XLSX"])
    assert name == f"{stem}.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True)
    assert workbook.sheetnames == ["Coverage", "About"]
    header = next(workbook["Coverage"].iter_rows(max_row=1, values_only=True))
    assert header[:2] == (heading, "Period")
    assert workbook["Coverage"].max_row == len(table) + 1
    about = {row[0]: row[1] for row in workbook["About"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert "Overdue" in about and "before today" in about["Overdue"]


def test_coverage_page_before_any_draw_says_nothing_is_sampled_yet(app_env: AppEnv, open_new_page: OpenPage) -> None:
    at = open_new_page("coverage")
    no_exception(at)
    assert any("No sample has been drawn yet" in i.value for i in at.info)
    regular = [r for r in app_env.services.store.list_recordings() if not r.is_catch_up]
    assert int(at.dataframe[0].value["recorded"].sum()) == len(regular)  # the demo's regular (not catch-up) sessions


# -- Sampling ---------------------------------------------------------------------------------


def edit_and_save(at: AppTest, text: str) -> AppTest:
    at.text_area(key=sampling.EDITOR_KEY).input(text)
    next(b for b in at.button if b.label == "Save as new version").click()
    return at.run()


def test_sampling_page_lists_the_policy_in_force_with_its_version_and_rules_in_words(
    app_env: AppEnv, open_new_page: OpenPage
) -> None:
    at = open_new_page("sampling", rater=app_env.person("Dev Sharma"))
    no_exception(at)
    shown = texts(at)
    assert "version 1.0" in shown and "default.yaml" in shown
    assert "at least **10%** of each programme group" in shown and "**1 in 7**" in shown
    assert "about **1 in 10** of their monitoring assignments (`validity_rate: 0.1`)" in shown


def test_sampling_page_rejects_a_bad_edit_with_every_error_and_writes_nothing(
    app_env: AppEnv, open_new_page: OpenPage, policies_dir: Path
) -> None:
    before = sorted(p.name for p in policies_dir.iterdir())
    at = open_new_page("sampling", rater=app_env.person("Dev Sharma"))
    text = (policies_dir / "default.yaml").read_text()
    bad = text.replace('version: "1.0"', 'version: "1.1"').replace("  percent: 10\n", "  percent: 150\n  colour: red\n", 1)
    edit_and_save(at, bad)
    no_exception(at)
    [error] = at.error
    assert "Not saved: 2 problem(s)" in rendered(error.value)
    assert "monitoring.percent: must be a percentage above 0 up to 100, not the number 150" in rendered(error.value)
    assert "monitoring.colour: unknown key 'colour'" in rendered(error.value)
    assert sorted(p.name for p in policies_dir.iterdir()) == before

    next(b for b in at.button if b.label == "Check").click().run()
    assert "2 problem(s)" in at.error[0].value and "Not saved" not in at.error[0].value


def test_sampling_page_counts_every_problem_and_lists_the_first_50(
    app_env: AppEnv, open_new_page: OpenPage, policies_dir: Path
) -> None:
    at = open_new_page("sampling", rater=app_env.person("Dev Sharma"))
    text = (policies_dir / "default.yaml").read_text().replace('version: "1.0"', 'version: "1.1"')
    unknown = "".join(f"  colour{n}: red\n" for n in range(80))
    edit_and_save(at, text.replace("  percent: 10\n", "  percent: 10\n" + unknown, 1))
    no_exception(at)
    [error] = at.error
    assert "Not saved: 80 problem(s)" in rendered(error.value)
    assert "... and 30 more problems" in rendered(error.value)
    assert error.value.count("unknown key 'colour") == 50


def test_a_policy_file_over_the_size_limit_is_not_loaded_into_the_editor(
    app_env: AppEnv, open_new_page: OpenPage, policies_dir: Path
) -> None:
    with (policies_dir / "huge.yaml").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    at = open_new_page("sampling", rater=app_env.person("Dev Sharma"))
    no_exception(at)
    at.selectbox(key=sampling.EDITOR_FILE_KEY).set_value("huge.yaml").run()
    no_exception(at)
    shown = "\n".join(rendered(e.value) for e in at.error)
    assert "Not loaded: 1 problem(s)" in shown
    assert "huge.yaml: (top level): the policy file is 52,428,800 bytes" in shown


def test_sampling_page_refuses_to_save_an_edit_whose_version_was_not_bumped(
    app_env: AppEnv, open_new_page: OpenPage, policies_dir: Path
) -> None:
    at = open_new_page("sampling", rater=app_env.person("Dev Sharma"))
    text = (policies_dir / "default.yaml").read_text().replace("  percent: 10\n", "  percent: 12\n", 1)
    edit_and_save(at, text)
    no_exception(at)
    error = rendered(at.error[0].value)
    assert "is not newer than version '1.0'" in error and 'e.g. to "1.1"' in error
    assert sorted(p.name for p in policies_dir.iterdir()) == ["README.md", "default.yaml"]


def test_sampling_page_saves_a_valid_edit_with_a_bumped_version_as_a_new_file_now_in_force(
    app_env: AppEnv, open_new_page: OpenPage, policies_dir: Path
) -> None:
    at = open_new_page("sampling", rater=app_env.person("Dev Sharma"))
    text = (policies_dir / "default.yaml").read_text()
    edit_and_save(at, text.replace('version: "1.0"', 'version: "1.1"').replace("  percent: 10\n", "  percent: 12\n", 1))
    no_exception(at)
    assert not at.error
    assert "default v1.1** is now in force" in rendered(at.success[0].value)
    assert (policies_dir / "default-1.1.yaml").read_text().count("percent: 12") == 1
    assert (policies_dir / "default.yaml").read_text() == text, "the file started from is left as it is"
    assert not [p for p in policies_dir.iterdir() if p.name.startswith(".")], "no temporary file left behind"
    shown = texts(at)
    assert "version 1.1" in shown and "default-1.1.yaml" in shown and "at least **12%**" in shown
    assert load_policy_dir(policies_dir).latest("default").version == "1.1"


def test_sampling_page_lets_only_an_administrator_save_or_draw(app_env: AppEnv, open_new_page: OpenPage) -> None:
    at = open_new_page("sampling", rater=app_env.person("Helen Price"))
    no_exception(at)
    buttons = {b.label: b for b in at.button}
    assert buttons["Save as new version"].disabled and buttons["Draw and save"].disabled
    assert not buttons["Preview draw"].disabled and not buttons["Check"].disabled


def test_sampling_page_preview_shows_each_selection_with_its_reason_and_saves_nothing(
    app_env: AppEnv, open_new_page: OpenPage
) -> None:
    at = open_new_page("sampling", rater=app_env.person("Dev Sharma"))
    at.text_input(key=sampling.SEED_KEY).input("42")
    next(b for b in at.button if b.label == "Preview draw").click().run()
    no_exception(at)
    assert "Preview, nothing saved" in at.info[0].value and "seed **42**" in at.info[0].value
    selections = at.dataframe[0].value
    assert set(selections["Rule"]) == {"Monitoring", "Catch-up", "External audit"}
    assert selections["Why"].str.startswith(("monitoring: group", "catch-up: ", "external audit: area")).all()
    assert (selections["Raters"] != "unassigned").all() and selections["Due"].notna().all()
    store = SamplingStore(app_env.services.store.engine)
    assert store.list_draws() == [] and store.assignments() == []


def test_sampling_page_draw_and_save_stores_the_draw_with_its_seed_and_lists_it(
    app_env: AppEnv, open_new_page: OpenPage
) -> None:
    admin = app_env.person("Dev Sharma")
    at = open_new_page("sampling", rater=admin)
    at.text_input(key=sampling.SEED_KEY).input("42")
    next(b for b in at.button if b.label == "Draw and save").click().run()
    no_exception(at)
    store = SamplingStore(app_env.services.store.engine)
    [saved] = store.list_draws()
    assert (saved.seed, saved.policy_version, saved.drawn_by, saved.dry_run) == (42, "1.0", admin, False)
    assert saved.assignments == len(store.assignments()) > 0
    assert f"Saved draw #{saved.id}" in at.success[0].value and "seed **42**" in at.success[0].value
    assert at.text_input(key=sampling.SEED_KEY).value == "", "the next draw gets a new seed"
    draws = next(d.value for d in at.dataframe if "Seed" in d.value.columns)
    assert list(draws["Seed"]) == ["42"] and list(draws["Selected"]) == [saved.assignments]

    # drawing again tops up: nothing is missing, so nothing is added and nothing changes
    next(b for b in at.button if b.label == "Draw and save").click().run()
    no_exception(at)
    assert "nothing new to draw" in at.success[0].value
    assert len(store.assignments()) == saved.assignments
