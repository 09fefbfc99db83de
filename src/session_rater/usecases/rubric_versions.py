"""Rubric versions as administrators manage them: the rubric files on disk now, how many
ratings each version has, and adding a new version as a new file (checked strictly, newer
than every version in use or on file, never written over another file). The Rubrics page is
the interface; this module holds no Streamlit.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from session_rater.domain.rubric import RatedUnit, Rubric
from session_rater.errors import NotFoundError, RubricError
from session_rater.domain.versions import bumped
from session_rater.io.files import write_new_file
from session_rater.domain.versions import version_sort_key
from session_rater.io.rubric_files import (
    RUBRIC_FILE_SUFFIXES,
    RubricCatalog,
    load_rubric,
    load_rubric_dir,
    parse_rubric_text,
    rubric_fingerprint,
)
from session_rater.io.yaml_support import (
    MAX_YAML_BYTES,
    LimitedLoader,
    YamlInputError,
    compose_within_limits,
    line_of,
    read_yaml_file,
    size_message,
)
from session_rater.domain.access import Action
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.instance import announce_rubrics_changed, rubrics_generation
from session_rater.usecases.services import Services

UNIT_LABELS = {RatedUnit.TUTOR: "per tutor", RatedUnit.SESSION: "per session"}
_AT_LINE = re.compile(r"^line (\d+)(?:, column \d+)?$")
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
    """The (id, version) a file declares, even a broken one, if it can be read that far (within
    the size limits: a broken file may be a huge one)."""
    try:
        data = yaml.load(read_yaml_file(path, path.name, "rubric file").decode("utf-8"), Loader=LimitedLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, YamlInputError, yaml.YAMLError):
        return None
    return (data.get("id"), data.get("version")) if isinstance(data, dict) else None


def rubric_file_text(path: Path) -> str | None:
    """A rubric file's text as written (to edit it, or to show the lines of its errors), or None
    when it cannot be read, is not UTF-8 or is over the size limit of rubric files."""
    try:
        return read_yaml_file(path, path.name, "rubric file").decode("utf-8")
    except (OSError, UnicodeDecodeError, YamlInputError):
        return None


def upload_problem(name: str, size: int) -> str | None:
    """Why an uploaded rubric file of ``size`` bytes is not loaded into the editor, if it is not."""
    return size_message(name, size, "rubric file") if size > MAX_YAML_BYTES else None


# --------------------------------------------------------------------------------------------
# Ratings per version
# --------------------------------------------------------------------------------------------


def check_rubric_file(path: Path) -> Rubric:
    """One rubric file read strictly (``session-rater check-rubrics``): the rubric, or a
    RubricError listing every problem with its place in the file."""
    return load_rubric(path)


def reload_rubrics(svc: Services, *, tell_others: bool = True) -> None:
    """Read the rubrics folder again (after its files changed on disk), and have every other
    app process do the same. A RubricError if the folder cannot be read; the rubrics read
    before stay in use."""
    svc.catalog = load_rubric_dir(Path(svc.settings.rubrics_dir))
    if tell_others:
        svc.rubrics_generation = announce_rubrics_changed(svc.store.engine)


def follow_rubric_changes(svc: Services) -> bool:
    """Read the rubrics folder again if another process added a version (or read it again)
    since this one did; whether it did. A folder that cannot be read leaves the rubrics in use."""
    current = rubrics_generation(svc.store.engine)
    if current is None or current == svc.rubrics_generation:
        return False
    try:
        svc.catalog = load_rubric_dir(Path(svc.settings.rubrics_dir))
    except RubricError:
        return False
    svc.rubrics_generation = current
    return True


def submitted_counts(svc: Services) -> Counter[tuple[str, str]]:
    """Submitted ratings (the version that counts of each form) per (rubric id, version),
    counted in the database (issue 17: reading every rating took 20 s at 300 k scores)."""
    return Counter(svc.store.submitted_counts_by_version())


def snapshot(svc: Services, rubric_id: str, version: str) -> Rubric | None:
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
    problem_count: int | None = None  # when ``messages`` lists only the first problems found

    @property
    def problems(self) -> int:
        """How many problems were found (``messages`` may list only the first of them)."""
        return len(self.messages) if self.problem_count is None else self.problem_count


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
        return Outcome("invalid", text, messages=tuple(exc.errors), problem_count=exc.problem_count)
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
    if snapshot(svc, rubric.id, rubric.version) is not None:
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
        return Outcome("not saved", text, messages=tuple(exc.errors), problem_count=exc.problem_count)
    directory = Path(svc.settings.rubrics_dir)
    file_name = f"{rubric.id}-{rubric.version}.yaml"
    with _save_lock:
        try:
            on_file = load_rubric_dir(directory)
        except RubricError as exc:
            return Outcome("not saved", text, rubric, messages=tuple(exc.errors), problem_count=exc.problem_count)
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
            return Outcome("not saved", text, rubric, messages=tuple(exc.errors), problem_count=exc.problem_count)
        if file_name in catalog.errors:  # e.g. another file declared the same version meanwhile
            (directory / file_name).unlink(missing_ok=True)
            return Outcome("not saved", text, rubric, messages=tuple(catalog.errors[file_name].errors),
                           problem_count=catalog.errors[file_name].problem_count)
        previous = svc.catalog.versions(rubric.id)
        svc.catalog = catalog  # new ratings use the new version from now on (in every process)
        svc.rubrics_generation = announce_rubrics_changed(svc.store.engine)
    me.record_rubric_version(rubric.id, rubric.version, file_name)
    in_use = catalog.latest(rubric.id)
    notes = [file_name, f"Version {in_use.version} is now the one new ratings use."]
    return Outcome("saved", text, rubric, notes=tuple(notes), compared_with=previous[-1] if previous else None)


def locate(text: str | None, message: str) -> tuple[str, int | None, str]:
    """(where, line, what) of an error message ``"{source}: {where}: {what}"``."""
    parts = message.split(": ", 2)
    if len(parts) < 3:
        return "", None, message
    _, where, what = parts
    if (found := _AT_LINE.match(where)) is not None:
        return where, int(found.group(1)), what
    return where, line_of(_composed(text) if text else None, where), what


@functools.lru_cache(maxsize=4)
def _composed(text: str) -> yaml.Node | None:
    """The node tree of ``text``, once for all the messages about it (None: over the limits,
    or not YAML)."""
    return compose_within_limits(text)


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


