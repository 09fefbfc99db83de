"""Time to draw every sampling policy's sample for 50,000 recordings across 40 areas (target:
under 1 s), and the memory it takes.

    .venv/bin/python benchmarks/bench_sampling.py [--recordings N] [--areas N] [--repeat N]

The roster is synthetic but shaped like the real thing: per area 4 sites, 12 tutors and 3
treatment managers who cover only their area (one of them also tutors, so conflicts of interest
occur); programme groups of 22 sessions (the last one shorter) delivered by two of a team of
three tutors; one session in ten a catch-up; 8 external assessors who cover every area. Every
policy file in ``policies/`` is drawn from scratch, then once more as a top-up after 5% more
recordings arrive. Building the roster (which comes from the database in real use) is timed
separately and not counted against the target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from session_rater.domain.sampling import PersonFacts, SessionFacts, draw_sample  # noqa: E402
from session_rater.io.policy_files import load_policy_dir  # noqa: E402

TARGET_SECONDS = 1.0
SESSIONS_PER_PROGRAMME = 22
DRAWN_ON = dt.date(2026, 12, 1)


def make_roster(recordings: int, areas: int, seed: int = 20021101) -> tuple[list[SessionFacts], list[PersonFacts]]:
    rng = np.random.default_rng(seed)
    people: list[PersonFacts] = []
    facts: list[SessionFacts] = []
    next_id = iter(range(1, 10**9))
    recording_id = 0
    per_area = recordings // areas
    for a in range(areas):
        area = f"Area {a:02d}"
        managers = [next(next_id) for _ in range(3)]
        tutors = [next(next_id) for _ in range(12)] + [managers[0]]  # one manager also tutors
        people += [PersonFacts(m, f"Manager {m}", frozenset({"treatment_manager"} | ({"tutor"} if m == managers[0] else set())),
                               frozenset({area})) for m in managers]  # fmt: skip
        people += [PersonFacts(t, f"Tutor {t}", frozenset({"tutor"})) for t in tutors if t != managers[0]]
        left, group = per_area + (recordings % areas if a == areas - 1 else 0), 0
        while left > 0:
            size = min(SESSIONS_PER_PROGRAMME, left)
            team = rng.choice(tutors, 3, replace=False).tolist()
            site = f"{area} site {group % 4}"
            start = dt.date(2025, 1, 6) + dt.timedelta(days=int(rng.integers(0, 600)))
            for n in range(1, size + 1):
                recording_id += 1
                pair = (team[n % 3], team[(n + 1) % 3])
                facts.append(SessionFacts(recording_id, "Think First", f"{area}/TF-{group:03d}", area, site, n,
                                          start + dt.timedelta(days=3 * n), bool(rng.random() < 0.1), pair))  # fmt: skip
            left -= size
            group += 1
    people += [PersonFacts(next(next_id), f"Assessor {i}", frozenset({"external_assessor"})) for i in range(8)]
    return facts, people


def _time(fn, repeat: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Wall-clock and CPU seconds of each run (CPU time is steadier on a busy machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recordings", type=int, default=50_000)
    parser.add_argument("--areas", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    catalog = load_policy_dir(REPO / "policies")
    if catalog.errors:
        for error in catalog.errors.values():
            print(error, file=sys.stderr)
        return 1
    policies = [catalog.latest(name) for name in catalog.names()]

    start = time.perf_counter()
    roster, people = make_roster(args.recordings, args.areas)
    built = time.perf_counter() - start
    ids = {f.recording_id for f in roster}
    more, _ = make_roster(args.recordings // 20, args.areas, seed=7)
    more = [SessionFacts(f.recording_id + max(ids), *[getattr(f, k) for k in SessionFacts.__slots__[1:]]) for f in more]
    print(f"Roster: {len(roster):,} recordings, {args.areas} areas, {len(people):,} people "
          f"(built in {built:.2f} s, not counted)")  # fmt: skip

    def draw_all(previous=None):  # type: ignore[no-untyped-def]
        return [
            draw_sample(roster if previous is None else roster + more, people, policy, seed=42, drawn_on=DRAWN_ON,
                        previous=() if previous is None else previous[i].selections)
            for i, policy in enumerate(policies)
        ]  # fmt: skip

    first = draw_all()
    fresh, fresh_cpu = _time(draw_all, args.repeat)
    top_up, top_up_cpu = _time(lambda: draw_all(first), args.repeat)

    tracemalloc.start()
    draw_all()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    print(f"Policies drawn: {', '.join(p.label for p in policies)}")
    for draw in first:
        counts: dict[str, int] = {}
        for s in draw.selections:
            counts[s.rule.label] = counts.get(s.rule.label, 0) + 1
        second = sum(s.second_rater_id is not None for s in draw.selections)
        unassigned = sum(s.rater_id is None for s in draw.selections)
        print(f"  {draw.policy_name}: {len(draw.selections):,} sessions drawn "
              f"({', '.join(f'{k} {v:,}' for k, v in counts.items())}; {second:,} double rated; "
              f"{unassigned:,} unassigned)")  # fmt: skip
    best, median = min(fresh), statistics.median(fresh)
    print(f"Draw every policy, {len(roster):,} recordings: best {best:.3f} s, median {median:.3f} s wall "
          f"(median CPU {statistics.median(fresh_cpu):.3f} s) over {args.repeat} runs "
          f"(target < {TARGET_SECONDS:.0f} s: {'met' if median < TARGET_SECONDS else 'MISSED'})")
    print(f"Top-up after {len(more):,} new recordings: best {min(top_up):.3f} s, median {statistics.median(top_up):.3f} s "
          f"wall (median CPU {statistics.median(top_up_cpu):.3f} s), "
          f"{sum(len(d.selections) for d in draw_all(first)):,} sessions added")  # fmt: skip
    print(f"Peak memory while drawing (tracemalloc): {peak / 2**20:.1f} MiB; process max RSS: {max_rss:.0f} MiB")
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
