"""The README's start command on a fresh machine: `session-rater serve` with no Streamlit
credentials in the home folder answers at once, without waiting on a terminal question."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, STARTUP_TIMEOUT_S, _healthy, _stop, free_port


def test_serve_starts_without_asking_anything_on_a_fresh_machine(tmp_path: Path) -> None:
    home = tmp_path / "home"  # no ~/.streamlit/credentials.toml: Streamlit's first run
    home.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("STREAMLIT_")}
    env.update(HOME=str(home), BROWSER="true", SESSION_RATER_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    env.pop("DISPLAY", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        # stdin stays open, as in a terminal: a question would wait on it for ever
        process = subprocess.Popen([sys.executable, "-m", "session_rater.cli", "serve", "--port", str(port),
                                    "--address", "127.0.0.1"], cwd=REPO, env=env, stdin=subprocess.PIPE,
                                   stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(f"http://127.0.0.1:{port}/_stcore/health"):
            assert process.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "serve did not answer: " + log.read_text(errors="replace")[-2000:]
            time.sleep(0.3)
        assert "Email:" not in log.read_text(errors="replace")
    finally:
        _stop(process)
        assert process.stdin is not None
        process.stdin.close()
