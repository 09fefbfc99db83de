"""Sampling (administration): the policies in force, an editor that never saves an invalid
policy, a draw (previewed or saved, with its seed), and the draws made so far.

The draw itself is ``cli_sample``'s: the policy in force comes from :func:`resolve_policy`, the
sample from :func:`draw_sample` on top of the policy's earlier selections, and a saved draw
stores the policy snapshot (``policy_to_dict``) and its seed, like ``session-rater sample``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from session_rater.cli.sample import MAX_SEED, resolve_policy
from session_rater.db.sampling_store import DrawView, SamplingStore
from session_rater.db.store import PersonView, RecordingView
from session_rater.domain.model import Role
from session_rater.domain.sampling import Draw, SamplingPolicy, Selection, draw_sample
from session_rater.errors import PolicyError, SessionRaterError
from session_rater.io.policy_files import (
    POLICY_FILE_SUFFIXES,
    PolicyCatalog,
    load_policy_dir,
    parse_policy_text,
    policy_to_dict,
)
from session_rater.io.rubric_files import version_sort_key
from session_rater.usecases.services import Services
from session_rater.domain.access import Action
from session_rater.io.files import bumped, write_new_file
from session_rater.ui.state import allowed, page_start

__all__ = ["PolicyInForce", "policies_in_force", "policy_catalog", "policy_summary", "render"]

EDITOR_KEY = "sampling:policy_text"
EDITOR_FILE_KEY = "sampling:policy_file"
EDIT_RESULT_KEY = "sampling:edit_result"
POLICY_KEY = "sampling:policy"
SEED_KEY = "sampling:seed"
DRAW_RESULT_KEY = "sampling:draw_result"
NEW_SEED_BELOW = 1_000_000  # a new seed short enough to read out and type; any seed up to MAX_SEED is accepted
RULE_LABELS = {"monitoring": "Monitoring", "catch_up": "Catch-up", "external_audit": "External audit"}

_catalog_lock = threading.Lock()


# --------------------------------------------------------------------------------------------
# The policies in force (also read by the Coverage page)
# --------------------------------------------------------------------------------------------


@st.cache_resource
def _loaded_catalogs() -> dict[str, PolicyCatalog]:
    """Process-wide: each policies folder's catalog as last loaded, so that a file broken by an
    edit leaves the version loaded before it in force (``load_policy_dir(previous=...)``)."""
    return {}


def policy_catalog(svc: Services) -> PolicyCatalog:
    """The policy files read now, keeping in force what a now-broken file held before.

    Raises :class:`PolicyError` if the folder does not exist."""
    directory = str(svc.settings.policies_dir)
    with _catalog_lock:
        held = _loaded_catalogs()
        catalog = load_policy_dir(svc.settings.policies_dir, previous=held.get(directory))
        held[directory] = catalog
    return catalog


@dataclass(frozen=True)
class PolicyInForce:
    policy: SamplingPolicy
    source: str
    """Where it comes from: a file name, or the copy stored with the last draw."""
    kept: bool
    """True when its file is now broken and the version read before stays in force."""


def policies_in_force(catalog: PolicyCatalog, store: SamplingStore) -> list[PolicyInForce]:
    """The newest valid version of every policy, by name (as ``session-rater sample`` picks it),
    including a policy whose file broke before this process read it: the version stored with
    its last draw stays in force."""
    names = set(catalog.names()) | {d.policy_name for d in store.list_draws() if not d.dry_run}
    found = []
    for name in sorted(names):
        try:
            policy, _ = resolve_policy(catalog, name, store.last_policy_snapshot(name))
        except SessionRaterError:  # deleted, or broken with nothing to fall back on
            continue
        key = (policy.name, policy.version)
        if catalog.policies.get(key) == policy:
            found.append(PolicyInForce(policy, catalog.origins[key], key in catalog.kept))
        else:
            found.append(PolicyInForce(policy, "the copy stored with its last draw", True))
    return found


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
    scope = ", ".join(policy.programmes) if policy.programmes else "every programme"
    lines.append(f"Applies to {scope}. Nothing is due sooner than {policy.min_notice_days} days after a draw; "
                 "nobody rates a session they delivered.")  # fmt: skip
    return lines


def _is_admin(rater: PersonView | None) -> bool:
    return rater is not None and rater.has_role(Role.ADMINISTRATOR)


ADMIN_ONLY = ("Saving a draw or a policy is for administrators. Until sign-in exists, pick an administrator "
              "under **Rating as** in the sidebar.")  # fmt: skip


# --------------------------------------------------------------------------------------------
# Policies in force, broken files
# --------------------------------------------------------------------------------------------


def _show_policies(catalog: PolicyCatalog, in_force: list[PolicyInForce]) -> None:
    if not in_force:
        st.warning("No sampling policy is in force: add a valid policy file (see the editor tab).")
    for entry in in_force:
        policy = entry.policy
        with st.container(border=True):
            st.markdown(f"#### {policy.title}")
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
            f"**{name} is broken and is not applied** ({len(error.errors)} error(s)); any version in "
            "force stays in force until it is fixed:\n" + "\n".join(f"- `{e}`" for e in error.errors),
            icon=":material/error:",
        )


# --------------------------------------------------------------------------------------------
# The editor
# --------------------------------------------------------------------------------------------


def _policy_files(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.iterdir() if p.suffix in POLICY_FILE_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def _load_file_into_editor(directory: Path) -> None:
    name = st.session_state.get(EDITOR_FILE_KEY)
    if name:
        st.session_state[EDITOR_KEY] = (directory / name).read_text(encoding="utf-8")
    st.session_state.pop(EDIT_RESULT_KEY, None)


def _check(text: str, source: str) -> tuple[SamplingPolicy | None, list[str]]:
    try:
        return parse_policy_text(text, source), []
    except PolicyError as exc:
        return None, exc.errors


def _on_check(source: str) -> None:
    policy, errors = _check(st.session_state.get(EDITOR_KEY, ""), source)
    st.session_state[EDIT_RESULT_KEY] = ("checked", policy, errors)


def _on_save(svc: Services, store: SamplingStore, source: str, rater: PersonView | None) -> None:
    """Validate, require a new (higher) version, then write a new file; never an invalid one."""
    if not _is_admin(rater):
        st.session_state[EDIT_RESULT_KEY] = ("not saved", None, [ADMIN_ONLY])
        return
    policy, errors = _check(st.session_state.get(EDITOR_KEY, ""), source)
    if policy is None:
        st.session_state[EDIT_RESULT_KEY] = ("not saved", None, errors)
        return
    directory = svc.settings.policies_dir
    try:
        catalog = policy_catalog(svc)
    except PolicyError as exc:
        st.session_state[EDIT_RESULT_KEY] = ("not saved", None, exc.errors)
        return
    versions = [p.version for p in catalog.versions(policy.name)]
    versions += [e.policy.version for e in policies_in_force(catalog, store) if e.policy.name == policy.name]
    newest = max(versions, key=version_sort_key, default=None)
    if newest is not None and version_sort_key(policy.version) <= version_sort_key(newest):
        message = (f"{source}: version: {policy.version!r} is not newer than version {newest!r} of policy "
                   f"{policy.name!r}; bump it (e.g. to \"{bumped(newest)}\") to save the edit as a new version")  # fmt: skip
        st.session_state[EDIT_RESULT_KEY] = ("not saved", None, [message])
        return
    file_name = f"{policy.name}-{policy.version}.yaml"
    try:
        write_new_file(directory, file_name, st.session_state[EDITOR_KEY])
    except FileExistsError:
        st.session_state[EDIT_RESULT_KEY] = ("not saved", None, [
            f"{file_name} already exists in {directory}; give the policy a version that has no file yet"
        ])  # fmt: skip
        return
    except OSError as exc:
        st.session_state[EDIT_RESULT_KEY] = ("not saved", None, [f"cannot write {directory / file_name}: {exc.strerror or exc}"])
        return
    policy_catalog(svc)  # read the new file now, so the list of policies shows it
    st.session_state[EDITOR_FILE_KEY] = file_name
    st.session_state[EDIT_RESULT_KEY] = ("saved", policy, [file_name])


def _editor(svc: Services, store: SamplingStore, rater: PersonView | None) -> None:
    directory = svc.settings.policies_dir
    files = [p.name for p in _policy_files(directory)]
    st.caption(
        "Edit a copy of a policy file. **Check** validates it (every problem is listed); **Save as new "
        "version** writes it as a new file, `NAME-VERSION.yaml`, and only if it is valid and its "
        "`version` is higher than any version on file. The newest valid version is the one in force; "
        "the file you started from is left as it is. Schema: `policies/README.md`."
    )
    if not files:
        st.info(f"There are no policy files in {directory} yet: write one here and save it.")
    elif st.session_state.get(EDITOR_FILE_KEY) not in files:
        st.session_state[EDITOR_FILE_KEY] = files[-1] if "default.yaml" not in files else "default.yaml"
        _load_file_into_editor(directory)
    if files:
        st.selectbox("Start from", files, key=EDITOR_FILE_KEY, on_change=_load_file_into_editor, args=(directory,))
    source = f"{st.session_state.get(EDITOR_FILE_KEY) or 'new policy'} (edited)"
    st.text_area("Policy (YAML)", key=EDITOR_KEY, height=460)
    left, right = st.columns(2)
    left.button("Check", icon=":material/rule:", on_click=_on_check, args=(source,), width="stretch")
    right.button(
        "Save as new version",
        icon=":material/save:",
        type="primary",
        on_click=_on_save,
        args=(svc, store, source, rater),
        disabled=not _is_admin(rater),
        help=None if _is_admin(rater) else ADMIN_ONLY,
        width="stretch",
    )
    if not _is_admin(rater):
        st.caption(f":material/lock: {ADMIN_ONLY}")
    outcome = st.session_state.get(EDIT_RESULT_KEY)
    if outcome is None:
        return
    kind, policy, messages = outcome
    if messages and kind != "saved":
        st.error(
            f"**{'Not saved: ' if kind == 'not saved' else ''}{len(messages)} problem(s)**, nothing was written:\n"
            + "\n".join(f"- `{m}`" for m in messages),
            icon=":material/error:",
        )
    elif kind == "saved":
        st.success(f"Saved as `{messages[0]}`: **{policy.label}** is now in force.", icon=":material/check_circle:")
    else:
        st.success(f"Valid: **{policy.label}**. Bump its version and save it to put it in force.",
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


def _on_draw(store: SamplingStore, policy: SamplingPolicy, rater: PersonView | None, save: bool) -> None:
    """Preview (dry run) or draw and save; the seed used goes back into the seed field."""
    if save and not _is_admin(rater):
        st.session_state[DRAW_RESULT_KEY] = {"error": ADMIN_ONLY}
        return
    try:
        seed = _parse_seed(st.session_state.get(SEED_KEY, ""))
    except ValueError as exc:
        st.session_state[DRAW_RESULT_KEY] = {"error": str(exc)}
        return
    seed = secrets.randbelow(NEW_SEED_BELOW) if seed is None else seed
    try:
        draw = draw_sample(
            store.roster(), store.people(), policy, seed=seed, drawn_on=dt.date.today(),
            previous=store.previous_selections(policy.name),
        )  # fmt: skip
        saved = store.save_draw(draw, policy_to_dict(policy), drawn_by=rater.id if rater else None) if save else None
    except (SessionRaterError, ValueError) as exc:
        st.session_state[DRAW_RESULT_KEY] = {"error": f"Nothing was saved: {exc}" if save else str(exc)}
        return
    st.session_state[SEED_KEY] = "" if save else str(seed)
    st.session_state[DRAW_RESULT_KEY] = {"draw": draw, "saved": saved, "policy": policy.label}


def _show_draw_result(
    result: dict, recordings: Mapping[int, RecordingView], names: Mapping[int, str], *, can_save: bool  # type: ignore[type-arg]
) -> None:
    if "error" in result:
        st.error(result["error"], icon=":material/error:")
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
        st.warning(shortfall, icon=":material/warning:")
    if draw.selections:
        _show_selections(selections_frame(draw.selections, recordings, names))


def _draw_section(
    svc: Services, store: SamplingStore, in_force: list[PolicyInForce], rater: PersonView | None,
    recordings: Mapping[int, RecordingView], names: Mapping[int, str],
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
             args=(store, policy, rater, False), help="A dry run: shows what would be drawn and why; saves nothing.")  # fmt: skip
    b.button(
        "Draw and save", icon=":material/casino:", type="primary", on_click=_on_draw, width="stretch",
        args=(store, policy, rater, True), disabled=not _is_admin(rater),
        help="Saves the draw: its seed, the policy as it is now, and each session's rule, reason, rater and due date."
        if _is_admin(rater) else ADMIN_ONLY,
    )  # fmt: skip
    if not _is_admin(rater):
        st.caption(f":material/lock: {ADMIN_ONLY}")
    result = st.session_state.get(DRAW_RESULT_KEY)
    if result is not None:
        _show_draw_result(result, recordings, names, can_save=_is_admin(rater))


def _draws_made(store: SamplingStore, recordings: Mapping[int, RecordingView], names: Mapping[int, str]) -> None:
    draws = [d for d in store.list_draws() if not d.dry_run]
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
            st.warning(shortfall, icon=":material/warning:")
        selections = [a.as_selection() for a in store.assignments(chosen.policy_name) if a.draw_id == chosen.id]
        _show_selections(selections_frame(selections, recordings, names))


# --------------------------------------------------------------------------------------------


def render() -> None:
    svc, me = page_start()
    rater = me.person
    st.title("Sampling")
    if not allowed(me, Action.VIEW_COVERAGE):
        return
    st.caption(
        "Which recorded sessions are monitored by treatment managers and rated by the external audit, "
        "by rule: the policies, the draws that apply them, and an editor for administrators."
    )
    store = SamplingStore(svc.store.engine)
    try:
        catalog = policy_catalog(svc)
    except PolicyError as exc:
        st.error("\n".join(exc.errors), icon=":material/folder_off:")
        return
    in_force = policies_in_force(catalog, store)
    recordings = {r.id: r for r in svc.store.list_recordings()}
    names = {p.id: p.display_name for p in svc.store.list_people()}
    policies, draw, made, edit = st.tabs(["Policies in force", "Draw a sample", "Draws made", "Edit a policy"])
    with policies:
        _show_policies(catalog, in_force)
    with draw:
        _draw_section(svc, store, in_force, rater, recordings, names)
    with made:
        _draws_made(store, recordings, names)
    with edit:
        _editor(svc, store, rater)
