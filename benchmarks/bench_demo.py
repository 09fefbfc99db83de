"""How long the demo takes to load: ``session-rater demo`` on a fresh data folder (migrations and
the demo), then again (remove it and load it afresh), and the copy the UI tests make of it.

    .venv/bin/python benchmarks/bench_demo.py [--repeat 3]

Each run is a new process, as a person running the command gets; the figure is the wall time of
the whole command, imports included. Target (issue 13): well under 10 s on 2 cores, for a demo
of dozens of sessions (tests/ui/conftest.py builds it once per test run and copies the folder for
each test; the copy is timed too).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMAND = "import sys; from session_rater.cli.main import main; sys.exit(main(['demo']))"


def _run(data_dir: Path) -> tuple[float, float, str]:
    """Wall time and CPU time (user + system, the command and the ffmpeg it runs) of one command."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "SESSION_RATER_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    before, started = os.times(), time.perf_counter()
    done = subprocess.run([sys.executable, "-c", COMMAND], env=env, cwd=REPO, capture_output=True, text=True, check=True)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return time.perf_counter() - started, cpu, done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    first, again, copies = [], [], []
    summary = ""
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
            data = Path(tmp) / "data"
            wall, cpu, summary = _run(data)
            first.append((wall, cpu))
            again.append(_run(data)[:2])
            started = time.perf_counter()
            shutil.copytree(data, Path(tmp) / "copy")
            copies.append((time.perf_counter() - started, float("nan")))
    print(summary)
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall time grows with it")
    print(f"{'what':<52} {'wall median':>11} {'best':>7} {'CPU median':>11}")
    for what, times in (("session-rater demo, fresh folder (migrate + load)", first),
                        ("session-rater demo again (remove + load)", again),
                        ("copy of the data folder (each UI test)", copies)):  # fmt: skip
        walls, cpus = [t[0] for t in times], [t[1] for t in times]
        cpu = statistics.median(cpus)
        cpu_text = "–" if math.isnan(cpu) else f"{cpu:.2f}s"  # the copy is not a command: no CPU time of its own
        print(f"{what:<52} {statistics.median(walls):>10.2f}s {min(walls):>6.2f}s {cpu_text:>11}")
    print("target: well under 10 s for the command")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
