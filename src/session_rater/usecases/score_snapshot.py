"""An incremental columnar snapshot of the submitted scores, kept in the process (issue 17).

The report pages (Over-scoring, Agreement, the area and monitoring reports) and Compare's
"across sessions" tab analyse every submitted item score. Reading them all on every change
costs seconds at national scale and grows with what is stored; here they are read once, as
numpy columns through the bulk path (:mod:`session_rater.db.score_columns`), and afterwards
only what changed is read:

* a cheap aggregate (:func:`~session_rater.db.score_columns.submitted_checksum`, the master
  scores' and the recordings' fingerprints) says whether anything changed at all;
* if the ratings that count changed, their ids (one integer column) are compared with the
  snapshot's: new ones (a submission, a submitted correction) are read with their item scores,
  those gone (the rating a correction replaced, a deletion) are dropped, and the result is
  checked against the database's checksum of the same moment (else everything is read again);
* master scores and recordings (small) are read afresh whenever their fingerprints move;
* the long-format frame itself is not built again after a delta: the rows of the ratings gone
  are dropped and those of the ratings added are built alone and put in their place by rating
  id (:func:`_append`; rebuilding the frame took 2.4-10 s at 3 million scores).

The app process reads it as it starts (:func:`warm_in_background`, from ``app.py``), so the
first visitor of a report does not wait for the first read.

:func:`scores_frame` gives the long-format frame that ``session-rater export`` writes (the
columns of :data:`session_rater.usecases.reports.COLUMNS`), row for row in the same order as
:meth:`Services.iter_export_rows`, so every figure is the same as when it was computed from
the export. The frame is shared by every visitor of the process and must not be changed in
place (filters make new frames). Nothing here needs Streamlit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, func, select

from session_rater.db import models as m
from session_rater.db.audit_models import AuditEntry
from session_rater.db.score_columns import (
    Checksum,
    ItemColumns,
    RatingColumns,
    as_moment,
    current_ratings,
    read_score_columns,
    submitted_checksum,
    submitted_since,
)
from session_rater.domain.model import Capacity
from session_rater.usecases.services import Services

COLUMNS = [
    "session_id", "tutor_id", "rater_id", "rater_role", "rubric_id", "rubric_version", "item_id", "score",
    "programme", "site", "area", "recorded_on", "quarter",
]  # fmt: skip
FULL_READ_SHARE = 0.25
"""When more than this share of the ratings changed, everything is read again (one bulk read
is then cheaper than a large delta)."""
log = logging.getLogger(__name__)
_STR = pd.DataFrame({"s": ["x"]})["s"].dtype  # pandas' default string dtype, as a frame of dicts gets it


@dataclass(frozen=True)
class Snapshot:
    """The submitted scores at one moment: ``frame`` (see the module), ``stamp`` (changes
    whenever the frame does: cache figures under it), when it was read, and how the last
    refresh was made (``"full"``, ``"delta"`` or ``"unchanged"``) with how many ratings it read."""

    frame: pd.DataFrame
    stamp: tuple[object, ...]
    read_at: dt.datetime
    refresh: str
    ratings_read: int
    seconds: float
    newest: str = ""  # the newest submission time it holds (see submissions_since)


@dataclass
class _State:
    stamp: tuple[object, ...]
    checksum: Checksum
    ratings: RatingColumns
    items: ItemColumns
    snapshot: Snapshot | None = None
    body: _Body | None = None


_STATES: dict[str, _State] = {}
_LOCKS: dict[str, threading.Lock] = {}
_SAVED: dict[str, float] = {}  # database URL -> when its snapshot was last written to disk
SAVE_EVERY = 300.0
"""Seconds between writes of a snapshot kept up to date by deltas (a full read is written at once)."""
_REGISTRY = threading.Lock()


def _fingerprints(engine: Engine, svc: Services) -> tuple[object, ...]:
    """The master scores' and the recordings' state: recordings added (count, highest id) and
    the latest change of a session's place (its area and team, audited as entity "recording";
    one step down the audit log's (entity, at) index), so an area report sees a session moved."""
    a = AuditEntry
    with engine.connect() as connection:
        recordings = tuple(connection.execute(select(func.count(), func.max(m.Recording.id))).one())
        moved = connection.execute(select(func.max(a.at)).where(a.entity == "recording")).scalar()
    return (*svc.store.master_fingerprint(), *recordings, moved)


def scores_frame(svc: Services) -> Snapshot:
    """The submitted scores as they are now, read incrementally (see the module)."""
    url = svc.settings.database_url
    engine = svc.store.engine
    started = time.perf_counter()
    checksum = submitted_checksum(engine)
    stamp = (url, checksum.key(), _fingerprints(engine, svc))
    with _REGISTRY:
        state = _STATES.get(url)
        lock = _LOCKS.setdefault(url, threading.Lock())
    if state is not None and state.snapshot is not None and state.stamp == stamp:
        return state.snapshot
    with lock:  # one refresh of a database at a time; the others then find it done
        state = _STATES.get(url)
        if state is not None and state.snapshot is not None and state.stamp == stamp:
            return state.snapshot
        how, n_read, change = "unchanged", 0, None
        if state is None:
            state = _load(svc.settings.data_dir, url)  # a snapshot written by an earlier process
        if state is None or state.checksum != checksum:
            ratings, items, checksum, how, n_read, change = _refresh(engine, state)
            stamp = (url, checksum.key(), stamp[2])
        else:
            ratings, items = state.ratings, state.items
        new = _State(stamp, checksum, ratings, items)
        mastered, recordings = svc._master_score_rows(), _recordings(svc)
        if state is not None and state.body is not None and state.body.key == stamp[2] and how != "full":
            body = state.body  # the rows of the ratings that came and went only (see _append)
            if change is not None:
                gone, new_ratings, new_items = change
                body = _append(body, gone, _body(svc, new_ratings, new_items, mastered, recordings, stamp[2]))
        else:
            body = _body(svc, ratings, items, mastered, recordings, stamp[2])
        new.body = body
        new.snapshot = Snapshot(_finish(svc, body), stamp, dt.datetime.now(dt.UTC), how, n_read,
                                time.perf_counter() - started, checksum.newest)  # fmt: skip
        with _REGISTRY:
            _STATES[url] = new
        if how == "full" or (how == "delta" and time.monotonic() - _SAVED.get(url, 0.0) > SAVE_EVERY):
            _SAVED[url] = time.monotonic()
            threading.Thread(target=_save, args=(svc.settings.data_dir, url, new), daemon=True,
                             name="score-snapshot-save").start()  # fmt: skip
        return new.snapshot


def warm_in_background(services: Callable[[], Services],
                       then: Callable[[Services], None] | None = None) -> threading.Thread:  # fmt: skip
    """Read the snapshot in a thread now (the app process calls this as it starts), so the first
    visitor of a report does not wait for the first read (about a minute at 3 million scores on
    a busy machine; a few seconds when an earlier process left its snapshot on disk); then
    ``then(services)`` in the same thread (the app: the reports' default figures)."""

    def warm() -> None:
        try:
            started = time.perf_counter()
            svc = services()
            snapshot = scores_frame(svc)
            log.info("The scores' snapshot is ready: %d rows (%s read) in %.1f s", len(snapshot.frame),
                     snapshot.refresh, time.perf_counter() - started)  # fmt: skip
            if then is not None:
                then(svc)
                log.info("The reports' default figures are ready, %.1f s after the start", time.perf_counter() - started)
        except Exception:  # the pages read it themselves then, and show what goes wrong
            log.warning("The scores' snapshot could not be read ahead of the first visitor", exc_info=True)

    thread = threading.Thread(target=warm, daemon=True, name="score-snapshot-warm")
    thread.start()
    return thread


def submissions_since(svc: Services, newest: str) -> int:
    """How many ratings were submitted (or corrections submitted) after a snapshot's ``newest``."""
    return submitted_since(svc.store.engine, newest)


def forget(database_url: str | None = None) -> None:
    """Drop the snapshot of one database (or of all): the next read is a full one."""
    with _REGISTRY:
        if database_url is None:
            _STATES.clear()
        else:
            _STATES.pop(database_url, None)


# -- on disk: a new process starts from the last snapshot and reads only what changed since -------


def snapshot_file(data_dir: Path, database_url: str) -> Path:
    """Where the snapshot of ``database_url`` is kept between processes (numpy arrays, no pickle)."""
    return data_dir / "cache" / f"scores-{hashlib.sha256(database_url.encode()).hexdigest()[:16]}.npz"


def _save(data_dir: Path, database_url: str, state: _State) -> None:
    path = snapshot_file(data_dir, database_url)
    r, i, c = state.ratings, state.items, state.checksum
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + f".{threading.get_ident()}.part")
        with part.open("wb") as handle:
            np.savez(handle, url=np.array(database_url), checksum=np.array([str(c.count), str(c.id_sum), str(c.max_id),
                     c.newest]), id=r.id, recording_id=r.recording_id, tutor_id=r.tutor_id, rater_id=r.rater_id,
                     capacity=r.capacity.astype(str), rubric_id=r.rubric_id.astype(str),
                     rubric_version=r.rubric_version.astype(str),
                     submitted_at=np.array(["" if t is None else t.isoformat() for t in r.submitted_at], dtype=str),
                     rating_id=i.rating_id, item=i.item, score=i.score, items=np.array(i.items, dtype=str))  # fmt: skip
        part.replace(path)
    except OSError:  # a read-only data folder: the snapshot lives in memory only
        log.info("The scores' snapshot could not be written to %s", path, exc_info=True)


def _load(data_dir: Path, database_url: str) -> _State | None:
    path = snapshot_file(data_dir, database_url)
    try:
        with np.load(path, allow_pickle=False) as f:
            if str(f["url"]) != database_url:
                return None
            count, id_sum, max_id, newest = (str(v) for v in f["checksum"])
            ratings = RatingColumns(
                f["id"], f["recording_id"], f["tutor_id"], f["rater_id"], f["capacity"].astype(object),
                f["rubric_id"].astype(object), f["rubric_version"].astype(object),
                np.array([dt.datetime.fromisoformat(t) if t else None for t in f["submitted_at"]], dtype=object),
            )  # fmt: skip
            items = ItemColumns(f["rating_id"], f["item"], f["score"], tuple(str(v) for v in f["items"]))
    except (OSError, KeyError, ValueError):
        return None  # none yet, or unreadable: read everything
    return _State((), Checksum(int(count), int(id_sum), int(max_id), newest), ratings, items)


_Change = tuple[np.ndarray, RatingColumns, ItemColumns]  # a delta: the ratings gone, those added and their items


def _refresh(engine: Engine, state: _State | None) -> tuple[RatingColumns, ItemColumns, Checksum, str, int,
                                                            _Change | None]:  # fmt: skip
    if state is not None and len(state.ratings):
        # The usual change is new submissions alone: ratings with ids above the snapshot's highest.
        # If they account for the whole change (count, id sum and newest submission time), no id
        # needs comparing; otherwise (a correction replaced a rating, a deletion, a refill) below.
        checksum, new_ratings, new_items = read_score_columns(engine, above=int(state.ratings.id.max()))
        moments = [t for t in (as_moment(state.checksum.newest), *new_ratings.submitted_at) if t is not None]
        if (len(state.ratings) + len(new_ratings), int(state.ratings.id.sum()) + int(new_ratings.id.sum())) == (
            checksum.count, checksum.id_sum
        ) and (max(moments) if moments else None) == as_moment(checksum.newest):
            gone = np.empty(0, dtype=np.int64)
            ratings, items = _merge(state.ratings, state.items, gone, new_ratings, new_items)
            return ratings, items, checksum, "delta", len(new_ratings), (gone, new_ratings, new_items)
    for _ in range(3):
        if state is None:
            break
        now, moments = current_ratings(engine)
        added = np.setdiff1d(now, state.ratings.id, assume_unique=True)
        if len(added) > FULL_READ_SHARE * max(len(now), 1):
            break
        kept = np.isin(state.ratings.id, now)
        if not (moments[np.searchsorted(now, state.ratings.id[kept])] == state.ratings.submitted_at[kept]).all():
            break  # an id now names another rating (the database was emptied and filled again)
        checksum, new_ratings, new_items = read_score_columns(engine, added.tolist())
        gone = np.setdiff1d(state.ratings.id, now, assume_unique=True)
        ratings, items = _merge(state.ratings, state.items, gone, new_ratings, new_items)
        if (len(ratings), int(ratings.id.sum()), int(ratings.id.max()) if len(ratings) else 0) == (
            checksum.count, checksum.id_sum, checksum.max_id
        ):
            return ratings, items, checksum, "delta", len(new_ratings), (gone, new_ratings, new_items)
        # something changed between the two reads: try again from the new state of things
    checksum, ratings, items = read_score_columns(engine)
    return ratings, items, checksum, "full", len(ratings), None


def _merge(ratings: RatingColumns, items: ItemColumns, gone: np.ndarray, new_r: RatingColumns,
           new_i: ItemColumns) -> tuple[RatingColumns, ItemColumns]:  # fmt: skip
    keep_r = ~np.isin(ratings.id, gone)
    keep_i = ~np.isin(items.rating_id, gone)
    fields = ("id", "recording_id", "tutor_id", "rater_id", "capacity", "rubric_id", "rubric_version", "submitted_at")
    merged = {f: np.concatenate([getattr(ratings, f)[keep_r], getattr(new_r, f)]) for f in fields}
    order = np.argsort(merged["id"], kind="stable")
    out_r = RatingColumns(**{f: v[order] for f, v in merged.items()})
    names = list(items.items)
    codes = {name: i for i, name in enumerate(names)}
    for name in new_i.items:
        if name not in codes:
            codes[name] = len(names)
            names.append(name)
    recode = np.array([codes[name] for name in new_i.items], dtype=np.int32)
    out_i = ItemColumns(
        np.concatenate([items.rating_id[keep_i], new_i.rating_id]),
        np.concatenate([items.item[keep_i], recode[new_i.item] if len(new_i) else new_i.item]),
        np.concatenate([items.score[keep_i], new_i.score]),
        tuple(names),
    )
    return out_r, out_i


# -- the long-format frame --------------------------------------------------------------------------


TEXT_COLUMNS = ("rater_role", "rubric_id", "rubric_version", "item_id", "programme", "site", "area", "quarter")
CATEGORICAL = True
"""The text columns as pandas categoricals (a small integer per row and each value once): at 3
million scores the frame takes about 140 MB instead of about 800 MB as string columns. Every
figure computed from it is the same (pandas groups categoricals by the values present)."""


def _strings(codes: np.ndarray, values: list[str]) -> pd.Series:
    """``values[codes]`` as pandas' string column, made in Arrow (no Python string per row), or
    as a categorical (:data:`CATEGORICAL`)."""
    if CATEGORICAL:
        return pd.Series(pd.Categorical.from_codes(codes.astype(np.int32), categories=pd.Index(values, dtype=_STR),
                                                   validate=False))  # fmt: skip
    if not len(codes):
        return pd.Series([], dtype=_STR)
    array = pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), pa.array(values, type=pa.string()))
    return pd.Series(pd.array(array.cast(pa.large_string()), dtype=_STR))


def _codes(values: np.ndarray) -> tuple[np.ndarray, list]:
    uniques, inverse = np.unique(values, return_inverse=True) if len(values) else (np.array([]), np.array([], int))
    return inverse.astype(np.int32), list(uniques)


@dataclass(frozen=True)
class _Body:
    """The rated rows of a frame (master scores not yet appended) with the recordings' columns,
    and each row's rating id (ascending: the frame's order is by rating first). A delta appends
    to it; ``key`` (the master scores' and recordings' fingerprints) says when it cannot."""

    frame: pd.DataFrame
    rating: np.ndarray
    key: tuple[object, ...]


def _frame(svc: Services, ratings: RatingColumns, items: ItemColumns) -> pd.DataFrame:
    """The rows :meth:`Services.iter_export_rows` yields, in its order, with the recordings'
    programme, site, area, date and quarter (see :func:`session_rater.usecases.reports.load_scores`)."""
    return _finish(svc, _body(svc, ratings, items, svc._master_score_rows(), _recordings(svc), ()))


def _body(svc: Services, ratings: RatingColumns, items: ItemColumns, mastered: dict, recordings: pd.DataFrame,
          key: tuple[object, ...]) -> _Body:  # fmt: skip
    """The rated rows of ``ratings`` (all, or only those a delta added) in the export's order."""
    pos = np.searchsorted(ratings.id, items.rating_id)  # each item's rating
    # the order of the export: by rating, then the item's place in its rubric, then item id
    rubric_code, rubric_keys = _codes(np.array([f"{r}\x00{v}" for r, v in zip(ratings.rubric_id, ratings.rubric_version)],
                                               dtype=object))  # fmt: skip
    versions = svc.store.rubric_versions()
    place = np.zeros((max(len(rubric_keys), 1), max(len(items.items), 1)), dtype=np.int32)
    for k, rubric_key in enumerate(rubric_keys):
        rubric = versions.get(tuple(rubric_key.split("\x00", 1)))  # type: ignore[arg-type]
        order = {item.id: i for i, item in enumerate(rubric.items)} if rubric is not None else {}
        place[k] = [order.get(name, len(order)) for name in items.items] or [0]
    item_rank = np.argsort(np.argsort(np.array(items.items, dtype=object), kind="stable"), kind="stable")
    row_place = place[rubric_code[pos], items.item] if len(items) else np.empty(0, np.int32)
    order = np.lexsort((item_rank[items.item] if len(items) else items.item, row_place, items.rating_id))
    pos, item = pos[order], items.item[order]
    score = items.score[order]
    # master scores stand for the panel: a panel member's own benchmark rating is left out
    capacity_code, capacities = _codes(ratings.capacity)
    if mastered and len(pos):
        benchmark = np.zeros(len(ratings), dtype=bool)
        forms = {(int(r), None if t == -1 else int(t)) for r, t in zip(ratings.recording_id, ratings.tutor_id)}
        hit = {form for form in forms if form in mastered}
        if hit:
            bench = np.array([c == Capacity.BENCHMARK.value for c in capacities], dtype=bool)[capacity_code]
            keys = np.array([(int(r), None if t == -1 else int(t)) in hit
                             for r, t in zip(ratings.recording_id, ratings.tutor_id)], dtype=bool)  # fmt: skip
            benchmark = bench & keys
        keep = ~benchmark[pos]
        pos, item, score = pos[keep], item[keep], score[keep]
    tutor = ratings.tutor_id[pos]
    tutor_values, tutor_inverse = np.unique(tutor, return_inverse=True)
    tutor_objects = np.array([None if t == -1 else int(t) for t in tutor_values] or [None], dtype=object)
    roles = [Capacity(c).rater_role for c in capacities]
    rubric_id_code, rubric_ids = _codes(ratings.rubric_id)
    version_code, rubric_versions = _codes(ratings.rubric_version)
    frame = pd.DataFrame({
        "session_id": ratings.recording_id[pos],
        "tutor_id": pd.Series(tutor_objects[tutor_inverse] if len(pos) else np.empty(0, object), dtype=object),
        "rater_id": ratings.rater_id[pos],
        "rater_role": _strings(capacity_code[pos], roles),
        "rubric_id": _strings(rubric_id_code[pos], rubric_ids),
        "rubric_version": _strings(version_code[pos], rubric_versions),
        "item_id": _strings(item, list(items.items)),
        "score": score,
    })  # fmt: skip
    return _Body(_with_recordings(frame, recordings), ratings.id[pos], key)


def _append(body: _Body, gone: np.ndarray, added: _Body) -> _Body:
    """``body`` without the rows of the ratings ``gone`` and with ``added``'s rows in their
    places (by rating id): the frame a full rebuild gives, at the cost of the change (a
    rebuild sorted and built every column of millions of rows again)."""
    parts = [body.frame, added.frame]
    rating = body.rating
    if len(gone):
        keep = ~np.isin(body.rating, gone)
        if not keep.all():
            parts[0], rating = body.frame.loc[keep], body.rating[keep]
    frame = _concat(parts) if len(added.rating) else parts[0].reset_index(drop=True)
    rating = np.concatenate([rating, added.rating])
    if len(added.rating) and len(rating) > len(added.rating) and added.rating[0] < rating[-len(added.rating) - 1]:
        order = np.argsort(rating, kind="stable")  # a draft older than the newest rating submitted now
        frame, rating = frame.take(order).reset_index(drop=True), rating[order]
    return _Body(frame, rating, body.key)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one after the other, text columns kept categorical (their categories the
    sorted union of the frames'; a category no row uses any more is kept: pandas groups by the
    values present, and dropping them would cost a pass over millions of rows per delta)."""
    frames = [f for f in frames if len(f)] or frames[:1]
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    if CATEGORICAL:
        text = [c for c in frames[0].columns if any(isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames)]
        frames = [f.copy(deep=False) for f in frames]
        for column in text:
            for f in frames:
                if not isinstance(f[column].dtype, pd.CategoricalDtype):  # a left join's text column
                    f[column] = f[column].astype("category")
            union = sorted(set().union(*(f[column].cat.categories for f in frames)))
            categories = pd.Index(union, dtype=frames[0][column].cat.categories.dtype)
            for f in frames:
                if not f[column].cat.categories.equals(categories):
                    f[column] = f[column].cat.set_categories(categories)
    return pd.concat(frames, ignore_index=True)


def _recordings(svc: Services) -> pd.DataFrame:
    with svc.store.engine.connect() as connection:
        rows = connection.execute(
            select(m.Recording.id, m.Recording.programme, m.Recording.site, m.Recording.area, m.Recording.recorded_on)
        ).all()
    recordings = pd.DataFrame(
        [(r[0], r[1], r[2], r[3] or "", r[4]) for r in rows],
        columns=["session_id", "programme", "site", "area", "recorded_on"],
    )
    recordings["quarter"] = [f"{d.year}Q{(d.month - 1) // 3 + 1}" for d in recordings["recorded_on"]]
    return recordings.sort_values("session_id", ignore_index=True)


def _finish(svc: Services, body: _Body) -> pd.DataFrame:
    """The body with the master scores after it: the frame of :func:`scores_frame`."""
    mastered = svc._master_score_rows()
    frame = body.frame
    if mastered:
        masters = pd.DataFrame([row for rows in mastered.values() for row in rows])
        masters["score"] = pd.to_numeric(masters["score"].replace("", np.nan)).astype(float)
        masters["tutor_id"] = masters["tutor_id"].map(lambda t: None if t == "" else int(t)).astype(object)
        text = ("rater_role", "rubric_id", "rubric_version", "item_id")
        masters = masters[list(frame.columns[:8])].astype({c: _STR for c in text})
        if CATEGORICAL:
            masters = masters.astype({c: "category" for c in text})
        masters = _with_recordings(masters, _recordings(svc))
        frame = _concat([frame, masters]) if len(frame) else masters.reset_index(drop=True)
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "score" else object) for c in COLUMNS})
    return frame


def _with_recordings(frame: pd.DataFrame, recordings: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame.assign(**{c: pd.Series(dtype=object) for c in COLUMNS[8:]})[COLUMNS]
    ids = recordings["session_id"].to_numpy()
    sessions = frame["session_id"].to_numpy()
    at = np.searchsorted(ids, sessions).clip(0, max(len(ids) - 1, 0))
    if not len(ids) or not (ids[at] == sessions).all():  # a score of no recording: as a left join gives it
        return frame.merge(recordings, on="session_id", how="left")[COLUMNS]
    frame = frame.copy(deep=False)
    for column in ("programme", "site", "area", "recorded_on", "quarter"):
        if CATEGORICAL and column != "recorded_on":
            codes, uniques = pd.factorize(recordings[column], sort=True)
            frame[column] = _strings(codes[at], list(uniques))
        else:
            frame[column] = recordings[column].take(at).reset_index(drop=True)
    return frame[COLUMNS]


__all__ = ["COLUMNS", "Snapshot", "forget", "scores_frame", "snapshot_file", "submissions_since", "warm_in_background"]
