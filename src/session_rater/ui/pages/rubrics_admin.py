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

import functools
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st
import yaml

from session_rater.domain.access import Action
from session_rater.domain.rubric import RatedUnit, Rubric
from session_rater.errors import NotFoundError, RubricError
from session_rater.io.rubric_files import (
    RUBRIC_FILE_SUFFIXES,
    RubricCatalog,
    load_rubric,
    load_rubric_dir,
    parse_rubric_text,
    rubric_fingerprint,
    rubric_to_dict,
    version_sort_key,
)
from session_rater.io.yaml_support import TOP_LEVEL
from session_rater.permitted import Permitted
from session_rater.services import DEFAULT_RUBRIC_ID, Services
from session_rater.io.files import bumped, write_new_file
from session_rater.ui.state import allowed, page_start

__all__ = ["render"]

EDITOR_KEY = "rubrics:text"
START_KEY = "rubrics:start"
UPLOAD_KEY = "rubrics:upload"
SOURCE_KEY = "rubrics:source"
RESULT_KEY = "rubrics:result"
SHOW_KEY = "rubrics:show"
RELOAD_KEY = "rubrics:reloaded"

UNIT_LABELS = {RatedUnit.TUTOR: "per tutor", RatedUnit.SESSION: "per session"}
_save_lock = threading.Lock()  # one save at a time in this process (the file system guards across processes)


# --------------------------------------------------------------------------------------------
# Reading: the strict loader on text, and the files of the rubrics folder
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _read_file(path: str, mtime_ns: int, size: int) -> Rubric | RubricError:  # noqa: ARG001 - cache key
    """One rubric file, read again only when it changes (reading one takes tens of ms)."""
    try:
        return load_rubric(Path(path))
    except RubricError as exc:
        return exc


@dataclass
class Folder:
    """The rubric files on disk now, read the way ``load_rubric_dir`` reads them."""

    origins: dict[tuple[str, str], str] = field(default_factory=dict)  # (id, version) -> file name
    fingerprints: dict[tuple[str, str], str] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    problem: str | None = None  # the folder itself cannot be read

    def differs_from(self, catalog: RubricCatalog) -> bool:
        """Whether the files changed since ``catalog`` was read from them."""
        loaded = {key: rubric_fingerprint(r) for key, r in catalog.rubrics.items()}
        return self.problem is None and (loaded != self.fingerprints or set(catalog.errors) != self.broken)


def _rubric_paths(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.iterdir()
        if p.suffix in RUBRIC_FILE_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )  # fmt: skip


def read_folder(directory: Path) -> Folder:
    folder = Folder()
    try:
        paths = _rubric_paths(directory)
    except OSError as exc:
        folder.problem = f"The rubrics folder {directory} cannot be read ({exc.strerror or exc})."
        return folder
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            folder.broken.add(path.name)
            continue
        found = _read_file(str(path), stat.st_mtime_ns, stat.st_size)
        if isinstance(found, RubricError) or found.key in folder.origins:
            folder.broken.add(path.name)  # broken, or a second file with an (id, version) already on file
            continue
        folder.origins[found.key] = path.name
        folder.fingerprints[found.key] = rubric_fingerprint(found)
    return folder


def _declared(path: Path) -> tuple[object, object] | None:
    """The (id, version) a file declares, even a broken one, if it can be read that far."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return (data.get("id"), data.get("version")) if isinstance(data, dict) else None


# --------------------------------------------------------------------------------------------
# Ratings per version
# --------------------------------------------------------------------------------------------


def submitted_counts(svc: Services) -> Counter[tuple[str, str]]:
    """Submitted ratings (the version that counts of each form) per (rubric id, version)."""
    return Counter((r.rubric_id, r.rubric_version) for r in svc.store.submitted_ratings())


def _snapshot(svc: Services, rubric_id: str, version: str) -> Rubric | None:
    """The definition stored with the ratings made under this version, if any rating was started."""
    try:
        return svc.store.rubric_version(rubric_id, version)
    except NotFoundError:
        return None


# --------------------------------------------------------------------------------------------
# Writing a new file, never over an existing one
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What Check or Save found, shown under the editor while the text is unchanged."""

    kind: str  # "valid", "invalid", "not saved", "saved", "upload"
    text: str | None  # the text it is about (None: shown whatever the text)
    rubric: Rubric | None = None
    messages: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # a valid rubric's version problem, or what Save wrote
    compared_with: Rubric | None = None


def _versions_in_use(svc: Services, rubric_id: str, folder_catalog: RubricCatalog,
                     directory: Path) -> dict[str, str]:
    """Every version of ``rubric_id`` a new version must be newer than, with where it is."""
    found: dict[str, str] = {}
    for catalog, where in ((folder_catalog, "on file"), (svc.catalog, "in use by the app")):
        for rubric in catalog.versions(rubric_id):
            found.setdefault(rubric.version, where)
    for (rid, version), _ in submitted_counts(svc).items():
        if rid == rubric_id:
            found.setdefault(version, "used by ratings")
    for name in folder_catalog.errors:
        declared = _declared(directory / name)
        if declared and declared[0] == rubric_id and isinstance(declared[1], str):
            found.setdefault(declared[1], f"declared by the broken file {name}")
    return found


def assess(svc: Services, text: str, source: str) -> Outcome:
    """Check: validate; for a valid rubric, say whether its version could be saved."""
    try:
        rubric = parse_rubric_text(text, source)
    except RubricError as exc:
        return Outcome("invalid", text, messages=tuple(exc.errors))
    directory = Path(svc.settings.rubrics_dir)
    try:
        on_file = load_rubric_dir(directory)
    except RubricError as exc:
        return Outcome("valid", text, rubric, notes=tuple(exc.errors))
    problems = _version_problems(svc, rubric, on_file, directory, source)
    previous = svc.catalog.versions(rubric.id)
    return Outcome("valid", text, rubric, notes=tuple(problems), compared_with=previous[-1] if previous else None)


def _version_problems(svc: Services, rubric: Rubric, on_file: RubricCatalog, directory: Path, source: str) -> list[str]:
    versions = _versions_in_use(svc, rubric.id, on_file, directory)
    newest = max(versions, key=version_sort_key, default=None)
    if newest is not None and version_sort_key(rubric.version) <= version_sort_key(newest):
        same = "is the same as" if version_sort_key(rubric.version) == version_sort_key(newest) else "is older than"
        return [f"{source}: version: {rubric.version!r} {same} version {newest!r} of rubric {rubric.id!r} "
                f"({versions[newest]}); a new version must be newer than every existing one: bump it, "
                f"e.g. to version: \"{bumped(newest)}\""]  # fmt: skip
    if _snapshot(svc, rubric.id, rubric.version) is not None:
        return [f"{source}: version: rubric {rubric.id!r} version {rubric.version!r} was already used for "
                f"ratings (the database keeps its definition); give the new one another version, e.g. "
                f"\"{bumped(rubric.version)}\""]  # fmt: skip
    return []


def save_new_version(svc: Services, me: Permitted, text: str, source: str) -> Outcome:
    """Save ``text`` as a new rubric file if it is valid and newer than every version of that
    rubric; then read the rubric files again so that new ratings use it. Writes nothing otherwise."""
    if not me.decide(Action.MANAGE_RUBRICS):
        return Outcome("not saved", text, messages=("Only administrators may add a rubric version.",))
    try:
        rubric = parse_rubric_text(text, source)
    except RubricError as exc:
        return Outcome("not saved", text, messages=tuple(exc.errors))
    directory = Path(svc.settings.rubrics_dir)
    file_name = f"{rubric.id}-{rubric.version}.yaml"
    with _save_lock:
        try:
            on_file = load_rubric_dir(directory)
        except RubricError as exc:
            return Outcome("not saved", text, rubric, messages=tuple(exc.errors))
        problems = _version_problems(svc, rubric, on_file, directory, source)
        if problems:
            return Outcome("not saved", text, rubric, messages=tuple(problems))
        try:
            write_new_file(directory, file_name, text.removeprefix("\ufeff"))
        except FileExistsError:
            return Outcome("not saved", text, rubric, messages=(
                f"{file_name} already exists in {directory} (it does not hold a valid version {rubric.version!r} "
                f"of {rubric.id!r}: it is broken or holds something else); it was left as it is. "
                f"Fix or remove that file, or give the new version another number, e.g. \"{bumped(rubric.version)}\"",
            ))  # fmt: skip
        except OSError as exc:
            return Outcome("not saved", text, rubric, messages=(
                f"cannot write {directory / file_name}: {exc.strerror or exc}; the rubrics folder must be "
                "writable by the application (ask whoever runs the server)",
            ))  # fmt: skip
        try:
            catalog = load_rubric_dir(directory)
        except RubricError as exc:  # the folder went away just now
            return Outcome("not saved", text, rubric, messages=tuple(exc.errors))
        if file_name in catalog.errors:  # e.g. another file declared the same version meanwhile
            (directory / file_name).unlink(missing_ok=True)
            return Outcome("not saved", text, rubric, messages=tuple(catalog.errors[file_name].errors))
        previous = svc.catalog.versions(rubric.id)
        svc.catalog = catalog  # new ratings use the new version from now on
    me.record_rubric_version(rubric.id, rubric.version, file_name)
    in_use = catalog.latest(rubric.id)
    notes = [file_name, f"Version {in_use.version} is now the one new ratings use."]
    return Outcome("saved", text, rubric, notes=tuple(notes), compared_with=previous[-1] if previous else None)


# --------------------------------------------------------------------------------------------
# Showing things
# --------------------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|$~])")


def md(text: str) -> str:
    """Text shown as itself in Markdown (no emphasis, links or formulas from a rubric's wording)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def scale_text(rubric: Rubric) -> str:
    return f"{rubric.minimum}–{rubric.maximum}"


def _line_of(root: yaml.Node | None, path: str) -> int | None:
    """The line (from 1) of the node at a dotted path, or of the deepest part of it that exists
    (a missing key points at its parent)."""
    if root is None or path == TOP_LEVEL:
        return None
    node, line = root, root.start_mark.line + 1
    for part in path.split("."):
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if match is None:
                return line
            key = next(k for k, v in node.value if v is match)
            node, line = match, key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            return line
    return line


_AT_LINE = re.compile(r"^line (\d+)(?:, column \d+)?$")


def locate(text: str | None, message: str) -> tuple[str, int | None, str]:
    """(where, line, what) of an error message ``"{source}: {where}: {what}"``."""
    parts = message.split(": ", 2)
    if len(parts) < 3:
        return "", None, message
    _, where, what = parts
    if (found := _AT_LINE.match(where)) is not None:
        return where, int(found.group(1)), what
    root = None
    if text:
        try:
            root = yaml.compose(text.removeprefix("\ufeff"), Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            root = None
    return where, _line_of(root, where), what


def _error_lines(text: str | None, messages: Sequence[str]) -> str:
    lines = (text or "").splitlines()
    out = []
    for message in messages:
        where, line, what = locate(text, message)
        if not where:
            out.append(f"- {md(message)}")
            continue
        at = ""
        if line is not None and not where.startswith("line "):
            shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            at = f"line {line}" + (f" (`{shown.replace('`', chr(39))}`)" if shown else "") + " · "
        out.append(f"- {at}`{where}`: {md(what)}")
    return "\n".join(out)


def changes(old: Rubric, new: Rubric) -> list[str]:
    """What a rater would see differently in ``new`` than in ``old``, in short lines."""
    found = []
    for what, a, b in (("the title", old.title, new.title), ("the description", old.description, new.description)):
        if a != b:
            found.append(f"{what} changed")
    if old.rated_unit != new.rated_unit:
        found.append(f"now rated {UNIT_LABELS[new.rated_unit]} (was {UNIT_LABELS[old.rated_unit]})")
    if old.scale != new.scale:
        found.append(f"the scale changed ({old.describe_scale()} → {new.describe_scale()})"
                     if old.scale_values != new.scale_values else "the scale's labels or descriptors changed")
    if (old.allow_not_applicable, old.not_applicable_label) != (new.allow_not_applicable, new.not_applicable_label):
        found.append("the not-applicable choice changed")
    old_items, new_items = {i.id: i for i in old.items}, {i.id: i for i in new.items}
    if added := [i for i in new_items if i not in old_items]:
        found.append(f"{len(added)} item(s) added: " + ", ".join(f"`{i}`" for i in added))
    if removed := [i for i in old_items if i not in new_items]:
        found.append(f"{len(removed)} item(s) removed: " + ", ".join(f"`{i}`" for i in removed)
                     + " (ratings under older versions keep them)")
    if reworded := [i for i in new_items if i in old_items and new_items[i] != old_items[i]]:
        found.append(f"{len(reworded)} item(s) reworded (title, guidance or descriptors): "
                     + ", ".join(f"`{i}`" for i in reworded))  # fmt: skip
    kept = [i for i in new_items if i in old_items]
    if [i for i in old_items if i in new_items] != kept:
        found.append("items were reordered")
    old_sections = [(s.id, s.title, s.description, tuple(i.id for i in s.items)) for s in old.sections]
    new_sections = [(s.id, s.title, s.description, tuple(i.id for i in s.items)) for s in new.sections]
    if old_sections != new_sections and not (added or removed):
        if [s[:3] for s in old_sections] != [s[:3] for s in new_sections]:
            found.append("sections were renamed, added, removed or reordered")
        elif [s[3] for s in old_sections] != [s[3] for s in new_sections] and "items were reordered" not in found:
            found.append("items moved between sections")
    return found


def _version_frame(svc: Services, rubric_id: str, folder: Folder, counts: Mapping[tuple[str, str], int]) -> pd.DataFrame:
    versions = {r.version: r for r in svc.catalog.versions(rubric_id)}
    newest = max(versions, key=version_sort_key, default=None)
    rated_only = [v for (rid, v) in counts if rid == rubric_id and v not in versions]
    rows = []
    for version in sorted([*versions, *rated_only], key=version_sort_key, reverse=True):
        rubric = versions.get(version) or _snapshot(svc, rubric_id, version)
        note = ""
        if version not in versions:
            note = "No file: ratings keep the definition stored with them."
        else:
            stored = _snapshot(svc, rubric_id, version)
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
                st.markdown(f"#### {md(latest.title)}")
                st.caption(
                    f"`{latest.id}` · new ratings use **version {md(latest.version)}** · {len(latest.items)} items "
                    f"in {len(latest.sections)} sections · scale {scale_text(latest)} ({md(latest.scale[0].label)} "
                    f"to {md(latest.scale[-1].label)}) · rated {UNIT_LABELS[latest.rated_unit]}"
                    + (f" · N/A allowed ({md(latest.not_applicable_label)})" if latest.allow_not_applicable else " · no N/A")
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
            f"**{md(name)} is broken and is not used** ({len(error.errors)} error(s)); the other rubrics "
            "work meanwhile:\n" + _error_lines(_safe_text(Path(svc.settings.rubrics_dir) / name), error.errors),
            icon=":material/error:",
        )


def _safe_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _reload(svc: Services) -> None:
    try:
        svc.catalog = load_rubric_dir(Path(svc.settings.rubrics_dir))
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
            if rid == rubric_id and f"{rid}@{version}" not in options and (stored := _snapshot(svc, rid, version)):
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
    st.markdown(f"**Scale** ({md(scale_text(rubric))}; an item's own descriptor replaces the scale's for that point)")
    st.markdown(
        "| Point | Label | Descriptor |\n|---|---|---|\n"
        + "\n".join(f"| {p.value} | {md(p.label)} | {md(p.descriptor)} |" for p in rubric.scale)
    )
    st.caption(f"Not applicable: {'allowed, as “' + rubric.not_applicable_label + '”' if rubric.allow_not_applicable else 'not allowed'}; "
               "it is never a score.")  # fmt: skip
    for index, section in enumerate(rubric.sections):
        with st.expander(f"{section.title} · `{section.id}` · {len(section.items)} items", expanded=index == 0):
            if section.description:
                st.caption(md(section.description))
            for item in section.items:
                paragraphs = [f"**{md(item.title)}** · `{item.id}`"]
                if item.guidance:
                    paragraphs.append(f"*{md(item.guidance)}*")
                anchors = [f"- **{value} · {md(rubric.point(value).label)}**: {md(text)}"
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
            f"**{head}: {len(outcome.messages)} problem(s)**"
            + ("; nothing was written" if outcome.kind != "invalid" else "") + ":\n"
            + _error_lines(outcome.text, outcome.messages),
            icon=":material/error:",
        )
        return
    assert rubric is not None
    summary = (f"**{md(rubric.title)}**, `{rubric.id}` version **{md(rubric.version)}**: {len(rubric.items)} items in "
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
            st.markdown(f"Compared with version {md(old.version)}:\n" + "\n".join(f"- {line}" for line in found))
        else:
            st.info(f"Nothing a rater sees differs from version {md(old.version)}.", icon=":material/info:")


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
        st.caption(f"Newest version of `{newest.id}`: {md(newest.version)}. A new one needs a higher `version`, "
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
