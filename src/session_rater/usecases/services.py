"""Use cases that tie settings, rubric files, storage and the domain core together.

Pages and the CLI call these; they never touch SQLAlchemy or YAML themselves.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import pandas as pd

from session_rater.usecases.accounts import Accounts
from session_rater.db.accounts_store import AccountsStore
from session_rater.db.engine import make_engine, migrate, one_process_at_a_time
from session_rater.db.media_store import MediaStore
from session_rater.db.sampling_store import SamplingStore
from session_rater.db.ratings import SubmittedScore
from session_rater.db.store import Store
from session_rater.domain.media import PlaybackView
from session_rater.domain.records import PersonView, RatingView, RecordingView
from session_rater.domain import compare
from session_rater.domain.model import Capacity, ScoreRecord
from session_rater.domain.rubric import Rubric
from session_rater.domain.access import Actor, SessionScope
from session_rater.errors import NotFoundError, RecordingMissingError
from session_rater.usecases.ingest import IngestReport, ingest, recording_thumbnails
from session_rater.domain.versions import version_sort_key
from session_rater.io.rubric_files import RubricCatalog, load_rubric_dir
from session_rater.io.spreadsheets import write_csv_rows
from session_rater.settings import Settings, load_settings
from session_rater.usecases.instance import rubrics_generation, signing_key, streamlit_cookie_secret

DEFAULT_RUBRIC_ID = "think-first-video-monitoring"
EXPORT_COLUMNS = [
    "session_id",
    "tutor_id",
    "rater_id",
    "rater_role",
    "rubric_id",
    "rubric_version",
    "item_id",
    "score",
    "submitted_at",
]


@dataclass
class Services:
    settings: Settings
    store: Store
    media: MediaStore
    catalog: RubricCatalog
    secret: bytes = field(repr=False)
    rubrics_generation: str | None = field(default=None, repr=False)  # as read (usecases.instance)
    accounts_store: AccountsStore = field(init=False, repr=False)
    sampling: SamplingStore = field(init=False, repr=False)
    accounts: Accounts = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.accounts_store = AccountsStore(self.store.engine)
        self.sampling = SamplingStore(self.store.engine)
        self.accounts = Accounts(self.accounts_store, self.store,
                                 idle=dt.timedelta(minutes=self.settings.idle_minutes))

    # -- rubrics ----------------------------------------------------------------------------
    def rubrics(self) -> list[Rubric]:
        """The newest valid version of every rubric file, the default first."""
        latest = self.catalog.all_latest()
        return sorted(latest, key=lambda r: (r.id != DEFAULT_RUBRIC_ID, r.title))

    def rubric_of(self, rating: RatingView) -> Rubric:
        """The rubric exactly as it was when the rating was made."""
        return self.store.rubric_version(rating.rubric_id, rating.rubric_version)

    # -- recordings -------------------------------------------------------------------------
    def recording_path(self, recording: RecordingView) -> Path:
        path = Path(recording.file_path)
        return path if path.is_absolute() else self.settings.recordings_dir / path

    def require_recording_file(self, recording: RecordingView) -> Path:
        path = self.recording_path(recording)
        if recording.files_deleted_at is not None:
            raise RecordingMissingError(
                f"The recording of {recording.label} was deleted on {recording.files_deleted_at:%d/%m/%Y} under the "
                f"retention policy ({recording.files_deleted_note}). Its ratings are kept and can still be viewed."
            )
        if not path.is_file():
            raise RecordingMissingError(
                f"The recording of {recording.label} is missing: it was expected at {path}. "
                "Put the file back there (or re-ingest it); its ratings are kept and can still be viewed."
            )
        return path

    def thumbnails(self, recording: RecordingView, playback: PlaybackView | None = None) -> list[tuple[float, Path]]:
        """The recording's timeline frames as (seconds, image file), made at ingest or by the
        conversion worker; empty until then (a page never runs ffmpeg)."""
        strip = recording_thumbnails(
            recording.id, media_store=self.media, settings=self.settings, generate=False, playback=playback
        )
        return [(t.seconds, t.path) for t in strip]

    def playback(self, recording: RecordingView) -> PlaybackView:
        """Whether the recording can be played now (or is queued, converting, failed, missing)."""
        return self.media.playback(recording.id)

    # -- who may do what ---------------------------------------------------------------------
    def actor(self, person: PersonView) -> Actor:
        """The person as the access rules see them: their roles and what those reach (the
        teams they manage, their areas, the sessions assigned to them)."""
        scope = self.accounts_store.scope_of(person.id)
        # Validity sessions reach a rater exactly as a drawn monitoring session does (issue 10).
        validity, benchmarks = self.store.benchmark_scope(person.id)
        return Actor(person.id, frozenset(person.roles), managed_teams=scope.managed_teams,
                     areas=scope.areas, assigned_recordings=scope.assigned_recordings,
                     monitoring_assignments=scope.monitoring_assignments | validity,
                     benchmark_assignments=benchmarks)

    @staticmethod
    def session_scope(recording: RecordingView) -> SessionScope:
        return SessionScope(recording.id, recording.area or "", recording.team,
                            frozenset(t.id for t in recording.tutors))

    # -- comparison -------------------------------------------------------------------------
    def compare_session(self, recording_id: int, tutor_id: int | None) -> tuple[pd.DataFrame, list[RatingView]]:
        """Per item, each capacity's submitted score side by side (means where a capacity has
        several raters), with the spread. Item order and titles from the newest rubric used."""
        ratings = [
            r for r in self.store.ratings_of_recording(recording_id) if r.tutor_id == tutor_id
        ]
        if not ratings:
            return pd.DataFrame(), []
        rubric = max((self.rubric_of(r) for r in ratings), key=lambda rb: version_sort_key(rb.version))
        records = self._with_master_scores(self.store.score_records(recording_id=recording_id, tutor_id=tutor_id))
        table = compare.side_by_side(records, [item.id for item in rubric.items])
        table.insert(0, "item", [_item_title(rubric, i) for i in table.index])
        return table, ratings

    def compare_overall(self, rubric_id: str, reference: Capacity = Capacity.EXTERNAL) -> pd.DataFrame:
        """Mean signed difference, exact and within-one agreement of self-assessments and of
        treatment managers against ``reference``, per item and pooled (master scores stand for
        the panel), from the snapshot of the submitted scores (usecases/score_snapshot.py)."""
        from session_rater.usecases.score_snapshot import scores_frame  # it builds on these services

        scores = scores_frame(self).frame  # the process's snapshot: read once, then only what changed
        part = scores.loc[scores["rubric_id"] == rubric_id]
        capacity_of = {c.rater_role: c.value for c in Capacity}
        records = pd.DataFrame({
            "session_id": part["session_id"].to_numpy(), "tutor_id": part["tutor_id"].fillna(-1).to_numpy(dtype="int64"),
            "rater_id": part["rater_id"].to_numpy(), "capacity": part["rater_role"].map(capacity_of).to_numpy(dtype=object),
            "item_id": part["item_id"].to_numpy(dtype=object), "score": part["score"].to_numpy(),
        }, columns=compare.FRAME_COLUMNS)  # fmt: skip
        rubric = self.catalog.latest(rubric_id)
        items = [i.id for i in rubric.items]
        table = compare.bias_by_item(records, [Capacity.SELF_ASSESSMENT, Capacity.MONITORING], reference, items)
        table.insert(2, "item", [_item_title(rubric, i) for i in table["item_id"]])
        return table

    def _with_master_scores(self, records: list[ScoreRecord]) -> list[ScoreRecord]:
        """``records`` with the benchmark capacity's scores of a (session, tutor) replaced by its
        master scores where they exist (issue 10)."""
        mastered = self._master_score_rows()
        if not mastered:
            return records
        keys = {(r.session_id, r.tutor_id) for r in records}
        kept = [r for r in records if not (r.capacity is Capacity.BENCHMARK and (r.session_id, r.tutor_id) in mastered)]
        return kept + [ScoreRecord(recording_id, tutor_id, int(row["rater_id"]), Capacity.BENCHMARK,  # type: ignore[call-overload]
                                   str(row["item_id"]), None if row["score"] == "" else int(row["score"]))  # type: ignore[call-overload]
                       for (recording_id, tutor_id), rows in mastered.items() if (recording_id, tutor_id) in keys
                       for row in rows]  # fmt: skip

    # -- export -----------------------------------------------------------------------------
    def iter_export_rows(self) -> Iterator[dict[str, object]]:
        """The submitted item scores as ``export`` writes them, streamed from the database (one
        query, constant memory), each rating's items in its rubric's order."""
        order = {key: {item.id: i for i, item in enumerate(rubric.items)}
                 for key, rubric in self.store.rubric_versions().items()}  # read before the rows stream

        def place(row: SubmittedScore) -> int:
            items = order.get((row.rubric_id, row.rubric_version), {})
            return items.get(row.item_id, len(items))

        mastered = self._master_score_rows()  # master scores are the benchmark wherever they exist
        for _, rows in itertools.groupby(self.store.submitted_scores(), key=lambda r: r.rating_id):
            for row in sorted(rows, key=place):
                if row.capacity == Capacity.BENCHMARK.value and (row.recording_id, row.tutor_id) in mastered:
                    continue  # a panel member's own rating: the master scores stand for the panel
                yield {
                    "session_id": row.recording_id,
                    "tutor_id": "" if row.tutor_id is None else row.tutor_id,
                    "rater_id": row.rater_id,
                    "rater_role": Capacity(row.capacity).rater_role,
                    "rubric_id": row.rubric_id,
                    "rubric_version": row.rubric_version,
                    "item_id": row.item_id,
                    "score": "" if row.not_applicable or row.score is None else row.score,
                    "submitted_at": _iso(row.submitted_at),
                }

        for rows in mastered.values():
            yield from rows

    def _master_score_rows(self) -> dict[tuple[int, int | None], list[dict[str, object]]]:
        """(session, tutor) -> the export rows of its master scores in force (issue 10): rater
        the panel lead, rater_role ``benchmark``, in the rubric's item order."""
        found: dict[tuple[int, int | None], list[dict[str, object]]] = {}
        masters = self.store.master_scores_in_force()
        for bench in self.store.benchmarks():
            master = masters.get(bench.id)
            if master is None:
                continue
            rubric = self.store.rubric_version(bench.rubric_id, bench.rubric_version)
            order = {item.id: i for i, item in enumerate(rubric.items)}
            found[(bench.recording_id, bench.tutor_id)] = [
                {"session_id": bench.recording_id, "tutor_id": "" if bench.tutor_id is None else bench.tutor_id,
                 "rater_id": bench.panel_lead, "rater_role": Capacity.BENCHMARK.rater_role,
                 "rubric_id": bench.rubric_id, "rubric_version": bench.rubric_version, "item_id": x.item_id,
                 "score": "" if x.score is None else x.score, "submitted_at": _iso(master.agreed_at)}
                for x in sorted(master.scores, key=lambda x: order.get(x.item_id, len(order)))
            ]  # fmt: skip
        return found

    def export_rows(self) -> list[dict[str, object]]:
        return list(self.iter_export_rows())

    def export_csv(self, out: TextIO) -> int:
        """The submitted scores as long-format CSV (formula-safe), written as they are read;
        the number of rows."""
        return write_csv_rows(out, EXPORT_COLUMNS, self.iter_export_rows())

    def export_csv_text(self) -> str:
        buffer = io.StringIO()
        self.export_csv(buffer)
        return buffer.getvalue()

    def streamlit_cookie_secret(self) -> str:
        """Streamlit's cookie secret for every app process of this installation."""
        return streamlit_cookie_secret(self.secret)

    def close(self) -> None:
        """Release the database connections (a command at its end)."""
        self.store.engine.dispose()

    def ingest(self, paths: Sequence[Path | str], *, manifest: Path | None = None,
               on_progress: Callable[[Path, str, float], None] | None = None) -> IngestReport:  # fmt: skip
        """Add recordings: probe, fingerprint, register and queue what browsers cannot play."""
        return ingest(paths, manifest=manifest, store=self.store, media_store=self.media, settings=self.settings,
                      on_progress=on_progress)  # fmt: skip

    def has_demo_data(self) -> bool:
        return self.store.has_demo_data()

    def person(self, person_id: int) -> PersonView:
        return self.store.get_person(person_id)

    def recording(self, recording_id: int) -> RecordingView:
        return self.store.get_recording(recording_id)


def _iso(moment: dt.datetime | None) -> str:
    """As the ORM gave it before: SQLite hands back naive datetimes (they are UTC)."""
    if moment is None:
        return ""
    return moment.isoformat()


def _middle_frame(strip: list[tuple[float, Path]]) -> Path | None:
    return strip[len(strip) // 2][1] if strip else None


def _video_state(playback: PlaybackView | None, present: bool) -> str:
    """One word for the sessions list: can the recording be watched now?"""
    if not present:
        return "missing"
    if playback is None or playback.playable:
        return "ready"
    if playback.status in {"queued", "converting"}:
        return f"converting {playback.progress:.0%}"
    return playback.status


def _item_title(rubric: Rubric, item_id: str) -> str:
    if item_id == compare.ALL_ITEMS:
        return "All items"
    try:
        return rubric.item(item_id).title
    except KeyError:
        return f"{item_id} (not in v{rubric.version})"


def migrate_database(settings: Settings) -> None:
    """Bring the database schema up to date (``session-rater migrate``; also done at start)."""
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def open_services(settings: Settings | None = None, *, load_demo: bool | None = None) -> Services:
    """Connect, migrate the schema to the newest version, read the rubric files and, on an
    empty database with demo data enabled, load the demo data."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    migrate(engine)
    services = Services(
        settings=settings,
        store=Store(engine),
        media=MediaStore(engine),
        catalog=load_rubric_dir(settings.rubrics_dir),
        secret=signing_key(settings, engine),
        rubrics_generation=rubrics_generation(engine),
    )
    if settings.load_demo if load_demo is None else load_demo:
        with one_process_at_a_time(engine):  # several processes starting on one empty database
            if services.store.is_empty():
                from session_rater.usecases.demo import load_demo as _load_demo

                _load_demo(services)
    return services


__all__ = ["Services", "open_services", "NotFoundError", "EXPORT_COLUMNS"]
