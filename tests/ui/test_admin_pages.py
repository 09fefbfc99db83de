"""The administrator pages (People, Assignments, Audit log) through the real app (``app.py``)
with AppTest, on the demo data: what an administrator changes is stored and audited, bad input
is refused with a clear message and changes nothing, and anyone else is refused the page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from session_rater.usecases.audit_trail import LIMITS
from session_rater.usecases.demo import AREA, demo_email, demo_team
from session_rater.domain.model import Capacity, Role

from .conftest import AppEnv, download_links, fetch

OpenPage = Callable[..., AppTest]
ADMIN = "Dev Sharma"
TUTOR = "Sam Rowe"
ASSESSOR = "Ruth Okafor"


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def keyed(widgets: Sequence[Any], suffix: str) -> Any:
    """The one widget whose key ends with ``suffix`` (the pages' keys carry a revision number)."""
    found = [w for w in widgets if w.key and w.key.endswith(suffix)]
    assert len(found) == 1, (suffix, [w.key for w in widgets])
    return found[0]


def click(at: AppTest, label: str) -> AppTest:
    button = next(b for b in at.button if b.label == label)
    button.click().run()
    no_exception(at)
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def successes(at: AppTest) -> list[str]:
    return [s.value for s in at.success]




def fill_new_person(at: AppTest, name: str, email: str, roles: list[Role], password: str = "") -> AppTest:
    keyed(at.text_input, ":add:name").input(name)
    keyed(at.text_input, ":add:email").input(email)
    keyed(at.multiselect, ":add:roles").set_value(roles)
    keyed(at.text_input, ":add:password").input(password)
    return click(at, "Add the person")


# -- who may open the pages ------------------------------------------------------------------------


@pytest.mark.parametrize(("page", "title"), [("people", "People"), ("assignments", "Assignments"), ("audit", "Audit log")])
def test_a_tutor_opening_an_admin_page_is_refused_and_sees_no_table(
    app_env: AppEnv, open_page: OpenPage, page: str, title: str
) -> None:
    at = open_page(page, rater=app_env.person(TUTOR))
    no_exception(at)
    assert [t.value for t in at.title] == [title]
    assert any("only administrators may do this" in i.value.lower() for i in at.info)
    assert not at.dataframe
    assert not at.get("download_button")
    assert not [b for b in at.button if b.label in ("Add the person", "Assign", "Withdraw")]


# -- People ---------------------------------------------------------------------------------------


def test_people_page_lists_everyone_with_roles_sign_in_and_scope(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("people")
    no_exception(at)
    table = at.dataframe[0].value
    people = app_env.services.accounts_store.accounts()
    assert len(table) == len(people)
    admin = table[table["name"] == ADMIN].iloc[0]
    assert admin["email"] == demo_email(ADMIN)
    assert "Administrator" in admin["roles"] and "Programme manager" in admin["roles"]
    assert admin["sign-in"] == "password" and bool(admin["active"])
    assert admin["areas"] == AREA
    managers = table[table["managed teams"] != ""]
    assert set(managers["name"]) == {"Helen Price", "Mark Dixon"}
    assert all(f"({AREA})" in teams for teams in managers["managed teams"])


def test_an_administrator_adds_a_person_who_can_then_sign_in(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("people")
    before = len(app_env.services.accounts_store.accounts())
    fill_new_person(at, "Nia Evans", "Nia.Evans@Example.org", [Role.EXTERNAL_ASSESSOR], "a long enough password")
    assert not errors(at)
    assert any("Added Nia Evans" in s for s in successes(at))
    accounts = app_env.services.accounts_store.accounts()
    assert len(accounts) == before + 1
    added = next(a for a in accounts if a.person.display_name == "Nia Evans")
    assert added.person.email == "nia.evans@example.org"
    assert added.person.roles == {Role.EXTERNAL_ASSESSOR.value}
    assert added.active and added.has_password
    app_env.services.accounts.sign_in("nia.evans@example.org", "a long enough password")
    assert "Nia Evans" in set(at.dataframe[0].value["name"]), "the table shows the new person at once"
    assert keyed(at.text_input, ":add:name").value == "", "the form is empty again for the next person"


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        (demo_email(TUTOR), "", "already has the email"),
        ("new.person@example.org", "short", "at least 10 characters"),
        ("not an email", "", "email address"),
    ],
)
def test_adding_a_person_with_bad_input_says_why_and_adds_nobody(
    app_env: AppEnv, open_page: OpenPage, email: str, password: str, message: str
) -> None:
    at = open_page("people")
    before = app_env.services.accounts_store.accounts()
    fill_new_person(at, "New Person", email, [Role.TUTOR], password)
    assert any(message in e and "Nothing was added" in e for e in errors(at)), errors(at)
    assert not successes(at)
    assert app_env.services.accounts_store.accounts() == before
    assert keyed(at.text_input, ":add:name").value == "New Person", "what was typed is kept to correct it"


def test_an_administrator_changes_roles_and_teams_which_are_stored_and_audited(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    sam = app_env.person(TUTOR)
    team = (AREA, demo_team("Barrow"))
    at = open_page("people", person=sam)
    no_exception(at)

    keyed(at.multiselect, f":{sam}:roles").set_value([Role.TUTOR, Role.TREATMENT_MANAGER])
    click(at, "Save name, email and roles")
    assert not errors(at)
    assert any("Saved Sam Rowe's name, email and roles" in s for s in successes(at))

    keyed(at.multiselect, f":{sam}:teams").set_value([team])
    keyed(at.multiselect, f":{sam}:areas").set_value([AREA])
    click(at, "Save teams and areas")
    assert not errors(at)
    assert any("Barrow team (Cumbria)" in s for s in successes(at))

    account = app_env.services.accounts_store.account(sam)
    assert account.person.roles == {Role.TUTOR.value, Role.TREATMENT_MANAGER.value}
    assert account.scope.managed_teams == {team} and account.scope.areas == {AREA}
    row = at.dataframe[0].value.set_index("id").loc[sam]
    assert row["roles"] == "Tutor, Treatment manager" and row["managed teams"] == "Barrow team (Cumbria)"

    audit = open_page("audit")
    no_exception(audit)
    audit.multiselect(key="audit:who").set_value([ADMIN]).run()
    no_exception(audit)
    shown = audit.dataframe[0].value
    mine = shown[shown["what"].str.startswith("Changed Sam Rowe")]
    assert sorted(mine["kind"]) == ["Person", "Scope"]
    person_change = mine[mine["kind"] == "Person"].iloc[0]["what"]
    assert person_change == "Changed Sam Rowe: roles tutor → treatment manager, tutor"
    assert "teams managed none → Cumbria / Barrow team" in mine[mine["kind"] == "Scope"].iloc[0]["what"]


def test_changing_an_email_to_someone_elses_is_refused_and_changes_nothing(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    sam = app_env.person(TUTOR)
    at = open_page("people", person=sam)
    keyed(at.text_input, f":{sam}:email").input(demo_email(ASSESSOR))
    keyed(at.multiselect, f":{sam}:roles").set_value([Role.TUTOR, Role.EXTERNAL_ASSESSOR])
    click(at, "Save name, email and roles")
    assert any("already has the email" in e and "Nothing was changed" in e for e in errors(at)), errors(at)
    person = app_env.services.accounts_store.account(sam).person
    assert person.email == demo_email(TUTOR) and person.roles == {Role.TUTOR.value}


def test_a_too_short_or_mistyped_new_password_is_refused_and_a_good_one_is_set(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    sam = app_env.person(TUTOR)
    accounts = app_env.services.accounts
    at = open_page("people", person=sam)

    keyed(at.text_input, f":{sam}:password").input("short")
    keyed(at.text_input, f":{sam}:again").input("short")
    click(at, "Set the password")
    assert any("at least 10 characters" in e and "not changed" in e for e in errors(at)), errors(at)

    keyed(at.text_input, f":{sam}:password").input("a new long password")
    keyed(at.text_input, f":{sam}:again").input("a new long passwort")
    click(at, "Set the password")
    assert any("differ" in e for e in errors(at)), errors(at)
    accounts.sign_in(demo_email(TUTOR), "demo-password")  # still the old password

    keyed(at.text_input, f":{sam}:again").input("a new long password")
    click(at, "Set the password")
    assert not errors(at) and any("new password for Sam Rowe" in s for s in successes(at))
    accounts.sign_in(demo_email(TUTOR), "a new long password")


def test_closing_an_account_needs_confirming_keeps_the_person_and_can_be_undone(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    sam = app_env.person(TUTOR)
    store = app_env.services.accounts_store
    at = open_page("people", person=sam)
    assert next(b for b in at.button if b.label == "Close the account").disabled
    keyed(at.checkbox, f":{sam}:sure").check().run()
    click(at, "Close the account")
    assert any("Closed Sam Rowe's account" in s for s in successes(at))
    assert not store.account(sam).active
    assert not bool(at.dataframe[0].value.set_index("id").loc[sam, "active"])

    click(at, "Reopen the account")
    assert store.account(sam).active


def test_an_administrator_cannot_close_their_own_account(app_env: AppEnv, open_page: OpenPage) -> None:
    admin = app_env.person(ADMIN)
    at = open_page("people", person=admin)
    keyed(at.checkbox, f":{admin}:sure").check().run()
    click(at, "Close the account")
    assert any("cannot remove your own administrator role or close your own account" in e for e in errors(at))
    assert app_env.services.accounts_store.account(admin).active


# -- Assignments ------------------------------------------------------------------------------------


def test_an_administrator_assigns_a_session_to_an_assessor_and_withdraws_it(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    store = app_env.services.accounts_store
    ruth = app_env.person(ASSESSOR)
    theirs = {a.recording_id for a in store.assignments() if a.person_id == ruth and a.withdrawn_at is None}
    recording = next(r for r in app_env.services.store.list_recordings() if r.id not in theirs)
    at = open_page("assignments")
    no_exception(at)
    assert any("external audit" in c.value for c in at.caption), "sample draws count as assignments too"
    assessor_box = keyed(at.selectbox, ":assessor")
    assert set(assessor_box.options) == {ASSESSOR, "Alan Reid"}, "only external assessors can be chosen"
    rows_before = len(at.dataframe[0].value)

    assessor_box.set_value(ruth)
    keyed(at.selectbox, ":recording").set_value(recording.id)
    click(at, "Assign")
    assert not errors(at)
    assert any("Assigned" in s and ASSESSOR in s for s in successes(at))
    assert recording.id in store.scope_of(ruth).assigned_recordings
    table = at.dataframe[0].value
    assert len(table) == rows_before + 1
    new = table[(table["assessor"] == ASSESSOR) & (table["session id"] == recording.id)].iloc[0]
    assert new["status"] == "current" and new["assigned by"] == ADMIN and recording.label in new["session"]

    keyed(at.selectbox, ":withdraw").set_value((ruth, recording.id)).run()
    click(at, "Withdraw")
    assert any("Withdrew" in s for s in successes(at))
    assert recording.id not in store.scope_of(ruth).assigned_recordings
    row = next(a for a in store.assignments() if (a.person_id, a.recording_id) == (ruth, recording.id))
    assert row.withdrawn_at is not None, "withdrawn, not deleted"
    table = at.dataframe[0].value
    withdrawn = table[(table["assessor"] == ASSESSOR) & (table["session id"] == recording.id)].iloc[0]
    assert withdrawn["status"].startswith("withdrawn ")

    logged = [(e.entity, e.action, e.actor_id) for e in store.audit_log() if e.entity == "assignment"
              and e.entity_id == recording.id and e.actor_id is not None]
    admin = app_env.person(ADMIN)
    assert ("assignment", "assign", admin) in logged and ("assignment", "withdraw", admin) in logged


def test_assigning_without_choosing_both_says_so_and_assigns_nothing(app_env: AppEnv, open_page: OpenPage) -> None:
    store = app_env.services.accounts_store
    before = store.assignments()
    at = open_page("assignments")
    keyed(at.selectbox, ":assessor").set_value(app_env.person(ASSESSOR))
    click(at, "Assign")
    assert any("Choose both" in e for e in errors(at))
    assert store.assignments() == before


# -- Audit log -------------------------------------------------------------------------------------


def test_audit_log_lists_entries_filters_them_and_downloads_what_is_shown(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    at = open_page("audit")
    no_exception(at)
    at.selectbox(key="audit:limit").set_value(LIMITS[-1]).run()
    no_exception(at)  # the demo's thousands of item scores: read them all, back to the people and scopes
    table = at.dataframe[0].value
    assert list(table.columns) == ["at", "who", "kind", "what"]  # words, not JSON and field names
    assert len(table) == len(app_env.services.accounts_store.audit_log(limit=LIMITS[-1]))
    assert {"Person", "Scope", "Assignment", "Rating", "Item score"} <= set(table["kind"])
    assert not table["what"].str.contains(r"item_score|manual\.|\{", regex=True).any()
    links = download_links(at)
    assert list(links) == ["Download what is shown (CSV)"]
    name, data = fetch(at, links["Download what is shown (CSV)"])
    assert name == "audit-log.csv"
    assert len(pd.read_csv(io.StringIO(data.decode("utf-8")))) == len(table)

    at.multiselect(key="audit:entity").set_value(["Scope"]).run()
    no_exception(at)
    shown = at.dataframe[0].value
    assert 0 < len(shown) < len(table) and set(shown["kind"]) == {"Scope"}
    assert set(shown["who"]) == {"system"}, "the demo loader set the scope, nobody signed in"
    csv = pd.read_csv(io.StringIO(fetch(at, download_links(at)["Download what is shown (CSV)"])[1].decode("utf-8")))
    assert len(csv) == len(shown) and set(csv["kind"]) == {"Scope"}

    at.text_input(key="audit:text").input("no entry contains this").run()
    assert at.dataframe[0].value.empty
    assert not download_links(at), "nothing to download"


def test_audit_log_shows_every_version_of_a_corrected_rating(app_env: AppEnv, open_page: OpenPage) -> None:
    store = app_env.services.store
    original = next(r for r in store.submitted_ratings() if r.capacity is Capacity.EXTERNAL)
    corrected = store.correct_rating(original.id, "Scored the wrong tutor's turn", actor_id=original.rater_id)
    item = next(iter(original.scores))
    store.save_item(corrected.id, item, actor_id=original.rater_id,
                    score=1 if original.scores[item].score != 1 else 2)

    at = open_page("audit")
    at.radio(key="audit:find_by").set_value("Rating id").run()
    at.number_input(key="audit:rating_id").set_value(corrected.id).run()
    no_exception(at)
    versions, scores = at.dataframe[1].value, at.dataframe[2].value
    assert list(versions["version"]) == [1, 2]
    assert list(versions["correction reason"]) == ["", "Scored the wrong tutor's turn"]
    assert list(versions["status"]) == ["submitted (current)", "draft"], "the correction counts once submitted"
    assert {"v1", "v2"} <= set(scores.columns)
    changed = scores[scores["changed"]]
    assert list(changed["item"]) == [item]
    at.toggle(key="audit:changed_only").set_value(True).run()
    assert list(at.dataframe[2].value["item"]) == [item]

    at = open_page("audit")  # the same rating found by its session, tutor and rater
    at.selectbox(key="audit:recording").set_value(original.recording_id).run()
    form = at.selectbox(key=f"audit:form:{original.recording_id}")
    assert "2 versions" in form.options[0]
    form.select_index(0).run()
    no_exception(at)
    assert list(at.dataframe[1].value["version"]) == [1, 2]
