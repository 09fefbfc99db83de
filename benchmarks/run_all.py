"""Run every benchmark in this folder, one after the other, and print their figures.

    .venv/bin/python benchmarks/run_all.py [NAME ...]     e.g. run_all.py sampling analyse

It exits non-zero, naming each benchmark that failed (its exit status), when any does: a
benchmark that cannot run (as bench_serving did when its viewer was refused) fails the run.

Each benchmark generates its own data (nothing large is kept) and prints what it measured
beside its target from the issues:

    agreement  each coefficient on 50,000 units x 4 raters vs the fastest library installed
    analyse    the full analyse report on 3 million scores with 1,000 bootstrap resamples (< 10 s, < 2 GB)
    sampling   every policy's draw for 50,000 recordings across 40 areas (< 1 s)
    media      probe + 24 thumbnails of a 2-hour file (< 3 s); MPEG-2 transcode speed (>= 5x realtime)
    auth       sign-in (argon2id), per-rerun identity and scope, a manager's sessions among 20,000
    serving    TTFB, Range seek p50/p95 (< 100 ms), server RSS with 4 streams (< +50 MB) vs st.video(path)
    rating_saves     100 raters saving scores against PostgreSQL: save p50/p95 (< 100 ms), errors, nothing lost
    demo       session-rater demo: fresh folder and reset (well under 10 s), and the UI tests' copy of it
    recording_route  100 clients streaming and seeking through nginx to 2 app processes: TTFB, seek p95,
                     memory growth of all the server processes (< 100 MB)
    score_click      a score click on the Rate page with the video playing, in Chromium, click to idle:
                     median (< 200 ms), p95 (< 400 ms), max; every clicked score saved
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["agreement", "analyse", "sampling", "auth", "media", "demo", "serving", "rating_saves", "recording_route", "score_click"]


def main(names: list[str]) -> int:
    """Run the benchmarks named (default: all, in ORDER); 0 only if every one ran and exited 0.
    A failure is named at the end (and an unknown name at once), never lost in the output."""
    unknown = [name for name in names if not (HERE / f"bench_{name}.py").is_file()]
    if unknown:
        print(f"run_all: no such benchmark: {', '.join(unknown)} (known: {', '.join(ORDER)})", file=sys.stderr)
        return 2
    failed: list[str] = []
    for name in names or ORDER:
        script = HERE / f"bench_{name}.py"
        print(f"\n=== {name} ({script.name}) ===", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], check=False).returncode
        print(f"--- {name}: {time.perf_counter() - started:.0f} s" + (f", FAILED (exit status {code})" if code else ""),
              flush=True)  # fmt: skip
        if code:
            failed.append(f"{name} (exit status {code})")
    if failed:
        print(f"\nrun_all: {len(failed)} benchmark(s) FAILED: {', '.join(failed)}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
