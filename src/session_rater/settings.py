"""Every setting of Session Rater, in one table that the README, the CLI and the tests read.

Settings come from environment variables. Nothing here touches the disk or the database at
import time: call :func:`load_settings` when you need them.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from session_rater.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The repository root (the package is installed in editable mode from ``src/``)."""


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    description: str


SETTINGS_TABLE: tuple[Setting, ...] = (
    Setting(
        "SESSION_RATER_DATA_DIR",
        "./data",
        "Folder for the embedded SQLite database and the app's secret key. Created if missing.",
    ),
    Setting(
        "DATABASE_URL",
        "sqlite:///<data dir>/session_rater.db",
        "SQLAlchemy URL of the database. Leave unset for the embedded SQLite file; for a team use "
        "PostgreSQL, e.g. postgresql+psycopg://user:password@host:5432/session_rater.",
    ),
    Setting(
        "SESSION_RATER_RECORDINGS_DIR",
        "./sample_sessions",
        "Folder the recordings are read from. Never served statically: the app streams each file "
        "through its own signed, expiring URL.",
    ),
    Setting(
        "SESSION_RATER_RUBRICS_DIR",
        "./rubrics",
        "Folder of rubric YAML files (one checklist per file).",
    ),
    Setting(
        "SESSION_RATER_POLICIES_DIR",
        "./policies",
        "Folder of sampling policy YAML files (see policies/README.md).",
    ),
    Setting(
        "SESSION_RATER_DEMO",
        "1",
        "1: load the demo sessions, people and ratings into an empty database at first start. 0: start empty.",
    ),
    Setting(
        "SESSION_RATER_IDLE_MINUTES",
        "30",
        "Minutes without activity after which a signed-in session ends and the person signs in again.",
    ),
    Setting(
        "SESSION_RATER_TRUSTED_PROXIES",
        "(none)",
        "Addresses or networks (comma-separated, e.g. 127.0.0.1,10.0.0.0/8) of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Host headers are believed. Unset: the address that connects is "
        "the client's. Set it to your proxy's address, or everyone behind the proxy looks like one client.",
    ),
    Setting(
        "SESSION_RATER_SECRET",
        "(generated into the data dir)",
        "Key that signs recording URLs, viewer cookies and Streamlit's own cookies. Unset: on SQLite it is "
        "generated into the data dir; on PostgreSQL it is generated once into the database and shared by every "
        "app process. Set it to the same value everywhere to keep it out of the database.",
    ),
    Setting(
        "SESSION_RATER_IN_APP_WORKER",
        "1",
        "1: each app process runs conversion jobs in the background. 0: it does not; run `session-rater worker` "
        "on the machines that should.",
    ),
    Setting(
        "SESSION_RATER_JOB_LEASE_SECONDS",
        "60",
        "How long a conversion worker holds a job without renewing its lease (it renews every second while "
        "it works). A killed worker's job is taken up again this long after its last renewal. 5 to 3600.",
    ),
    Setting(
        "SESSION_RATER_ACCEL_REDIRECT",
        "(empty)",
        "Behind nginx: the internal location that sends recording files itself (X-Accel-Redirect), e.g. "
        "/_session_rater_files; the app still checks and logs every request. Empty: the app streams them.",
    ),
    Setting(
        "SESSION_RATER_RETENTION_POLICY",
        "./retention/default.yaml",
        "The retention policy file: how long recordings are kept (see retention/README.md).",
    ),
    Setting(
        "SESSION_RATER_CERTIFICATION_RULE",
        "./calibration/default.yaml",
        "The certification rule file: when a calibration round certifies a rater, for how long (see calibration/README.md).",
    ),
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    recordings_dir: Path
    rubrics_dir: Path
    policies_dir: Path
    load_demo: bool
    secret: str | None
    idle_minutes: int = 30
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    in_app_worker: bool = True
    job_lease_seconds: int = 60
    retention_policy: Path = PROJECT_ROOT / "retention" / "default.yaml"
    accel_redirect: str = ""
    certification_rule: Path = PROJECT_ROOT / "calibration" / "default.yaml"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def _networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"SESSION_RATER_TRUSTED_PROXIES: {part!r} is not an IP address or network; give addresses or "
                "networks separated by commas, e.g. 127.0.0.1,10.0.0.0/8."
            ) from None
    return tuple(networks)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = _path(env.get("SESSION_RATER_DATA_DIR", "./data"))
    database_url = env.get("DATABASE_URL", "").strip()
    if not database_url:
        database_url = f"sqlite:///{data_dir / 'session_rater.db'}"
    elif database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if not (database_url.startswith("sqlite") or database_url.startswith("postgresql")):
        raise ConfigurationError(
            f"DATABASE_URL={database_url!r} is not supported: use a sqlite:/// path or a "
            "postgresql:// URL (or leave it unset for the embedded SQLite file)."
        )
    demo = env.get("SESSION_RATER_DEMO", "1").strip().lower()
    if demo not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigurationError(f"SESSION_RATER_DEMO={demo!r}: use 1 (load demo data) or 0.")
    idle = env.get("SESSION_RATER_IDLE_MINUTES", "30").strip()
    if not idle.isdigit() or not 1 <= int(idle) <= 24 * 60:
        raise ConfigurationError(
            f"SESSION_RATER_IDLE_MINUTES={idle!r}: give a whole number of minutes from 1 to 1440."
        )
    in_app_worker = env.get("SESSION_RATER_IN_APP_WORKER", "1").strip().lower()
    if in_app_worker not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigurationError(
            f"SESSION_RATER_IN_APP_WORKER={in_app_worker!r}: use 1 (the app converts) or 0 (workers do)."
        )
    lease = env.get("SESSION_RATER_JOB_LEASE_SECONDS", "60").strip()
    if not lease.isdigit() or not 5 <= int(lease) <= 3600:
        raise ConfigurationError(
            f"SESSION_RATER_JOB_LEASE_SECONDS={lease!r}: give a whole number of seconds from 5 to 3600."
        )
    accel = env.get("SESSION_RATER_ACCEL_REDIRECT", "").strip()
    if accel and (not accel.startswith("/") or any(c in accel for c in "?#\\ ")):
        raise ConfigurationError(
            f"SESSION_RATER_ACCEL_REDIRECT={accel!r}: give the proxy's internal location, e.g. /_session_rater_files."
        )
    return Settings(
        trusted_proxies=_networks(env.get("SESSION_RATER_TRUSTED_PROXIES", "")),
        accel_redirect=accel,
        in_app_worker=in_app_worker in {"1", "true", "yes"},
        job_lease_seconds=int(lease),
        retention_policy=_path(env.get("SESSION_RATER_RETENTION_POLICY", "./retention/default.yaml")),
        certification_rule=_path(env.get("SESSION_RATER_CERTIFICATION_RULE", "./calibration/default.yaml")),
        idle_minutes=int(idle),
        data_dir=data_dir,
        database_url=database_url,
        recordings_dir=_path(env.get("SESSION_RATER_RECORDINGS_DIR", "./sample_sessions")),
        rubrics_dir=_path(env.get("SESSION_RATER_RUBRICS_DIR", "./rubrics")),
        policies_dir=_path(env.get("SESSION_RATER_POLICIES_DIR", "./policies")),
        load_demo=demo in {"1", "true", "yes"},
        secret=env.get("SESSION_RATER_SECRET") or None,
    )
