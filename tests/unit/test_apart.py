"""Long computations in a worker process (usecases/apart.py): the same result as in the calling
process, its exceptions raised in the caller, and a worker that dies does not lose the result."""

from __future__ import annotations

import os

import pytest

from session_rater.errors import ScoreError
from session_rater.usecases import apart


def where(_: object = None) -> int:
    return os.getpid()


def refuses(message: str) -> None:
    raise ScoreError(message)


def dies_outside(parent: int) -> str:
    if os.getpid() != parent:
        os._exit(3)  # the worker killed (for memory, say)
    return "computed in the caller"


def test_the_computation_runs_in_another_process_and_returns_its_result() -> None:
    assert apart.run_apart(where) != os.getpid()
    assert apart.run_apart(sorted, [3, 1, 2]) == [1, 2, 3]


def test_an_error_in_the_worker_is_raised_in_the_caller_with_its_message() -> None:
    with pytest.raises(ScoreError, match="no scores to analyse"):
        apart.run_apart(refuses, "no scores to analyse")


def test_a_worker_that_dies_is_replaced_and_the_figure_computed_here_instead() -> None:
    assert apart.run_apart(dies_outside, os.getpid()) == "computed in the caller"
    assert apart.run_apart(where) != os.getpid()  # a new worker for the next one


def test_a_worker_importing_the_app_script_again_starts_nothing_of_the_server() -> None:
    """spawn imports the main script in each worker as ``__mp_main__``, and during a page run
    Streamlit makes app.py the main script: the worker must not start the warm-up (which opened
    the database and read every score again in the worker) nor the routes."""
    import runpy
    import threading
    from pathlib import Path

    app = Path(__file__).resolve().parents[2] / "app.py"
    before = {t.name for t in threading.enumerate()}
    names = runpy.run_path(str(app), run_name="__mp_main__")
    assert "app" not in names and "warm_in_background" not in names
    assert {t.name for t in threading.enumerate()} - before == set()


def test_a_worker_ends_when_the_app_process_is_killed() -> None:
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    app = subprocess.Popen([sys.executable, "-c", (
        "import time\n"
        "from session_rater.usecases.apart import run_apart\n"
        "if __name__ == '__main__':\n"
        "    run_apart(time.sleep, 120)\n")])  # fmt: skip
    try:
        workers: list[int] = []
        for _ in range(300):  # the worker started and busy
            children = Path(f"/proc/{app.pid}/task/{app.pid}/children").read_text().split()
            workers = [int(c) for c in children
                       if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")]  # fmt: skip
            if workers:
                break
            time.sleep(0.1)
        assert workers, "no worker process was started"
        app.send_signal(signal.SIGKILL)
        app.wait(10)
        for _ in range(100):
            if not any(Path(f"/proc/{w}").exists() and "spawn_main" in Path(f"/proc/{w}/cmdline").read_text(
                    errors="replace") for w in workers):  # fmt: skip
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"the worker {workers} outlived the killed app process")
    finally:
        if app.poll() is None:
            app.kill()


def niceness() -> int:
    return os.nice(0)


def test_a_worker_runs_below_the_app_s_priority() -> None:
    assert apart.run_apart(niceness) == os.nice(0) + apart.NICENESS
