"""Conversion workers on several machines (here: several processes) share one queue on
PostgreSQL: every job is converted once, by one worker; a worker killed mid-job (SIGKILL: no
clean-up) has its job taken up again by another when its lease lapses, its temporary file
deleted, and the job still completes exactly once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_media_probe import make_clip  # shared clip recipes (tests/integration is on sys.path)

from session_rater.settings import load_settings
from session_rater.usecases.conversion_worker import Conversions
from session_rater.usecases.services import Services, open_services

pytestmark = pytest.mark.postgres

JOBS = 10
LEASE_SECONDS = 5
HEADER = "file,programme,group,session_number,session_title,date,site,catch_up,tutors\n"
DONE = re.compile(r"job (\d+) done \(worker (\S+), attempt (\d+)\)")


@pytest.fixture(scope="module")
def tapes(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Ten interlaced PAL tapes that must be transcoded: the first long enough to be killed
    mid-job, the others short; every one a different length, so a different recording."""
    folder = tmp_path_factory.mktemp("tapes")
    lengths = [60.0] + [2.0 + 0.2 * k for k in range(JOBS - 1)]
    return [make_clip("interlaced_pal.mpg", folder, seconds=s, as_name=f"tape-{k:02d}.mpg")
            for k, s in enumerate(lengths)]  # fmt: skip


@pytest.fixture
def env(tmp_path: Path, own_postgres_url: str, tapes: list[Path]) -> dict[str, str]:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    rows = [HEADER]
    for k, tape in enumerate(tapes, start=1):
        (recordings / tape.name).write_bytes(tape.read_bytes())
        rows.append(f"{tape.name},Think First,Carlisle TF-01,{k},Session {k},2026-02-{k:02d},Carlisle,no,Sam Rowe\n")
    (recordings / "manifest.csv").write_text("".join(rows), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESSION_RATER_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=own_postgres_url,
        SESSION_RATER_DATA_DIR=str(tmp_path / "shared"),  # the shared volume: converted copies, thumbnails
        SESSION_RATER_RECORDINGS_DIR=str(recordings),
        SESSION_RATER_DEMO="0",
        SESSION_RATER_SECRET="test-secret",
        SESSION_RATER_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def services(env: dict[str, str]) -> Iterator[Services]:
    svc = open_services(load_settings(env), load_demo=False)
    yield svc
    svc.close()


@pytest.fixture
def start_worker(env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[str], tuple[subprocess.Popen[bytes], Path]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"worker-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "session_rater.cli", "worker", "--poll", "0.2"],
                                       env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip
        started.append(process)
        return process, log

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_two_workers_convert_ten_jobs_once_each_and_a_killed_workers_job_completes_once(
    services: Services, env: dict[str, str], start_worker: Callable[[str], tuple[subprocess.Popen[bytes], Path]]
) -> None:
    report = services.ingest([services.settings.recordings_dir])
    assert len(report.job_ids) == JOBS, report.summary
    conversions = Conversions(services)
    first = min(report.job_ids)  # the long tape: the oldest job, so the first worker takes it

    workers = dict([start_worker("a"), start_worker("b")])  # process -> its log
    wait_for(lambda: conversions.job(first).status == "running" and conversions.job(first).progress > 0.1,
             90, "a worker to be part-way through the long tape")  # fmt: skip
    doomed = next(p for p in workers if p.pid == conversions.job(first).worker_pid)
    survivor = next(p for p in workers if p is not doomed)
    media = Path(env["SESSION_RATER_DATA_DIR"]) / "media"
    assert any(f".{doomed.pid}-" in p.name for p in media.glob(".*.partial*"))  # its half-written file

    doomed.send_signal(signal.SIGKILL)  # mid-job: no chance to re-queue it or clean up
    doomed.wait(10)
    assert conversions.job(first).status == "running"  # still held, until the lease lapses ...
    wait_for(lambda: all(j.status == "done" for j in conversions.jobs()), 120, "every job to be done")

    jobs = {j.id: j for j in conversions.jobs()}
    assert set(jobs) == set(report.job_ids)
    taken_over = jobs[first]
    assert taken_over.attempts == 2 and taken_over.worker_pid == survivor.pid  # ... then b took it up
    assert all(j.attempts == 1 for j in jobs.values() if j.id != first)  # no other job was run twice
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(20) == 0
    logs = "".join(log.read_text() for log in workers.values())
    assert Counter(int(job) for job, _, _ in DONE.findall(logs)) == Counter(report.job_ids)  # each done once
    assert survivor.pid in {j.worker_pid for j in jobs.values() if j.id != first}  # both workers converted
    assert list(media.glob(".*")) == []  # the killed worker's temporary file is gone
    for job in jobs.values():
        playback = services.playback(services.recording(job.recording_id))
        assert playback.status == "ready" and Path(playback.path).is_file() and playback.path == job.output_path
