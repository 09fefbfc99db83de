"""benchmarks/national_scale.py builds the national-scale database (issue 17) deterministically,
and its bulk path for recordings writes exactly the rows Store.add_recording writes."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text

from session_rater.db.engine import make_engine, migrate
from session_rater.db.store import RecordingSpec, Store
from session_rater.domain.model import Role

REPO = Path(__file__).resolve().parents[2]


def _national_scale():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("national_scale_under_test", REPO / "benchmarks" / "national_scale.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(engine, table: str) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    with engine.connect() as db:
        columns = [c for c in db.execute(text(f"select * from {table}")).keys() if c != "created_at"]
        return [tuple(r) for r in db.execute(text(f"select {', '.join(columns)} from {table} order by 1, 2"))]


def test_bulk_recordings_are_the_rows_store_add_recording_writes(tmp_path: Path) -> None:
    national_scale = _national_scale()
    specs = [
        (RecordingSpec("a.mp4", "Think First", "A00-T0-G000", 3, "Problem solving", dt.date(2025, 3, 1), "Site",
                       is_catch_up=True, area="Area 00", team="Area 00 team 0"), [1, 2]),
        (RecordingSpec("b.mp4", "Think First", "A00-T0-G000", 7, "Consequential thinking", dt.date(2025, 3, 8),
                       "Site", duration_seconds=61.5, content_hash="ab" * 32), [2, 1]),
    ]  # fmt: skip
    engines = []
    for name in ("one_at_a_time", "bulk"):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        migrate(engine)
        store = Store(engine)
        for who in ("Tutor 1", "Tutor 2"):
            store.add_person(who, [Role.TUTOR])
        if name == "bulk":
            assert national_scale.add_recordings(engine, specs) == [1, 2]
        else:
            assert [store.add_recording(spec, tutors).id for spec, tutors in specs] == [1, 2]
        engines.append(engine)
    for table in ("recordings", "recording_tutors", "audit_log"):
        assert _rows(engines[0], table) == _rows(engines[1], table), table
    assert _rows(engines[1], "recording_tutors") == [(1, 1, 0), (1, 2, 1), (2, 1, 1), (2, 2, 0)]
    assert [t.display_name for t in Store(engines[1]).get_recording(2).tutors] == ["Tutor 2", "Tutor 1"]


def test_the_same_seed_generates_the_same_database(tmp_path: Path) -> None:
    national_scale = _national_scale()
    for name in ("a", "b"):
        national_scale.generate(230, tmp_path / name, None, 17)  # 10 ratings of 23 items
    digest = national_scale.digest
    url = lambda name: f"sqlite:///{tmp_path / name / 'session_rater.db'}"  # noqa: E731
    assert digest(url("a")) == digest(url("b"))
    with sqlite3.connect(tmp_path / "a" / "session_rater.db") as db:
        assert db.execute("select count(*) from item_scores").fetchone() == (230,)
        assert db.execute("select count(*) from recordings").fetchone() == (20_006,)

    # The digest sees a single score changed.
    shutil.copytree(tmp_path / "a", tmp_path / "c")
    with sqlite3.connect(tmp_path / "c" / "session_rater.db") as db:
        db.execute("update item_scores set score = score + 1 where id = 7")
    assert digest(url("c")) != digest(url("a"))
