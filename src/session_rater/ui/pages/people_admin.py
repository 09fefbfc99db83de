"""People (administration): everyone who has an account, adding a person, and changing one:
their name, email and roles, their sign-in password, the teams a treatment manager manages and
the areas a programme manager oversees, and closing (or reopening) the account.

Nothing is ever deleted: closing an account ends its sign-in sessions and keeps everything the
person did. Every change is written to the audit log by the store (before and after).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from session_rater.ui.text import plain
from session_rater.usecases.accounts import MIN_PASSWORD_LENGTH
from session_rater.domain.records import AccountView
from session_rater.domain.access import Action
from session_rater.domain.model import Role
from session_rater.errors import SessionRaterError
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services
from session_rater.ui.pages.calibration import rater_calibrations, status_words
from session_rater.ui.state import allowed, page_start, pick_by_id
from session_rater.usecases.calibration import RaterCalibration

FLASH_KEY = "people:flash"
REVISION_KEY = "people:revision"  # bumped after each change: the forms then show what is stored
ROLES = list(Role)


def role_labels(roles: frozenset[str] | set[str]) -> str:
    return ", ".join(r.label for r in ROLES if r.value in roles)


def team_label(pair: tuple[str, str]) -> str:
    area, team = pair
    return f"{team} ({area})" if area else team


def sign_in_method(account: AccountView) -> str:
    methods = [m for m, has in (("password", account.has_password),
                                ("organisation identity", bool(account.oidc_subject))) if has]
    return " + ".join(methods) or "none"


def _done(message: str, where: str = "edit") -> None:
    """A change was stored: say so after a fresh run (next to the form it came from), with every
    form showing what is stored."""
    st.session_state[FLASH_KEY] = (where, message)
    st.session_state[REVISION_KEY] = st.session_state.get(REVISION_KEY, 0) + 1
    st.rerun()


def _key(name: str) -> str:
    return f"people:{st.session_state.get(REVISION_KEY, 0)}:{name}"


def _people_table(accounts: list[AccountView], calibration: Mapping[int, RaterCalibration] | None = None) -> None:
    table = pd.DataFrame(
        [
            {
                "id": a.person.id,
                "name": a.person.display_name,
                "email": a.person.email or "",
                "roles": role_labels(a.person.roles),
                # issue 10: a rater's calibration against the benchmark's master scores
                "calibration": status_words(calibration.get(a.person.id)) if calibration and a.person.id in calibration else "",
                "active": a.active,
                "sign-in": sign_in_method(a),
                "managed teams": ", ".join(team_label(t) for t in sorted(a.scope.managed_teams)),
                "areas": ", ".join(sorted(a.scope.areas)),
            }
            for a in accounts
        ]
    )
    closed = sum(not a.active for a in accounts)
    st.caption(f"{len(accounts)} people, {closed} of them with a closed account. Nobody is ever deleted.")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="people:table",
        column_config={
            "id": st.column_config.NumberColumn("Id", width=48),
            "name": st.column_config.TextColumn("Name", width=110),
            "email": st.column_config.TextColumn("Email", width=180),
            "roles": st.column_config.TextColumn("Roles", width=215),
            "active": st.column_config.CheckboxColumn(
                "Open", width=56, help="Unticked: the account is closed and cannot sign in"),
            "sign-in": st.column_config.TextColumn(
                "Sign-in", width=90, help="password: a local password is set; organisation identity: linked to the "
                "organisation's sign-in; none: cannot sign in until one is set"),
            "managed teams": st.column_config.TextColumn("Managed teams", width=160,
                                                         help="Teams a treatment manager monitors"),
            "areas": st.column_config.TextColumn("Areas", width=100, help="Areas a programme manager oversees"),
            "calibration": st.column_config.TextColumn(
                "Calibration", width=200, help="A rater's calibration against the benchmark's master scores (the "
                "Calibration page): certified until a date (flagged when it ends within 30 days), not certified, "
                "expired, recalibration due, or not attempted"),
        },
    )


def _flash(where: str, flash: tuple[str, str] | None) -> None:
    if flash and flash[0] == where:
        st.success(flash[1], icon=":material/check_circle:")


def _add_person(me: Permitted) -> None:
    with st.form(_key("add"), border=True):
        left, right = st.columns(2)
        name = left.text_input("Name", key=_key("add:name"))
        email = right.text_input("Email (they sign in with it)", key=_key("add:email"))
        roles = left.multiselect("Roles", ROLES, format_func=lambda r: r.label, key=_key("add:roles"),
                                 placeholder="Choose one or more roles")
        password = right.text_input(
            f"Initial password (optional, at least {MIN_PASSWORD_LENGTH} characters)", type="password",
            key=_key("add:password"),
            help="Leave empty for someone who signs in with the organisation's account, or set one later.")
        submitted = st.form_submit_button("Add the person", type="primary", icon=":material/person_add:")
    if not submitted:
        return
    if not name.strip() or "@" not in email:
        st.error("Give the person's name and their email address. Nothing was added.")
        return
    if not roles:
        st.error("Choose at least one role: it decides what the person may see and do. Nothing was added.")
        return
    try:
        person = me.add_person(name.strip(), email.strip(), roles, password or None)
    except SessionRaterError as exc:
        st.error(f"{plain(exc)} Nothing was added.")
        return
    how = "with a password" if password else "without a password (they can sign in with the organisation's account, or set one below)"
    _done(f"Added {person.display_name} ({person.email}) as {role_labels(person.roles).lower()}, {how}.", "add")


def _details(me: Permitted, account: AccountView) -> None:
    person = account.person
    with st.form(_key(f"{person.id}:details")):
        left, right = st.columns(2)
        name = left.text_input("Name", value=person.display_name, key=_key(f"{person.id}:name"))
        email = right.text_input("Email", value=person.email or "", key=_key(f"{person.id}:email"))
        roles = st.multiselect("Roles", ROLES, default=[r for r in ROLES if r.value in person.roles],
                               format_func=lambda r: r.label, key=_key(f"{person.id}:roles"))
        submitted = st.form_submit_button("Save name, email and roles", icon=":material/save:")
    if not submitted:
        return
    if not name.strip():
        st.error("A person needs a name. Nothing was changed.")
        return
    if email.strip() and "@" not in email:
        st.error(f"{plain(repr(email.strip()))} is not an email address. Nothing was changed.")
        return
    try:
        me.update_person(person.id, display_name=name, email=email, roles=roles)
    except SessionRaterError as exc:
        st.error(f"{plain(exc)} Nothing was changed.")
        return
    _done(f"Saved {name.strip()}'s name, email and roles ({role_labels({r.value for r in roles}).lower() or 'no role'}).")


def _scope(svc: Services, me: Permitted, account: AccountView) -> None:
    person = account.person
    known_teams = [t for t in me.teams() if t[0]]
    teams = sorted(set(known_teams) | set(account.scope.managed_teams))
    areas = sorted(set(me.areas()) | set(account.scope.areas))
    with st.form(_key(f"{person.id}:scope")):
        chosen_teams = st.multiselect(
            "Teams they manage (treatment manager)", teams, default=sorted(account.scope.managed_teams),
            format_func=team_label, key=_key(f"{person.id}:teams"), placeholder="No team",
            help="A treatment manager monitors and sees the sessions of these teams.")
        chosen_areas = st.multiselect(
            "Areas they oversee (programme manager)", areas, default=sorted(account.scope.areas),
            key=_key(f"{person.id}:areas"), placeholder="No area",
            help="A programme manager sees the sessions and the reports of these areas.")
        submitted = st.form_submit_button("Save teams and areas", icon=":material/save:")
    notes = []
    if account.scope.managed_teams and not person.has_role(Role.TREATMENT_MANAGER):
        notes.append("the teams count only once they have the treatment manager role")
    if account.scope.areas and not person.has_role(Role.PROGRAMME_MANAGER):
        notes.append("the areas count only once they have the programme manager role")
    st.caption("Teams and areas are those the recorded sessions name."
               + (f" Note: {'; '.join(notes)}." if notes else ""))
    if not submitted:
        return
    try:
        me.set_scope(person.id, managed_teams=chosen_teams, areas=chosen_areas)
    except SessionRaterError as exc:
        st.error(f"{plain(exc)} Nothing was changed.")
        return
    what = ", ".join(team_label(t) for t in chosen_teams) or "no team"
    _done(f"Saved {person.display_name}'s teams ({what}) and areas ({', '.join(chosen_areas) or 'none'}).")


def _password(me: Permitted, account: AccountView) -> None:
    person = account.person
    with st.form(_key(f"{person.id}:password")):
        left, right = st.columns(2)
        password = left.text_input(f"New password (at least {MIN_PASSWORD_LENGTH} characters)", type="password",
                                   key=_key(f"{person.id}:password"))
        again = right.text_input("The new password again", type="password", key=_key(f"{person.id}:again"))
        submitted = st.form_submit_button("Set the password", icon=":material/password:")
    st.caption(f"Currently: {'a password is set' if account.has_password else 'no password'}"
               + (", and linked to an organisation identity." if account.oidc_subject else "."))
    if not submitted:
        return
    if password != again:
        st.error("The two passwords differ; type the same one twice. The password was not changed.")
        return
    try:
        me.set_password(person.id, password)
    except SessionRaterError as exc:
        st.error(f"{plain(exc)} The password was not changed.")
        return
    _done(f"Set a new password for {person.display_name}. Tell them in person or by another channel than email.")


def _open_or_close(me: Permitted, account: AccountView) -> None:
    person = account.person
    if account.active:
        st.caption("Closing the account signs the person out everywhere and stops them signing in. Nothing is "
                   "deleted: their ratings, assignments and history stay, and the account can be reopened.")
        sure = st.checkbox(f"Yes, close {plain(person.display_name)}'s account", key=_key(f"{person.id}:sure"))
        if st.button("Close the account", icon=":material/person_off:", disabled=not sure,
                     key=_key(f"{person.id}:close")):
            try:
                me.update_person(person.id, active=False)
            except SessionRaterError as exc:
                st.error(f"{plain(exc)} Nothing was changed.")
                return
            _done(f"Closed {person.display_name}'s account and ended their sessions. Nothing was deleted.")
    else:
        st.warning(f"{plain(person.display_name)}'s account is closed: they cannot sign in.", icon=":material/person_off:")
        if st.button("Reopen the account", icon=":material/person_check:", key=_key(f"{person.id}:reopen")):
            try:
                me.update_person(person.id, active=True)
            except SessionRaterError as exc:
                st.error(f"{plain(exc)} Nothing was changed.")
                return
            _done(f"Reopened {person.display_name}'s account.")


def _edit_person(svc: Services, me: Permitted, accounts: list[AccountView], flash: tuple[str, str] | None) -> None:
    by_id = {a.person.id: a for a in accounts}
    chosen = pick_by_id(
        st, "Person", by_id,
        lambda a: f"{a.person.display_name} · {a.person.email or 'no email'}" + ("" if a.active else " (closed)"),
        param="person", required=False, placeholder="Choose a person to change", key="people:edit_person",
    )
    if chosen is None:
        return
    account = by_id[chosen]
    if chosen == me.person.id:
        st.caption("This is you: you cannot close your own account or remove your own administrator role.")
    _flash("edit", flash)
    details, scope, password, closing = st.tabs(
        ["Name, email and roles", "Teams and areas", "Password", "Close or reopen"])
    with details:
        _details(me, account)
    with scope:
        _scope(svc, me, account)
    with password:
        _password(me, account)
    with closing:
        _open_or_close(me, account)


def render() -> None:
    svc, me = page_start()
    st.title("People")
    if not allowed(me, Action.MANAGE_PEOPLE):
        return
    flash = st.session_state.pop(FLASH_KEY, None)
    try:
        accounts = me.accounts(with_assignments=False)  # the page shows teams and areas, not sessions
    except SessionRaterError as exc:
        st.error(plain(exc))
        return
    _people_table(accounts, rater_calibrations(me))
    st.subheader("Add a person", divider="gray")
    _add_person(me)
    _flash("add", flash)
    st.subheader("Change a person", divider="gray")
    st.caption("Every change is recorded in the audit log, with what it was before.")
    _edit_person(svc, me, accounts, flash)
