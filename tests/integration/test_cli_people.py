"""``session-rater add-person``, ``set-password`` and ``people`` against a real database."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from session_rater import cli
from session_rater.usecases.services import open_services
from session_rater.settings import load_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATABASE_URL", "SESSION_RATER_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SESSION_RATER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SESSION_RATER_DEMO", "0")
    return tmp_path / "data"


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_the_first_administrator_is_added_from_the_command_line_and_can_sign_in(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "correct horse battery\n")
    assert cli.main(["add-person", "--name", "Ann Admin", "--email", "Ann@Example.org",
                     "--role", "administrator", "--role", "programme_manager", "--password-stdin"]) == 0
    assert "Added Ann Admin <ann@example.org>" in capsys.readouterr().out
    services = open_services(load_settings(), load_demo=False)
    assert not services.accounts.needs_first_administrator()
    _, signed = services.accounts.sign_in("ann@example.org", "correct horse battery")
    assert signed.person.roles == {"administrator", "programme_manager"}
    assert cli.main(["people"]) == 0
    assert "ann@example.org" in capsys.readouterr().out


def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "short\n")
    assert cli.main(["add-person", "--name", "B", "--email", "b@example.org", "--role", "tutor", "--password-stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert cli.main(["add-person", "--name", "C", "--email", "c@example.org", "--role", "tutor", "--no-password"]) == 0
    assert cli.main(["add-person", "--name", "C2", "--email", "C@example.org", "--role", "tutor", "--no-password"]) == 1
    assert "already has the email" in capsys.readouterr().err
    _stdin(monkeypatch, "another long one\n")
    assert cli.main(["set-password", "nobody@example.org", "--password-stdin"]) == 1
    assert "Nobody has the email" in capsys.readouterr().err
    services = open_services(load_settings(), load_demo=False)
    assert [a.person.email for a in services.accounts_store.accounts()] == ["c@example.org"]


def test_set_password_lets_a_locked_out_person_back_in(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, "first password here\n")
    cli.main(["add-person", "--name", "Dee", "--email", "dee@example.org", "--role", "tutor", "--password-stdin"])
    _stdin(monkeypatch, "second password here\n")
    assert cli.main(["set-password", "dee@example.org", "--password-stdin"]) == 0
    services = open_services(load_settings(), load_demo=False)
    services.accounts.sign_in("dee@example.org", "second password here")
