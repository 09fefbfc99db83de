"""The submitted item scores as columns, read through the bulk path the reports need (issue 17).

Reports over everything read millions of item scores. Through the ORM (or one dict per row)
that costs tens of seconds and gigabytes; here the driver's cursor hands back plain tuples in
batches of :data:`BATCH`, which are turned into numpy columns at once (item ids as small
integer codes), so a batch's Python objects are freed before the next one is read. Only the
columns a report needs are read, and ratings (one row per form) apart from their item scores
(23 rows per form), so the per-form columns are read once per form, not once per item.

:func:`read_score_columns` reads everything, or only the ratings given (the change since a
snapshot: :mod:`session_rater.usecases.score_snapshot`), in one read-only transaction that
also takes :func:`submitted_checksum` of what it read, so a snapshot knows exactly which state
of the database it holds. On SQLite that transaction is deferred (it never holds the write
lock raters' saves need); on PostgreSQL it is REPEATABLE READ, so the ratings and their items
come from one moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, Engine, func, or_, select

from session_rater.db import models as m
from session_rater.db.engine import READ_ONLY
from session_rater.domain.model import RatingStatus

BATCH = 100_000
"""Rows fetched from the driver at a time (bounds the Python objects alive during a read)."""


@dataclass(frozen=True)
class RatingColumns:
    """The ratings that count (submitted, current), one entry per rating, ordered by id.
    ``tutor_id`` -1 where the rating is of no tutor."""

    id: np.ndarray
    recording_id: np.ndarray
    tutor_id: np.ndarray
    rater_id: np.ndarray
    capacity: np.ndarray  # object: str
    rubric_id: np.ndarray  # object: str
    rubric_version: np.ndarray  # object: str
    submitted_at: np.ndarray  # object: datetime | None

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True)
class ItemColumns:
    """The answered item scores of those ratings: ``item`` codes into ``items``, ``score``
    NaN where "not applicable". In no particular order."""

    rating_id: np.ndarray
    item: np.ndarray
    score: np.ndarray
    items: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.rating_id)


@dataclass(frozen=True)
class Checksum:
    """What identifies the set of ratings that count: how many, the sum and the highest of
    their ids, and the newest submission time. Any submission, correction or deletion changes
    it (a correction replaces an id by a higher one)."""

    count: int
    id_sum: int
    max_id: int
    newest: str

    def key(self) -> tuple[object, ...]:
        return (self.count, self.id_sum, self.max_id, self.newest)


def _counts() -> tuple[object, ...]:
    return (m.Rating.status == RatingStatus.SUBMITTED.value, m.Rating.is_current.is_(True))


def _checksum(connection: Connection) -> Checksum:
    count, total, top, newest = connection.execute(
        select(func.count(), func.sum(m.Rating.id), func.max(m.Rating.id), func.max(m.Rating.submitted_at)).where(
            *_counts()
        )
    ).one()
    return Checksum(int(count), int(total or 0), int(top or 0), "" if newest is None else str(newest))


def submitted_checksum(engine: Engine) -> Checksum:
    """:class:`Checksum` of the ratings that count now: one aggregate query."""
    with engine.connect() as connection:
        return _checksum(connection)


def _sql(connection: Connection, statement: object) -> str:
    return str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]


def _fetch(connection: Connection, statement: object):  # type: ignore[no-untyped-def]
    """The statement's rows in batches, straight from the driver's cursor (no Row objects)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(_sql(connection, statement))
        while True:
            batch = cursor.fetchmany(BATCH)
            if not batch:
                return
            yield batch
    finally:
        cursor.close()


def _ratings(connection: Connection, ids: Sequence[int] | None, above: int | None = None) -> RatingColumns:
    query = (
        select(m.Rating.id, m.Rating.recording_id, m.Rating.tutor_id, m.Rating.rater_id, m.Rating.capacity,
               m.Rating.rubric_id, m.Rating.rubric_version, m.Rating.submitted_at)
        .where(*_counts())
        .order_by(m.Rating.id)
    )  # fmt: skip
    if ids is not None:
        query = query.where(m.Rating.id.in_(list(ids)))
    if above is not None:
        query = query.where(m.Rating.id > above)
    rows = [row for batch in _fetch(connection, query) for row in batch] if ids is None or ids else []
    cols = list(zip(*rows)) if rows else [()] * 8
    submitted = [_moment(v) for v in cols[7]]
    return RatingColumns(
        np.array(cols[0], dtype=np.int64), np.array(cols[1], dtype=np.int64),
        np.array([-1 if t is None else t for t in cols[2]], dtype=np.int64), np.array(cols[3], dtype=np.int64),
        np.array(cols[4], dtype=object), np.array(cols[5], dtype=object), np.array(cols[6], dtype=object),
        np.array(submitted, dtype=object),
    )  # fmt: skip


def as_moment(value: object) -> dt.datetime | None:
    """As the ORM gives it: SQLite's text (and a :class:`Checksum`'s ``newest``) becomes a
    (naive, UTC) datetime; "" and None are None."""
    if value is None or value == "" or isinstance(value, dt.datetime):
        return value or None  # type: ignore[return-value]
    return dt.datetime.fromisoformat(str(value))


_moment = as_moment


def _items(connection: Connection, ids: Sequence[int] | None) -> ItemColumns:
    query = select(m.ItemScore.rating_id, m.ItemScore.item_id, m.ItemScore.score, m.ItemScore.not_applicable).where(
        or_(m.ItemScore.score.is_not(None), m.ItemScore.not_applicable.is_(True))
    )
    if ids is None:
        query = query.join(m.Rating, m.Rating.id == m.ItemScore.rating_id).where(*_counts())
    else:
        query = query.where(m.ItemScore.rating_id.in_(list(ids)))
    codes: dict[str, int] = {}
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if ids is None or ids:
        for batch in _fetch(connection, query):
            rating_id, item, score, na = zip(*batch)
            item_codes = np.array([codes.setdefault(i, len(codes)) for i in item], dtype=np.int32)
            values = np.array(score, dtype=np.float64)  # None -> NaN
            values[np.array(na, dtype=bool)] = np.nan
            parts.append((np.array(rating_id, dtype=np.int64), item_codes, values))
    if not parts:
        return ItemColumns(np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.float64), tuple(codes))
    return ItemColumns(*(np.concatenate([p[k] for p in parts]) for k in range(3)), tuple(codes))  # type: ignore[arg-type]


def read_score_columns(
    engine: Engine, rating_ids: Sequence[int] | None = None, *, above: int | None = None
) -> tuple[Checksum, RatingColumns, ItemColumns]:
    """The ratings that count and their answered item scores (all, or of ``rating_ids`` only, or
    those with an id above ``above`` only), with the :class:`Checksum` of the same moment."""
    options: dict[str, object] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with engine.connect() as connection:
        connection = connection.execution_options(**options)
        with connection.begin():
            checksum = _checksum(connection)
            ratings = _ratings(connection, rating_ids, above)
            items = None if rating_ids is None and above is None else _items(connection, list(ratings.id))
            if items is None and (found := _items_through_arrow(engine, ratings.id)) is not None:
                items = found
            if items is None:
                items = _items(connection, None)
    return checksum, ratings, items


def _items_through_arrow(engine: Engine, rating_ids: np.ndarray) -> ItemColumns | None:
    """Every answered item score of ``rating_ids`` through the database's ADBC driver (Apache
    Arrow's database connectivity: the rows arrive as Arrow columns, never as Python objects),
    or None on SQLite and where the driver is not installed (the cursor path then reads them).

    3 M item scores on PostgreSQL (benchmarks/bulk_read_options.py): 1.3 s by ADBC alone, 3.8 s
    for the whole read here, against 7.9 s through the DB-API cursor into numpy. The driver reads on its own
    connection, so it reads the item scores of every *submitted* rating (a submitted rating's
    scores never change, whether or not a correction has since replaced it) and keeps those of
    the ratings read in the caller's transaction: the same moment's result."""
    try:
        import pyarrow.compute as pc

        if engine.dialect.name != "postgresql":
            # Not on SQLite: ADBC's driver links a second copy of the SQLite library into the
            # process, and when one copy closes the file it drops the POSIX locks the other
            # holds ("How To Corrupt An SQLite Database File", 2.2.3). Seen here: the app's
            # later writes vanished from other processes' view.
            return None
        import adbc_driver_postgresql.dbapi as adbc

        target = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    except ImportError:
        return None
    query = (
        select(m.ItemScore.rating_id, m.ItemScore.item_id, m.ItemScore.score, m.ItemScore.not_applicable)
        .join(m.Rating, m.Rating.id == m.ItemScore.rating_id)
        .where(m.Rating.status == RatingStatus.SUBMITTED.value,
               or_(m.ItemScore.score.is_not(None), m.ItemScore.not_applicable.is_(True)))
    )  # fmt: skip
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with adbc.connect(target) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        table = cursor.fetch_arrow_table()
    rating_id = table.column(0).to_numpy().astype(np.int64, copy=False)
    keep = np.isin(rating_id, rating_ids)
    encoded = pc.dictionary_encode(table.column(1)).combine_chunks()  # item ids as codes: no strings copied
    item = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)[keep]
    score = pc.cast(table.column(2), "float64").to_numpy(zero_copy_only=False)[keep]  # null -> NaN; a copy
    score[pc.cast(table.column(3), "bool").to_numpy(zero_copy_only=False)[keep]] = np.nan
    return ItemColumns(rating_id[keep], item, score, tuple(encoded.dictionary.to_pylist()))


def submitted_since(engine: Engine, newest: str) -> int:
    """How many of the ratings that count were submitted after ``newest`` (a :class:`Checksum`'s):
    the submissions and corrections a figure computed then does not hold yet."""
    query = select(func.count()).where(*_counts())
    if newest:
        query = query.where(m.Rating.submitted_at > _moment(newest))
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def person_names(engine: Engine) -> dict[object, str]:
    """Every person's id -> display name (the reports label raters with them)."""
    with engine.connect() as connection:
        return {pid: name for pid, name in connection.execute(select(m.Person.id, m.Person.display_name))}


def current_ratings(engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    """Ids (sorted) and submission times of every rating that counts: what a snapshot compares
    with its own to find what came and went (a submitted rating never changes, so the same id
    with the same submission time is the same rating, even where ids were reused)."""
    query = select(m.Rating.id, m.Rating.submitted_at).where(*_counts()).order_by(m.Rating.id)
    with engine.connect() as connection:
        rows = [row for batch in _fetch(connection, query) for row in batch]
    ids, moments = (list(zip(*rows)) if rows else ([], []))
    return np.array(ids, dtype=np.int64), np.array([_moment(v) for v in moments], dtype=object)


__all__ = ["BATCH", "Checksum", "ItemColumns", "RatingColumns", "as_moment", "read_score_columns",
           "current_ratings", "person_names", "submitted_since", "submitted_checksum"]  # fmt: skip
