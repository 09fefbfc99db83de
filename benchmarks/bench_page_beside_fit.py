"""A report page's server run alone, beside a Rasch fit in a thread of the app, and beside the
same fit in a worker process (issue 17: why the long figures are computed apart).

    .venv/bin/python benchmarks/bench_page_beside_fit.py --data /tmp/ns-300k-copy [--page overscoring] [--runs 6]

--data is a data folder ``national_scale.py generate`` built (it is opened and migrated: give a
copy). The page runs in Streamlit's AppTest, signed in as the national data's administrator,
with its figures computed first (the app's warm-up), so each run measures the page itself.
Prints the median and each run's seconds for the three conditions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--page", default="overscoring", help="the page's url path")
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    os.environ["SESSION_RATER_DATA_DIR"] = str(args.data)
    os.environ["SESSION_RATER_DEMO"] = "0"
    from streamlit.testing.v1 import AppTest
    from streamlit.util import calc_hash

    from session_rater.ui import analysis_data as ad
    from session_rater.ui.auth import TOKEN_KEY
    from session_rater.usecases.analysis.dependability import assess_dependability
    from session_rater.usecases.apart import run_apart
    from session_rater.usecases.process import shared_services
    from session_rater.usecases.score_snapshot import scores_frame

    svc = shared_services()
    ad.warm_default_figures(svc)
    token, _ = svc.accounts.sign_in("admin@national.example", "national-scale")
    scores = scores_frame(svc).frame
    scores = scores[scores["score"].notna()]

    def runs() -> list[float]:
        times = []
        for _ in range(args.runs):
            at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
            at.session_state[TOKEN_KEY] = token
            at._page_hash = calc_hash(args.page)
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
            if at.exception:
                raise SystemExit(f"the page failed: {at.exception[0].message}")
        return times

    def beside(fit) -> list[float]:  # type: ignore[no-untyped-def]
        stop = threading.Event()

        def fitting() -> None:
            while not stop.is_set():
                fit(scores)

        thread = threading.Thread(target=fitting, daemon=True)
        thread.start()
        time.sleep(3)  # the fit under way
        try:
            return runs()
        finally:
            stop.set()

    runs()  # the first run imports the pages
    results = {
        "alone": runs(),
        "beside a Rasch fit in a thread": beside(assess_dependability),
        "beside a Rasch fit in a worker process": beside(lambda s: run_apart(assess_dependability, s)),
    }
    print(f"{args.page}, {len(scores):,} answered scores, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    for label, times in results.items():
        print(f"  {label:42} median {statistics.median(times):.2f} s  ({', '.join(f'{t:.2f}' for t in times)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
