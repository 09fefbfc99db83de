"""Rubrics (administration): every rubric and its versions as the rubric files hold them, which
version new ratings use, how many ratings each version has, the broken files, a version's items,
and adding a new version.

A new version is only ever a *new file* (``ID-VERSION.yaml``) written next to the others: it must
pass the same strict validation as the files read at start-up, and its ``version`` must be newer
than every version of that rubric on file or used by a rating. Nothing on file is overwritten or
removed. Once written, the rubric files are read again into ``svc.catalog``, so new ratings use
the new version at once; a rating already started keeps the version (and the definition stored
with it) it was made under.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import streamlit as st
import yaml

from session_rater.ui.text import plain
from session_rater.domain.access import Action
from session_rater.domain.rubric import Rubric
from session_rater.errors import RubricError
from session_rater.domain.versions import version_sort_key
from session_rater.domain.rubric import rubric_fingerprint, rubric_to_dict
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import DEFAULT_RUBRIC_ID, Services
from session_rater.domain.versions import bumped
from session_rater.usecases.rubric_versions import (
    UNIT_LABELS,
    Folder,
    Outcome,
    snapshot,
    assess,
    changes,
    locate,
    read_folder,
    reload_rubrics,
    rubric_file_text,
    save_new_version,
    submitted_counts,
    upload_problem,
)
from session_rater.ui.state import allowed, page_start

__all__ = ["render"]

EDITOR_KEY = "rubrics:text"
START_KEY = "rubrics:start"
UPLOAD_KEY = "rubrics:upload"
SOURCE_KEY = "rubrics:source"
RESULT_KEY = "rubrics:result"
SHOW_KEY = "rubrics:show"
RELOAD_KEY = "rubrics:reloaded"



# --------------------------------------------------------------------------------------------
# Showing things
# --------------------------------------------------------------------------------------------



def scale_text(rubric: Rubric) -> str:
    return f"{rubric.minimum}–{rubric.maximum}"




def _error_lines(text: str | None, messages: Sequence[str]) -> str:
    lines = (text or "").splitlines()
    out = []
    for message in messages:
        where, line, what = locate(text, message)
        if not where:
            out.append(f"- {plain(message)}")
            continue
        at = ""
        if line is not None and not where.startswith("line "):
            shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            at = f"line {line}" + (f" (`{shown.replace('`', chr(39))}`)" if shown else "") + " · "
        out.append(f"- {at}`{where}`: {plain(what)}")
    return "\n".join(out)


def _version_frame(svc: Services, rubric_id: str, folder: Folder, counts: Mapping[tuple[str, str], int]) -> pd.DataFrame:
    versions = {r.version: r for r in svc.catalog.versions(rubric_id)}
    newest = max(versions, key=version_sort_key, default=None)
    rated_only = [v for (rid, v) in counts if rid == rubric_id and v not in versions]
    rows = []
    for version in sorted([*versions, *rated_only], key=version_sort_key, reverse=True):
        rubric = versions.get(version) or snapshot(svc, rubric_id, version)
        note = ""
        if version not in versions:
            note = "No file: ratings keep the definition stored with them."
        else:
            stored = snapshot(svc, rubric_id, version)
            if stored is not None and rubric_fingerprint(stored) != rubric_fingerprint(rubric):
                note = ("Edited without a new version: differs from the definition its ratings were made under, "
                        "so no new rating can start on it. Save the edit as a new version.")  # fmt: skip
        rows.append({
            "version": version,
            "newest": "✔ new ratings" if version == newest else "",
            "title": rubric.title if rubric else "",
            "items": len(rubric.items) if rubric else None,
            "scale": scale_text(rubric) if rubric else "",
            "unit": UNIT_LABELS[rubric.rated_unit] if rubric else "",
            "file": folder.origins.get((rubric_id, version), "—" if version not in versions else "(changed on disk)"),
            "ratings": counts.get((rubric_id, version), 0),
            "note": note,
        })  # fmt: skip
    return pd.DataFrame(rows)


def rated_only_ids(svc: Services, counts: Mapping[tuple[str, str], int]) -> list[str]:
    """Rubrics that ratings were made under but that no valid file holds any more."""
    return sorted({rid for rid, _ in counts} - {rid for rid, _ in svc.catalog.rubrics})


def _show_rubrics(svc: Services, folder: Folder, counts: Mapping[tuple[str, str], int]) -> None:
    rubrics = svc.rubrics()
    if not rubrics:
        st.warning(f"No valid rubric is loaded from {svc.settings.rubrics_dir}: nobody can start a rating. "
                   "Add one under **Add a new version**.", icon=":material/warning:")  # fmt: skip
    for rubric_id in [r.id for r in rubrics] + rated_only_ids(svc, counts):
        with st.container(border=True):
            if rubric_id in {r.id for r in rubrics}:
                latest = svc.catalog.latest(rubric_id)
                st.markdown(f"#### {plain(latest.title)}")
                st.caption(
                    f"`{latest.id}` · new ratings use **version {plain(latest.version)}** · {len(latest.items)} items "
                    f"in {len(latest.sections)} sections · scale {scale_text(latest)} ({plain(latest.scale[0].label)} "
                    f"to {plain(latest.scale[-1].label)}) · rated {UNIT_LABELS[latest.rated_unit]}"
                    + (f" · N/A allowed ({plain(latest.not_applicable_label)})" if latest.allow_not_applicable else " · no N/A")
                )  # fmt: skip
            else:
                st.markdown(f"#### `{rubric_id}`")
                st.caption("No valid file holds this rubric any more, so no new rating can use it; its ratings keep "
                           "the definitions stored with them.")  # fmt: skip
            frame = _version_frame(svc, rubric_id, folder, counts)
            noted = frame["note"].astype(bool).any()
            st.dataframe(
                frame if noted else frame.drop(columns="note"), hide_index=True, width="stretch",
                key=f"rubrics:versions:{rubric_id}",
                column_config={
                    "version": st.column_config.TextColumn("Version", width=70),
                    "newest": st.column_config.TextColumn("Used for", width=110,
                                                          help="New ratings use the newest version"),
                    "title": st.column_config.TextColumn("Title", width=250),
                    "items": st.column_config.NumberColumn("Items", width=55),
                    "scale": st.column_config.TextColumn("Scale", width=55),
                    "unit": st.column_config.TextColumn("Rated", width=80),
                    "file": st.column_config.TextColumn("File", width=240),
                    "ratings": st.column_config.NumberColumn(
                        "Ratings", width=65, help="Submitted ratings made under this version (they keep it)"),
                    "note": st.column_config.TextColumn("Note", width=300),
                },
            )  # fmt: skip
            if frame["note"].str.startswith("Edited").any():
                st.warning(
                    "A file was edited without bumping its `version`: its wording no longer matches what earlier "
                    "ratings were made under, so new ratings on it are refused. Save the edited text as a new "
                    "version under **Add a new version**.", icon=":material/warning:",
                )  # fmt: skip
    for name, error in sorted(svc.catalog.errors.items()):
        st.error(
            f"**{plain(name)} is broken and is not used** ({error.problem_count:,d} error(s)); the other rubrics "
            "work meanwhile:\n" + _error_lines(_safe_text(Path(svc.settings.rubrics_dir) / name), error.errors),
            icon=":material/error:",
        )


def _safe_text(path: Path) -> str | None:
    return rubric_file_text(path)  # None when unreadable or over the size limit of rubric files


def _reload(svc: Services) -> None:
    try:
        reload_rubrics(svc)
        st.session_state[RELOAD_KEY] = None
    except RubricError as exc:
        st.session_state[RELOAD_KEY] = "\n".join(exc.errors)


def _show_changed_on_disk(svc: Services, folder: Folder) -> None:
    if problem := st.session_state.get(RELOAD_KEY):
        st.error(problem, icon=":material/folder_off:")
    if folder.problem:
        st.error(folder.problem, icon=":material/folder_off:")
    elif folder.differs_from(svc.catalog):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.warning(
            "The rubric files changed since the app read them (a file was added, removed or edited outside "
            "this page). The list shows what the app uses now; read the files again to use what they hold.",
            icon=":material/sync_problem:",
        )
        right.button("Read the files again", icon=":material/refresh:", on_click=_reload, args=(svc,), width="stretch")


def _show_items(svc: Services, counts: Mapping[tuple[str, str], int]) -> None:
    options: dict[str, Rubric] = {}
    for rubric_id in [r.id for r in svc.rubrics()] + rated_only_ids(svc, counts):
        for rubric in reversed(svc.catalog.versions(rubric_id)):
            options[f"{rubric.id}@{rubric.version}"] = rubric
        for rid, version in sorted(counts, key=lambda k: version_sort_key(k[1]), reverse=True):
            if rid == rubric_id and f"{rid}@{version}" not in options and (stored := snapshot(svc, rid, version)):
                options[f"{rid}@{version}"] = stored
    if not options:
        return
    newest = {r.key for r in svc.rubrics()}
    if st.session_state.get(SHOW_KEY) not in options:
        st.session_state[SHOW_KEY] = next(iter(options))
    chosen = st.selectbox(
        "Show the items of", list(options), key=SHOW_KEY,
        format_func=lambda k: f"{options[k].title} · version {options[k].version}"
        + (" (newest, used for new ratings)" if options[k].key in newest else ""),
    )  # fmt: skip
    rubric = options[chosen]
    st.markdown(f"**Scale** ({plain(scale_text(rubric))}; an item's own descriptor replaces the scale's for that point)")
    st.markdown(
        "| Point | Label | Descriptor |\n|---|---|---|\n"
        + "\n".join(f"| {p.value} | {plain(p.label)} | {plain(p.descriptor)} |" for p in rubric.scale)
    )
    st.caption(f"Not applicable: {'allowed, as “' + plain(rubric.not_applicable_label) + '”' if rubric.allow_not_applicable else 'not allowed'}; "
               "it is never a score.")  # fmt: skip
    for index, section in enumerate(rubric.sections):
        with st.expander(f"{plain(section.title)} · {plain(section.id)} · {len(section.items)} items", expanded=index == 0):
            if section.description:
                st.caption(plain(section.description))
            for item in section.items:
                paragraphs = [f"**{plain(item.title)}** · `{item.id}`"]
                if item.guidance:
                    paragraphs.append(f"*{plain(item.guidance)}*")
                anchors = [f"- **{value} · {plain(rubric.point(value).label)}**: {plain(text)}"
                           for value, text in sorted(item.descriptors.items())]  # fmt: skip
                paragraphs.append("\n".join(anchors) if anchors else ":gray[The scale's descriptors apply to every point.]")
                st.markdown("\n\n".join(paragraphs))


# --------------------------------------------------------------------------------------------
# The editor
# --------------------------------------------------------------------------------------------


def _newest_text(svc: Services, folder: Folder, rubric_id: str) -> tuple[str, str]:
    """The newest version's file text (as written, comments and all), and its name."""
    rubric = svc.catalog.latest(rubric_id)
    name = folder.origins.get(rubric.key)
    if name is not None:
        text = _safe_text(Path(svc.settings.rubrics_dir) / name)
        if text is not None:
            return text, name
    # The file changed since it was read: start from the definition in use instead.
    dumped = yaml.safe_dump(rubric_to_dict(rubric), sort_keys=False, allow_unicode=True, width=100)
    return dumped, f"{rubric.id} version {rubric.version}"


def _load_start(svc: Services, folder: Folder) -> None:
    rubric_id = st.session_state.get(START_KEY)
    if rubric_id:
        text, name = _newest_text(svc, folder, rubric_id)
        st.session_state[EDITOR_KEY] = text
        st.session_state[SOURCE_KEY] = f"{name} (edited)"
    st.session_state.pop(RESULT_KEY, None)


def _on_upload() -> None:
    uploaded = st.session_state.get(UPLOAD_KEY)
    if uploaded is None:
        return
    raw = uploaded.getvalue().removeprefix(b"\xef\xbb\xbf")
    if (too_large := upload_problem(uploaded.name, len(raw))) is not None:
        st.session_state[RESULT_KEY] = Outcome("upload", None, messages=(f"{too_large}. The editor was left as it was",))
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        st.session_state[RESULT_KEY] = Outcome("upload", None, messages=(
            f"{uploaded.name}: line {line}: the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as "
            "UTF-8 in your editor and upload it again. The editor was left as it was",
        ))  # fmt: skip
        return
    st.session_state[EDITOR_KEY] = text.replace("\r\n", "\n")
    st.session_state[SOURCE_KEY] = f"{uploaded.name} (uploaded)"
    st.session_state.pop(RESULT_KEY, None)


def _on_check(svc: Services) -> None:
    text = st.session_state.get(EDITOR_KEY, "")
    st.session_state[RESULT_KEY] = assess(svc, text, st.session_state.get(SOURCE_KEY) or "new rubric")


def _on_save(svc: Services, me: Permitted) -> None:
    text = st.session_state.get(EDITOR_KEY, "")
    outcome = save_new_version(svc, me, text, st.session_state.get(SOURCE_KEY) or "new rubric")
    st.session_state[RESULT_KEY] = outcome
    if outcome.kind == "saved" and outcome.rubric is not None:
        st.session_state[START_KEY] = outcome.rubric.id
        st.session_state[SOURCE_KEY] = f"{outcome.notes[0]} (edited)"
        st.session_state[SHOW_KEY] = f"{outcome.rubric.id}@{outcome.rubric.version}"


def _show_outcome(outcome: Outcome, text: str) -> None:
    if outcome.text is not None and outcome.text != text:
        st.caption("The text changed since it was last checked: **Check** it again.")
        return
    rubric = outcome.rubric
    if outcome.kind in {"invalid", "not saved", "upload"}:
        head = {"invalid": "Not valid", "not saved": "Not saved", "upload": "Not loaded"}[outcome.kind]
        st.error(
            f"**{head}: {outcome.problems:,d} problem(s)**"
            + ("; nothing was written" if outcome.kind != "invalid" else "") + ":\n"
            + _error_lines(outcome.text, outcome.messages),
            icon=":material/error:",
        )
        return
    assert rubric is not None
    summary = (f"**{plain(rubric.title)}**, `{rubric.id}` version **{plain(rubric.version)}**: {len(rubric.items)} items in "
               f"{len(rubric.sections)} sections, scale {scale_text(rubric)}, rated {UNIT_LABELS[rubric.rated_unit]}.")  # fmt: skip
    if outcome.kind == "saved":
        st.success(f"Saved as `{outcome.notes[0]}`: {summary} {outcome.notes[1]} Ratings already made keep the "
                   "version they were made under.", icon=":material/check_circle:")  # fmt: skip
    elif outcome.notes:
        st.warning(f"Valid: {summary} It cannot be saved as it is:\n" + _error_lines(outcome.text, outcome.notes),
                   icon=":material/warning:")  # fmt: skip
    else:
        st.success(f"Valid: {summary} **Save as new version** writes it as `{rubric.id}-{rubric.version}.yaml`.",
                   icon=":material/check_circle:")  # fmt: skip
    old = outcome.compared_with
    if old is not None and old.key != rubric.key:
        found = changes(old, rubric)
        if found:
            st.markdown(f"Compared with version {plain(old.version)}:\n" + "\n".join(f"- {line}" for line in found))
        else:
            st.info(f"Nothing a rater sees differs from version {plain(old.version)}.", icon=":material/info:")


def _editor(svc: Services, me: Permitted, folder: Folder) -> None:
    st.caption(
        "Start from the newest version of a rubric (or upload a file), change it, **Check** it (every "
        "problem is listed with its line), then **Save as new version**. It is saved only if it is valid and "
        "its `version` is newer than every version of that rubric; it becomes a new file, `ID-VERSION.yaml`, "
        "next to the others, and nothing on file is changed. New ratings use it at once; ratings already "
        "made keep their version. Schema: `rubrics/README.md`."
    )
    ids = [r.id for r in svc.rubrics()]
    if ids and st.session_state.get(START_KEY) not in ids:
        st.session_state[START_KEY] = DEFAULT_RUBRIC_ID if DEFAULT_RUBRIC_ID in ids else ids[0]
        _load_start(svc, folder)
    elif EDITOR_KEY not in st.session_state:
        _load_start(svc, folder)
    titles = {r.id: r for r in svc.rubrics()}
    left, right = st.columns(2)
    if ids:
        left.selectbox(
            "Start from the newest version of", ids, key=START_KEY, on_change=_load_start, args=(svc, folder),
            format_func=lambda i: f"{titles[i].title} (version {titles[i].version})",
            help="Replaces the text below with that version's file",
        )  # fmt: skip
    else:
        left.info("No valid rubric is loaded: write one below or upload a file.")
    right.file_uploader(
        "Or upload a rubric file", type=["yaml", "yml"], key=UPLOAD_KEY, on_change=_on_upload,
        help="Its text replaces the text below; nothing is saved until you save it.",
    )  # fmt: skip
    # YAML is read by its indentation: show it in a fixed-width font (the widget's class comes from its key).
    st.html("<style>.st-key-rubrics-text textarea { font-family: 'Source Code Pro', monospace; font-size: 0.85rem; }</style>")
    text = st.text_area(
        f"Rubric (YAML) · from {st.session_state.get(SOURCE_KEY) or 'scratch'}", key=EDITOR_KEY, height=420,
    )  # fmt: skip
    if ids and (newest := svc.catalog.latest(st.session_state[START_KEY])):
        st.caption(f"Newest version of `{newest.id}`: {plain(newest.version)}. A new one needs a higher `version`, "
                   f"e.g. `version: \"{bumped(newest.version)}\"`.")  # fmt: skip
    a, b = st.columns(2)
    a.button("Check", icon=":material/rule:", on_click=_on_check, args=(svc,), width="stretch")
    b.button("Save as new version", icon=":material/save:", type="primary", on_click=_on_save, args=(svc, me),
             width="stretch")  # fmt: skip
    outcome = st.session_state.get(RESULT_KEY)
    if isinstance(outcome, Outcome):
        _show_outcome(outcome, text)


# --------------------------------------------------------------------------------------------


def render() -> None:
    svc, me = page_start()
    st.title("Rubrics")
    if not allowed(me, Action.MANAGE_RUBRICS):
        return
    st.caption(
        f"The rubric files in `{svc.settings.rubrics_dir}`: every version, the one new ratings use (the newest), "
        "and how many ratings each has. A rating keeps the version it was made under, whatever is added later."
    )
    folder = read_folder(Path(svc.settings.rubrics_dir))
    counts = submitted_counts(svc)
    _show_changed_on_disk(svc, folder)
    listing, items, add = st.tabs(["Rubrics and versions", "Items of a version", "Add a new version"])
    with listing:
        _show_rubrics(svc, folder, counts)
    with items:
        _show_items(svc, counts)
    with add:
        _editor(svc, me, folder)
