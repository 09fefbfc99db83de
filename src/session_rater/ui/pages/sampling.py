"""Sampling (administration): the policies in force, an editor that never saves an invalid
policy, a draw (previewed or saved, with its seed), and the draws made so far.

The policies, the draw and the editing are :class:`~session_rater.usecases.monitoring.Monitoring`'s,
the same use cases as ``session-rater sample``: a saved draw stores the policy snapshot and its
seed.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from session_rater.ui.text import plain
from session_rater.domain.access import Action
from session_rater.domain.model import MAX_SEED
from session_rater.domain.records import RecordingView
from session_rater.domain.sampling import Draw, SamplingPolicy, Selection
from session_rater.domain.sampling.work import DrawView
from session_rater.errors import PolicyError, SessionRaterError
from session_rater.ui.state import allowed, page_start
from session_rater.usecases.monitoring import Monitoring, PolicyCatalog, PolicyInForce

__all__ = ["policy_summary", "render", "selections_frame"]

EDITOR_KEY = "sampling:policy_text"
EDITOR_FILE_KEY = "sampling:policy_file"
EDIT_RESULT_KEY = "sampling:edit_result"
POLICY_KEY = "sampling:policy"
SEED_KEY = "sampling:seed"
DRAW_RESULT_KEY = "sampling:draw_result"
NEW_SEED_BELOW = 1_000_000  # a new seed short enough to read out and type; any seed up to MAX_SEED is accepted
RULE_LABELS = {"monitoring": "Monitoring", "catch_up": "Catch-up", "external_audit": "External audit"}

def _then(words: Sequence[str]) -> str:
    return ", then ".join(w.replace("_", " ") for w in words)


def _and(words: Sequence[str]) -> str:
    words = [w.replace("_", " ") for w in words]
    return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


def policy_summary(policy: SamplingPolicy) -> list[str]:
    """The policy in plain words, one Markdown line per rule."""
    lines = []
    if (m := policy.monitoring) is not None:
        text = (f"**Monitoring** (treatment managers): at least **{m.percent:g}%** of each programme group's "
                "recorded sessions, rounded up")  # fmt: skip
        if m.min_sessions_per_tutor:
            text += f", and at least {m.min_sessions_per_tutor} session(s) of every tutor in the group"
        if m.spread_session_numbers:
            text += "; the rest spread across the programme's session numbers"
        text += "; catch-up sessions count here too" if m.include_catch_up else "; catch-up sessions have their own rule"
        lines.append(f"{text}. Due {m.due_days_after_session} days after the session.")
    if (c := policy.catch_up) is not None:
        where = f"in each {_and(c.per)}" if c.per else "across all catch-up sessions"
        spread = f", spread over {_then(c.stratify_by)}" if c.stratify_by else ""
        lines.append(f"**Catch-up** (treatment managers): **1 in {c.one_in}** catch-up sessions, rounded up, "
                     f"{where}{spread}. Due {c.due_days_after_session} days after the session.")  # fmt: skip
    if (a := policy.external_audit) is not None:
        spread = f", spread over {_then(a.stratify_by)}" if a.stratify_by else ""
        lines.append(f"**External audit** (external assessors): **{a.sessions_per_area} sessions per area** "
                     f"(all of them where an area has fewer){spread}. Due {a.due_days_after_draw} days after the draw.")  # fmt: skip
    if (d := policy.double_rating) is not None:
        of = _and([RULE_LABELS[r.value].lower() for r in d.of])
        lines.append(f"**Double rating**: {d.percent:g}% of the {of} sample in each {_and(d.per)} also goes to a "
                     "second rater, so that agreement between raters can be measured.")  # fmt: skip
    if policy.validity_rate:
        lines.append(f"**Validity sessions**: each saved draw adds master-scored benchmark sessions, blind, to treatment "
                     f"managers' work: about **1 in {round(1 / policy.validity_rate)}** of their monitoring "
                     f"assignments (`validity_rate: {policy.validity_rate:g}`). Nothing tells them apart from live "
                     "monitoring until the rating is submitted.")  # fmt: skip
    else:
        lines.append("**Validity sessions**: none (`validity_rate: 0`).")
    scope = ", ".join(policy.programmes) if policy.programmes else "every programme"
    lines.append(f"Applies to {scope}. Nothing is due sooner than {policy.min_notice_days} days after a draw; "
                 "nobody rates a session they delivered.")  # fmt: skip
    return lines


ADMIN_ONLY = "Saving a draw or a policy is for administrators."


# --------------------------------------------------------------------------------------------
# Policies in force, broken files
# --------------------------------------------------------------------------------------------


def _show_policies(catalog: PolicyCatalog, in_force: list[PolicyInForce]) -> None:
    if not in_force:
        st.warning("No sampling policy is in force: add a valid policy file (see the editor tab).")
    for entry in in_force:
        policy = entry.policy
        with st.container(border=True):
            st.markdown(f"#### {plain(policy.title)}")
            older = [p.version for p in catalog.versions(policy.name) if p.version != policy.version]
            st.caption(
                f"Policy `{policy.name}` · **version {policy.version}** · from {entry.source}"
                + (f" · older versions on file: {', '.join(older)}" if older else "")
            )
            if entry.kept:
                st.warning(
                    "Its file is now broken (see below), so the version read before stays in force.",
                    icon=":material/history:",
                )
            st.markdown("\n".join(f"- {line}" for line in policy_summary(policy)))
            if policy.description:
                with st.expander("Description"):
                    st.write(policy.description)
    for name, error in sorted(catalog.errors.items()):
        st.error(
            f"**{plain(name)} is broken and is not applied** ({error.problem_count:,d} error(s)); any version in "
            "force stays in force until it is fixed:\n" + "\n".join(f"- {plain(e)}" for e in error.errors),
            icon=":material/error:",
        )


# --------------------------------------------------------------------------------------------
# The editor
# --------------------------------------------------------------------------------------------


def _load_file_into_editor(mon: Monitoring) -> None:
    name = st.session_state.get(EDITOR_FILE_KEY)
    st.session_state.pop(EDIT_RESULT_KEY, None)
    if name:
        try:
            st.session_state[EDITOR_KEY] = mon.policy_file_text(name)
        except PolicyError as exc:  # e.g. a file over the size limit: the editor keeps its text
            st.session_state[EDIT_RESULT_KEY] = ("not loaded", None, exc.errors, exc.problem_count)


def _on_check(source: str) -> None:
    policy, error = Monitoring.check_policy(st.session_state.get(EDITOR_KEY, ""), source)
    if error is None:
        st.session_state[EDIT_RESULT_KEY] = ("checked", policy, [], 0)
    else:
        st.session_state[EDIT_RESULT_KEY] = ("checked", None, error.errors, error.problem_count)


def _on_save(mon: Monitoring, source: str) -> None:
    """Validate, require a new (higher) version, then write a new file; never an invalid one."""
    try:
        policy, file_name = mon.save_policy(st.session_state.get(EDITOR_KEY, ""), source)
    except PolicyError as exc:
        st.session_state[EDIT_RESULT_KEY] = ("not saved", None, exc.errors, exc.problem_count)
        return
    except SessionRaterError as exc:
        st.session_state[EDIT_RESULT_KEY] = ("not saved", None, [str(exc)], 1)
        return
    st.session_state[EDITOR_FILE_KEY] = file_name
    st.session_state[EDIT_RESULT_KEY] = ("saved", policy, [file_name], 0)


def _editor(mon: Monitoring) -> None:
    directory = mon.svc.settings.policies_dir
    files = mon.policy_files()
    admin = mon.may_manage()
    st.caption(
        "Edit a copy of a policy file. **Check** validates it (every problem is listed); **Save as new "
        "version** writes it as a new file, `NAME-VERSION.yaml`, and only if it is valid and its "
        "`version` is higher than any version on file. The newest valid version is the one in force; "
        "the file you started from is left as it is. Schema: `policies/README.md`."
    )
    if not files:
        st.info(f"There are no policy files in {plain(directory)} yet: write one here and save it.")
    elif st.session_state.get(EDITOR_FILE_KEY) not in files:
        st.session_state[EDITOR_FILE_KEY] = files[-1] if "default.yaml" not in files else "default.yaml"
        _load_file_into_editor(mon)
    if files:
        st.selectbox("Start from", files, key=EDITOR_FILE_KEY, on_change=_load_file_into_editor, args=(mon,))
    source = f"{st.session_state.get(EDITOR_FILE_KEY) or 'new policy'} (edited)"
    st.text_area("Policy (YAML)", key=EDITOR_KEY, height=460)
    left, right = st.columns(2)
    left.button("Check", icon=":material/rule:", on_click=_on_check, args=(source,), width="stretch")
    right.button(
        "Save as new version",
        icon=":material/save:",
        type="primary",
        on_click=_on_save,
        args=(mon, source),
        disabled=not admin,
        help=None if admin else ADMIN_ONLY,
        width="stretch",
    )
    if not admin:
        st.caption(f":material/lock: {ADMIN_ONLY}")
    outcome = st.session_state.get(EDIT_RESULT_KEY)
    if outcome is None:
        return
    kind, policy, messages, count = outcome  # messages: the first problems; count: all of them
    if messages and kind != "saved":
        head = {"not saved": "Not saved: ", "not loaded": "Not loaded: "}.get(kind, "")
        st.error(
            f"**{head}{count:,d} problem(s)**, nothing was written:\n"
            + "\n".join(f"- {plain(m)}" for m in messages),
            icon=":material/error:",
        )
    elif kind == "saved":
        st.success(f"Saved as {plain(messages[0])}: **{plain(policy.label)}** is now in force.", icon=":material/check_circle:")
    else:
        st.success(f"Valid: **{plain(policy.label)}**. Bump its version and save it to put it in force.",
                   icon=":material/check_circle:")  # fmt: skip
        st.markdown("\n".join(f"- {line}" for line in policy_summary(policy)))


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------


def selections_frame(
    selections: Sequence[Selection], recordings: Mapping[int, RecordingView], names: Mapping[int, str]
) -> pd.DataFrame:
    """One row per selection: the session, the rule, who rates it by when, and why."""

    def who(person_id: int | None) -> str:
        return "unassigned" if person_id is None else names.get(person_id, f"person #{person_id}")

    rows = []
    for sel in selections:
        rec = recordings.get(sel.recording_id)
        raters = who(sel.rater_id) + ("" if sel.second_rater_id is None else f", {who(sel.second_rater_id)} (second)")
        rows.append({
            "Rule": RULE_LABELS[sel.rule.value],
            "Session": f"{rec.recorded_on:%d/%m/%Y} · {rec.label}" if rec else f"recording {sel.recording_id}",
            "Tutors": ", ".join(t.display_name for t in rec.tutors) if rec else "",
            "Raters": raters,
            "Due": sel.due_on,
            "Why": sel.reason,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["Rule", "Session", "Tutors", "Raters", "Due", "Why"])


def _show_selections(frame: pd.DataFrame) -> None:
    row_height = 100  # above 4rem the grid wraps text, so the reasons can be read in full
    st.dataframe(
        frame, hide_index=True, width="stretch", row_height=row_height, height=min(40 + row_height * len(frame), 640),
        column_config={
            "Rule": st.column_config.TextColumn("Rule", width=92),
            "Session": st.column_config.TextColumn("Session", width=190, help="Recorded on · group · session number: title"),
            "Tutors": st.column_config.TextColumn("Tutors", width=100),
            "Raters": st.column_config.TextColumn("Raters", width=100, help="Who rates it; a second rater where it is double rated"),
            "Due": st.column_config.DateColumn("Due", width=85, format="DD/MM/YYYY", help="When the rating is due"),
            "Why": st.column_config.TextColumn("Why", width=370, help="Why the rule picked this session, as stored with the draw"),
        },
    )  # fmt: skip


def _parse_seed(text: str) -> int | None:
    text = text.strip().replace(",", "").replace("_", "")
    if not text:
        return None
    if not text.isdigit() or int(text) > MAX_SEED:
        raise ValueError(f"The seed must be a whole number from 0 to {MAX_SEED}, or left empty for a new random one.")
    return int(text)


def _on_draw(mon: Monitoring, policy: SamplingPolicy, save: bool) -> None:
    """Preview (dry run) or draw and save; the seed used goes back into the seed field."""
    if save and not mon.may_manage():
        st.session_state[DRAW_RESULT_KEY] = {"error": ADMIN_ONLY}
        return
    try:
        seed = _parse_seed(st.session_state.get(SEED_KEY, ""))
    except ValueError as exc:
        st.session_state[DRAW_RESULT_KEY] = {"error": str(exc)}
        return
    seed = secrets.randbelow(NEW_SEED_BELOW) if seed is None else seed
    try:
        outcome = mon.draw(policy, seed, save=save)
    except (SessionRaterError, ValueError) as exc:
        st.session_state[DRAW_RESULT_KEY] = {"error": f"Nothing was saved: {exc}" if save else str(exc)}
        return
    st.session_state[SEED_KEY] = "" if save else str(seed)
    st.session_state[DRAW_RESULT_KEY] = {"draw": outcome.draw, "saved": outcome.saved, "policy": policy.label}


def _show_visible(mon: Monitoring, selections: Sequence[Selection], names: Mapping[int, str]) -> None:
    """The selections of sessions this person may see; the others only counted. Only the
    sessions listed are read (by id), not every session in reach."""
    shown, hidden = mon.visible(selections)
    if hidden:
        st.caption(f"{hidden} selection(s) of sessions outside your teams or areas are not listed.")
    if shown:
        _show_selections(selections_frame(shown, mon.recordings([s.recording_id for s in shown]), names))


def _show_draw_result(
    mon: Monitoring, result: dict, names: Mapping[int, str], *,  # type: ignore[type-arg]
    can_save: bool,
) -> None:  # fmt: skip
    if "error" in result:
        st.error(plain(result["error"]), icon=":material/error:")
        return
    draw: Draw = result["draw"]
    saved: DrawView | None = result["saved"]
    counts = Counter(RULE_LABELS[s.rule.value].lower() for s in draw.selections)
    what = (f"{len(draw.selections)} new selection(s) ({', '.join(f'{n} {rule}' for rule, n in counts.items())})"
            if draw.selections else "nothing new to draw: every target is already met")
    head = (f"{result['policy']}, seed **{draw.seed}**, drawn on {draw.drawn_on:%d/%m/%Y}: {what}; "
            f"{len(draw.previous)} held from earlier draws, kept as they are.")  # fmt: skip
    if saved is None:
        then = " **Draw and save** now, with this seed, saves exactly this draw." if can_save and draw.selections else ""
        st.info(f"**Preview, nothing saved.** {head}{then}", icon=":material/visibility:")
    else:
        st.success(f"**Saved draw #{saved.id}.** {head} The raters see the new work under **My work**.",
                   icon=":material/check_circle:")  # fmt: skip
    for shortfall in draw.shortfalls:
        st.warning(plain(shortfall), icon=":material/warning:")
    if draw.selections:
        _show_visible(mon, draw.selections, names)


def _draw_section(
    mon: Monitoring, in_force: list[PolicyInForce], names: Mapping[int, str],
) -> None:  # fmt: skip
    if not in_force:
        st.info("Nothing to draw with: no sampling policy is in force.")
        return
    st.caption(
        "A draw applies the policy in force to every recorded session, on top of what earlier draws of "
        "the policy hold: it only adds what the targets still need and never removes or changes earlier "
        "work. The seed makes it reproducible: the same sessions, earlier draws and seed give the same draw."
    )
    by_label = {e.policy.label: e.policy for e in in_force}
    left, right = st.columns([2, 1])
    label = left.selectbox("Policy", list(by_label), key=POLICY_KEY)
    right.text_input("Seed (optional)", key=SEED_KEY, placeholder="empty: a new random seed",
                     help="A whole number. Give the seed of an earlier draw or preview to reproduce it.")  # fmt: skip
    policy = by_label[label]
    a, b = st.columns(2)
    a.button("Preview draw", icon=":material/visibility:", on_click=_on_draw, width="stretch",
             args=(mon, policy, False), help="A dry run: shows what would be drawn and why; saves nothing.")  # fmt: skip
    b.button(
        "Draw and save", icon=":material/casino:", type="primary", on_click=_on_draw, width="stretch",
        args=(mon, policy, True), disabled=not mon.may_manage(),
        help="Saves the draw: its seed, the policy as it is now, and each session's rule, reason, rater and due date."
        if mon.may_manage() else ADMIN_ONLY,
    )  # fmt: skip
    if not mon.may_manage():
        st.caption(f":material/lock: {ADMIN_ONLY}")
    result = st.session_state.get(DRAW_RESULT_KEY)
    if result is not None:
        _show_draw_result(mon, result, names, can_save=mon.may_manage())


def _draws_made(mon: Monitoring, names: Mapping[int, str]) -> None:
    draws = mon.draws()
    if not draws:
        st.info("No sample has been drawn yet.")
        return
    table = pd.DataFrame({
        "Draw": [d.id for d in draws],
        "When": [d.drawn_at for d in draws],
        "Policy": [d.policy_name for d in draws],
        "Version": [d.policy_version for d in draws],
        "Seed": [str(d.seed) for d in draws],  # text: a browser's numbers lose digits above 2**53
        "Selected": [d.assignments for d in draws],
        "By": [names.get(d.drawn_by, "") if d.drawn_by is not None else "command line" for d in draws],
        "Warnings": [len(d.shortfalls) for d in draws],
    })  # fmt: skip
    st.caption("Newest first. Select a draw to see what it selected and why.")
    event = st.dataframe(
        table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="sampling:draws",
        column_config={
            "When": st.column_config.DatetimeColumn("When (UTC)", format="DD/MM/YYYY HH:mm"),
            "Seed": st.column_config.TextColumn("Seed", help="Reproduces the draw with the same policy version and earlier draws"),
            "Selected": st.column_config.NumberColumn("Selected", help="Sessions this draw added (rule by rule)"),
            "Warnings": st.column_config.NumberColumn("Warnings", help="Targets the draw could not meet, e.g. no eligible rater"),
        },
    )  # fmt: skip
    rows = event.selection.rows if event else []
    if rows:
        chosen = draws[rows[0]]
        for shortfall in chosen.shortfalls:
            st.warning(plain(shortfall), icon=":material/warning:")
        _show_visible(mon, mon.selections_of(chosen), names)


# --------------------------------------------------------------------------------------------


def render() -> None:
    _, me = page_start()
    st.title("Sampling")
    if not allowed(me, Action.VIEW_COVERAGE):
        return
    st.caption(
        "Which recorded sessions are monitored by treatment managers and rated by the external audit, "
        "by rule: the policies, the draws that apply them, and an editor for administrators."
    )
    mon = Monitoring(me)
    try:
        catalog = mon.catalog()
    except PolicyError as exc:
        st.error("\n".join(plain(e) for e in exc.errors), icon=":material/folder_off:")
        return
    in_force = mon.policies_in_force(catalog)
    names = mon.people_names()
    policies, draw, made, edit = st.tabs(["Policies in force", "Draw a sample", "Draws made", "Edit a policy"])
    with policies:
        _show_policies(catalog, in_force)
    with draw:
        _draw_section(mon, in_force, names)
    with made:
        _draws_made(mon, names)
    with edit:
        _editor(mon)
