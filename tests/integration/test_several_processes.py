"""Several app processes on one database behave as one app: what one signs, another honours
(sign-in sessions, recording links, idle expiry and sign-out); and the embedded SQLite
database refuses a second app process, saying to use PostgreSQL.

Each "process" here is its own Services over its own engine, as a process has; the SQLite
refusal runs a real second process."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_rater.cli.main import main as cli
from session_rater.errors import AuthError, ConfigurationError
from session_rater.settings import load_settings
from session_rater.usecases.demo import DEMO_PASSWORD, demo_email
from session_rater.usecases.instance import hold_embedded_database, release_embedded_database
from session_rater.usecases.recording_links import signed_recording_path, verify
from session_rater.usecases.services import Services, open_services

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, database_url: str | None, name: str) -> dict[str, str]:
    env = {
        "SESSION_RATER_DATA_DIR": str(tmp_path / name),  # each machine its own data folder
        "SESSION_RATER_RECORDINGS_DIR": str(REPO / "sample_sessions"),
        "SESSION_RATER_RUBRICS_DIR": str(REPO / "rubrics"),
        "SESSION_RATER_IDLE_MINUTES": "30",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@pytest.fixture
def two_processes(own_postgres_url: str, tmp_path: Path) -> Iterator[tuple[Services, Services]]:
    """Two app processes on two machines: one PostgreSQL, no SESSION_RATER_SECRET set."""
    first = open_services(load_settings(_env(tmp_path, own_postgres_url, "machine-a")), load_demo=True)
    second = open_services(load_settings(_env(tmp_path, own_postgres_url, "machine-b")), load_demo=False)
    yield first, second
    first.close()
    second.close()


@pytest.mark.postgres
def test_a_recording_link_signed_by_one_process_is_honoured_by_another(two_processes: tuple[Services, Services]) -> None:
    first, second = two_processes
    assert first.secret == second.secret  # generated once, into the database they share
    path = signed_recording_path(first.secret, 7, 3)
    query = dict(part.split("=") for part in path.split("?")[1].split("&"))
    assert verify(second.secret, 7, query["p"], query["exp"], query["sig"])
    assert first.streamlit_cookie_secret() == second.streamlit_cookie_secret()


@pytest.mark.postgres
def test_a_sign_in_made_through_one_process_is_valid_on_the_other_and_sign_out_ends_it_everywhere(
    two_processes: tuple[Services, Services],
) -> None:
    first, second = two_processes
    token, signed = first.accounts.sign_in(demo_email("Helen Price"), DEMO_PASSWORD)
    assert second.accounts.resume(token).person.id == signed.person.id
    second.accounts.sign_out(token)
    with pytest.raises(AuthError):
        first.accounts.resume(token)


@pytest.mark.postgres
def test_idle_expiry_holds_on_every_process(two_processes: tuple[Services, Services]) -> None:
    first, second = two_processes
    token, _ = first.accounts.sign_in(demo_email("Helen Price"), DEMO_PASSWORD)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)
    second.accounts.clock = lambda: later  # the other process, 31 minutes on
    with pytest.raises(AuthError, match="(?i)inactiv|idle|signed out|again"):
        second.accounts.resume(token)
    with pytest.raises(AuthError):
        first.accounts.resume(token)  # ended in the database, so here too


def test_a_second_app_process_on_the_embedded_sqlite_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, None, "data")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from session_rater.usecases.process import shared_services; "
         "shared_services(); print('serving', flush=True); sys.stdin.read()"],
        env={**os.environ, **env, "SESSION_RATER_DEMO": "0", "SESSION_RATER_IN_APP_WORKER": "0"},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "serving"
        settings = load_settings(env)
        with pytest.raises(ConfigurationError, match="use PostgreSQL") as refused:
            hold_embedded_database(settings)
        assert f"pid {holder.pid}" in str(refused.value)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert cli(["serve", "--headless"]) == 1  # refused before it starts a server
        assert "use PostgreSQL" in capsys.readouterr().err
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(20)
        holder.stdout.close()
    hold_embedded_database(settings)  # the first process has gone: the database is free again
    release_embedded_database(settings)


@pytest.mark.postgres
def test_a_rubric_version_added_through_one_process_is_used_by_the_other(
    two_processes: tuple[Services, Services], tmp_path: Path
) -> None:
    import shutil

    from session_rater.usecases.permitted import Permitted
    from session_rater.usecases.rubric_versions import follow_rubric_changes, save_new_version

    first, second = two_processes
    rubrics = tmp_path / "rubrics"  # the shared rubrics folder
    shutil.copytree(REPO / "rubrics", rubrics)
    for svc in (first, second):
        object.__setattr__(svc, "settings", load_settings({**_env(tmp_path, svc.settings.database_url, "x"),
                                                           "SESSION_RATER_RUBRICS_DIR": str(rubrics)}))  # fmt: skip
    old = first.rubrics()[0]
    text = (rubrics / "think-first-video-monitoring.yaml").read_text(encoding="utf-8")
    text = text.replace(f'version: "{old.version}"', 'version: "99.0"', 1)
    admin = next(p for p in first.store.list_people() if p.display_name == "Dev Sharma")
    outcome = save_new_version(first, Permitted(first, admin), text, "edited in the app")
    assert outcome.kind == "saved", outcome.messages

    assert second.rubrics()[0].version == old.version  # not read yet ...
    assert follow_rubric_changes(second)  # ... and read on its next page run
    assert second.rubrics()[0].version == "99.0"
    assert not follow_rubric_changes(second)  # once
