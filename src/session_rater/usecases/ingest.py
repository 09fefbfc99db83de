"""Ingest recordings: the use case behind ``session-rater ingest`` and the administration page.

For each file, independently (a bad file is reported and the batch goes on):

1. **probe** it with ffmpeg (container, codecs, duration, frame rate, size, interlacing);
2. **hash** it (SHA-256): the recording's identity whatever the file is called or wherever it is;
3. a **known hash** is the same recording: if its old file is gone, the recording is
   *re-linked* to the new path (ratings untouched); if the old file is still there this is a copy
   and nothing is added;
4. an **unknown hash** becomes a new recording, described by its row in the manifest
   (matched by path, else by file name); its tutors are found by display name, or added;
5. the recording is made **playable**: served as it is when a browser plays it, otherwise a
   remux/transcode job is queued whose output goes to ``<data dir>/media/<hash>.mp4``. Until
   that job is done ``Recording.file_path`` stays on the original and
   :meth:`MediaStore.playback <session_rater.db.media_store.MediaStore.playback>` says
   ``queued``/``converting``; the worker (:mod:`session_rater.usecases.conversion_worker`) then points it at
   the derivative.

Without an explicit manifest, ``manifest.csv`` next to the file, then in the recordings folder,
is used.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from session_rater.db.media_store import MediaStore, PlaybackView
from session_rater.db.store import RecordingSpec, Store
from session_rater.domain.model import Role
from session_rater.errors import ManifestError, RecordingError, SessionRaterError
from session_rater.io.manifest import ManifestEntry, load_manifest
from session_rater.media.ffmpeg import VideoInfo, probe
from session_rater.media.hashing import content_hash
from session_rater.media.thumbnails import Thumbnail, cached_thumbnail_strip, thumbnail_strip
from session_rater.media.transcode import PARTIAL_MARK, Action, plan_for
from session_rater.settings import Settings

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".asf", ".mpg", ".mpeg", ".m2v",
     ".vob", ".ts", ".mts", ".m2ts", ".dv", ".flv", ".3gp", ".ogv"}
)  # fmt: skip
MANIFEST_NAME = "manifest.csv"

IngestProgress = Callable[[Path, str, float], None]  # (file, stage "probe" | "hash" | "thumbnails", 0..1)


@dataclass(frozen=True)
class FileOutcome:
    """What ingesting one file did."""

    path: Path
    status: str  # "added" | "relinked" | "unchanged" | "failed"
    message: str
    recording_id: int | None = None
    action: str | None = None  # "as_is" | "remux" | "transcode"
    job_id: int | None = None
    content_hash: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    @property
    def line(self) -> str:
        return f"{self.status:<9} {self.path.name}: {self.message}"


@dataclass(frozen=True)
class IngestReport:
    outcomes: tuple[FileOutcome, ...]

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def job_ids(self) -> list[int]:
        return [o.job_id for o in self.outcomes if o.job_id is not None]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("added", "relinked", "unchanged", "failed") if self.count(s)]
        jobs = len(self.job_ids)
        return ", ".join(parts or ["nothing to do"]) + (f"; {jobs} conversion job(s) queued" if jobs else "")


@dataclass(frozen=True)
class MissingRecording:
    recording_id: int
    label: str
    path: Path


def expand_paths(paths: Iterable[Path | str], *, exclude: Iterable[Path] = ()) -> list[Path]:
    """Folders become the video files in them (by extension, recursively, sorted; hidden and
    temporary files, and anything under an ``exclude`` folder, skipped); files and paths that
    do not exist are kept as given."""
    skipped = [Path(p).resolve() for p in exclude]
    expanded: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.is_dir():
            expanded.append(path)
            continue
        for found in sorted(path.rglob("*")):
            if (
                found.is_file()
                and found.suffix.lower() in VIDEO_EXTENSIONS
                and not any(part.startswith(".") for part in found.relative_to(path).parts)
                and PARTIAL_MARK not in found.name
                and not any(found.resolve().is_relative_to(folder) for folder in skipped)
            ):
                expanded.append(found)
    return expanded


def ingest(
    paths: Iterable[Path | str],
    *,
    manifest: Path | str | Sequence[ManifestEntry] | None = None,
    store: Store,
    media_store: MediaStore,
    settings: Settings,
    on_progress: IngestProgress | None = None,
    make_thumbnails: bool = True,
) -> IngestReport:
    """Ingest every file of ``paths`` (folders are expanded); see the module's docstring.

    Raises :class:`ManifestError` only when the ``manifest`` given is itself invalid; every
    problem with a file is reported in its :class:`FileOutcome` and the batch goes on.
    """
    explicit = _explicit_manifest(manifest)
    context = _Context(store, media_store, settings, explicit, on_progress, make_thumbnails)
    outcomes = []
    # The app's own files (browser-safe copies, thumbnails) are never ingested from a folder.
    for path in expand_paths(paths, exclude=[settings.data_dir]):
        try:
            outcomes.append(context.ingest_one(path))
        except SessionRaterError as exc:
            outcomes.append(FileOutcome(path, "failed", str(exc)))
    return IngestReport(tuple(outcomes))


def missing_recordings(store: Store, settings: Settings) -> list[MissingRecording]:
    """The recordings whose file is not where the database says (moved, deleted, unmounted).
    Their ratings are kept; ingesting the file from its new place re-links it."""
    missing = []
    for recording_id, label, file_path in store.kept_recording_files():  # not those deleted by the retention policy
        path = Path(file_path)
        path = path if path.is_absolute() else settings.recordings_dir / path
        if not path.is_file():
            missing.append(MissingRecording(recording_id, label, path))
    return missing


MISSING_CHECK_MAX_AGE = dt.timedelta(minutes=10)
"""How long the Recordings page shows one check of every recording's file before checking again
(each check stats every file: twenty thousand nationally)."""


@dataclass(frozen=True)
class MissingCheck:
    """One check of every recording's file: when it was made, how many recordings it checked,
    and those whose file was missing."""

    checked_at: dt.datetime
    checked: int
    missing: tuple[MissingRecording, ...]


_missing_lock = threading.Lock()
_missing_checks: dict[tuple[str, str], MissingCheck] = {}
"""Process-wide: the last check per database and recordings folder."""


def missing_check(store: Store, settings: Settings, *, max_age: dt.timedelta = MISSING_CHECK_MAX_AGE,
                  again: bool = False) -> MissingCheck:  # fmt: skip
    """The last check of the recordings' files (:func:`missing_recordings`) if younger than
    ``max_age``, else (or when ``again``) a new one, kept for the next page run."""
    key = (store.engine.url.render_as_string(hide_password=True), str(settings.recordings_dir))
    now = dt.datetime.now(dt.UTC)
    with _missing_lock:
        last = _missing_checks.get(key)
        if last is None or again or now - last.checked_at > max_age:
            missing = missing_recordings(store, settings)
            last = _missing_checks[key] = MissingCheck(now, store.count_recordings(None), tuple(missing))
        return last


def forget_missing_check(store: Store, settings: Settings) -> None:
    """Check the files afresh on the next request (after an ingest re-links or adds files)."""
    with _missing_lock:
        _missing_checks.pop((store.engine.url.render_as_string(hide_password=True), str(settings.recordings_dir)), None)


def recording_thumbnails(
    recording_id: int,
    *,
    media_store: MediaStore,
    settings: Settings,
    generate: bool = True,
    playback: PlaybackView | None = None,
) -> list[Thumbnail]:
    """The thumbnail strip of a recording (from its browser-safe file), [] while it is being
    converted or when its file is missing. With ``generate=False`` only a strip made earlier
    is returned (never runs ffmpeg; for pages that must stay fast). Pass ``playback`` when it
    is already known (a list of recordings reads them all in one go)."""
    playback = playback or media_store.playback(recording_id)
    if not playback.playable or not playback.file_present:
        return []
    if not generate:  # a page: never hash or run ffmpeg here
        if playback.content_hash is None:
            return []
        return cached_thumbnail_strip(playback.content_hash, data_dir=settings.data_dir, count=None, width=None) or []
    key = playback.content_hash or content_hash(playback.path)
    return thumbnail_strip(playback.path, key, data_dir=settings.data_dir)


def _size_and_mtime(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def derivative_path(settings: Settings, recording_hash: str) -> Path:
    """Where the browser-safe copy of the recording with this (original) hash goes."""
    return settings.data_dir / "media" / f"{recording_hash}.mp4"


class _Context:
    def __init__(
        self,
        store: Store,
        media_store: MediaStore,
        settings: Settings,
        explicit: tuple[str, list[ManifestEntry]] | None,
        on_progress: IngestProgress | None,
        make_thumbnails: bool,
    ) -> None:
        self.store = store
        self.media = media_store
        self.settings = settings
        self.explicit = explicit
        self.on_progress = on_progress
        self.make_thumbnails = make_thumbnails
        self._manifests: dict[Path, list[ManifestEntry] | ManifestError | None] = {}
        self._people: dict[str, int] | None = None

    def _progress(self, path: Path, stage: str, fraction: float) -> None:
        if self.on_progress is not None:
            self.on_progress(path, stage, fraction)

    def ingest_one(self, path: Path) -> FileOutcome:
        path = path.absolute()
        before = _size_and_mtime(path)
        self._progress(path, "probe", 0.0)
        info = probe(path)
        self._progress(path, "probe", 1.0)
        digest = content_hash(path, on_progress=lambda done, total: self._progress(path, "hash", done / (total or 1)))
        if _size_and_mtime(path) != before:
            raise RecordingError(
                f"Recording {path.name} changed while it was being read: it is probably still being copied. "
                "Ingest it again when the copy has finished."
            )
        known = self.media.recording_for_hash(digest)
        if known is not None:
            return self._known(path, info, digest, known)
        entry = self._manifest_entry(path)
        recording = self.store.add_recording(
            RecordingSpec(
                file_path=str(path),
                programme=entry.programme,
                group_name=entry.group,
                session_number=entry.session_number,
                session_title=entry.session_title,
                recorded_on=entry.date,
                site=entry.site,
                is_catch_up=entry.catch_up,
                area=entry.area,
                team=entry.team,
                duration_seconds=info.duration_seconds,
                content_hash=digest,
            ),
            [self._tutor_id(name) for name in entry.tutors],
        )
        self.media.record_file(recording_id=recording.id, kind="original", path=path, content_hash=digest, info=info)
        action, job_id, note = self._make_playable(recording.id, path, info, digest)
        return FileOutcome(
            path, "added", f"recording {recording.id} ({recording.label}); {note}", recording.id, action, job_id, digest
        )

    def _known(self, path: Path, info: VideoInfo, digest: str, recording_id: int) -> FileOutcome:
        original = self.media.find_file("original", digest)
        old_path = Path(original.path) if original is not None else None
        if old_path is not None and old_path != path and old_path.is_file():
            return FileOutcome(
                path, "unchanged",
                f"the same recording as recording {recording_id}, whose file {old_path} is still there "
                "(a copy); nothing was added",
                recording_id, None, None, digest,
            )  # fmt: skip
        if old_path == path:
            status, note = "unchanged", f"already ingested as recording {recording_id}"
        else:
            self.media.relink(recording_id, digest, path)
            was = f" from {old_path}" if old_path is not None else ""
            status, note = "relinked", f"recording {recording_id} moved{was}; its ratings are kept"
        self.media.record_file(recording_id=recording_id, kind="original", path=path, content_hash=digest, info=info)
        action, job_id, playable_note = self._make_playable(recording_id, path, info, digest)
        return FileOutcome(path, status, f"{note}; {playable_note}", recording_id, action, job_id, digest)

    def _make_playable(
        self, recording_id: int, path: Path, info: VideoInfo, digest: str
    ) -> tuple[str, int | None, str]:
        """Serve the original, reuse a finished derivative, or queue a job. Returns (action,
        job id, what to tell the user)."""
        plan = plan_for(info)
        if plan.action is Action.AS_IS:
            self.media.record_file(
                recording_id=recording_id, kind="playable", path=path, content_hash=digest, info=info
            )
            self.media.set_served_file(recording_id, path, duration_seconds=info.duration_seconds)
            return plan.action.value, None, "plays in the browser as it is" + self._thumbnails(path, digest, info)
        playback = self.media.playback(recording_id)
        if playback.status == "ready" and playback.file_present and Path(playback.path) != path:
            return plan.action.value, None, f"its browser-safe copy {playback.path} is ready"
        active = self.media.active_job(recording_id)
        if active is not None:
            return active.action, active.id, f"already queued for {active.action} (job {active.id})"
        output = derivative_path(self.settings, digest)
        job = self.media.enqueue(recording_id, path, output, plan.action.value)
        why = "; ".join(plan.reasons)
        return job.action, job.id, f"queued for {job.action} (job {job.id}): {why}"

    def _thumbnails(self, path: Path, digest: str, info: VideoInfo) -> str:
        if not self.make_thumbnails:
            return ""
        self._progress(path, "thumbnails", 0.0)
        try:
            strip = thumbnail_strip(
                path, digest, data_dir=self.settings.data_dir, duration_seconds=info.duration_seconds
            )
        except (RecordingError, OSError) as exc:
            return f" (no thumbnails: {exc})"
        self._progress(path, "thumbnails", 1.0)
        return f", {len(strip)} thumbnails"

    # -- manifest and people ----------------------------------------------------------------
    def _manifest_entry(self, path: Path) -> ManifestEntry:
        sources: list[tuple[str, list[ManifestEntry]]] = []
        if self.explicit is not None:
            sources.append(self.explicit)
        else:
            candidates = dict.fromkeys(
                [(path.parent / MANIFEST_NAME).resolve(), (self.settings.recordings_dir / MANIFEST_NAME).resolve()]
            )
            for candidate in candidates:
                loaded = self._load(candidate)
                if isinstance(loaded, ManifestError):
                    raise RecordingError(f"{path.name} cannot be described: {loaded}")
                if loaded is not None:
                    sources.append((str(candidate), loaded))
        if not sources:
            raise RecordingError(
                f"{path.name} has no manifest: add a row for {path.name} to a manifest "
                f"({MANIFEST_NAME} in its folder, or pass --manifest CSV)."
            )
        resolved = path.resolve()
        for _, entries in sources:
            by_path = [e for e in entries if e.path == resolved]
            if by_path:
                return by_path[0]
        for where, entries in sources:
            by_name = [e for e in entries if Path(e.file).name == path.name]
            if len(by_name) == 1:
                return by_name[0]
            if len(by_name) > 1:
                raise RecordingError(
                    f"{path.name}: {where} has {len(by_name)} rows for a file of that name "
                    f"({', '.join(e.file for e in by_name)}); ingest it from the folder its row names."
                )
        names = " or ".join(where for where, _ in sources)
        raise RecordingError(
            f"{path.name} is not in the manifest: add a row for {path.name} to the manifest ({names})."
        )

    def _load(self, candidate: Path) -> list[ManifestEntry] | ManifestError | None:
        key = candidate.resolve()
        if key not in self._manifests:
            if not key.is_file():
                self._manifests[key] = None
            else:
                try:
                    self._manifests[key] = load_manifest(key)
                except ManifestError as exc:
                    self._manifests[key] = exc
        return self._manifests[key]

    def _tutor_id(self, display_name: str) -> int:
        if self._people is None:
            self._people = {}
            # People with the tutor role win over namesakes without it; the oldest wins a tie.
            everyone = sorted(self.store.list_people(), key=lambda p: (not p.has_role(Role.TUTOR), p.id))
            for person in everyone:
                self._people.setdefault(person.display_name, person.id)
        if display_name not in self._people:
            self._people[display_name] = self.store.add_person(display_name, [Role.TUTOR]).id
        return self._people[display_name]


def _explicit_manifest(
    manifest: Path | str | Sequence[ManifestEntry] | None,
) -> tuple[str, list[ManifestEntry]] | None:
    if manifest is None:
        return None
    if isinstance(manifest, (str, Path)):
        return str(manifest), load_manifest(Path(manifest))
    return "the manifest given", list(manifest)
