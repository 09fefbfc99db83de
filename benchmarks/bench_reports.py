"""The report pages' figures at national scale, before and after one new submission (issue 17).

    .venv/bin/python benchmarks/bench_reports.py --data /tmp/copy-of-ns-300k [--path snapshot|export]

Opens the database of --data (a national_scale.py database: work on a copy, the app migrates
what it opens) and prints, for each step, the seconds it took and the process's peak RSS so far:

* ``load``: every submitted score as the report pages' long-format frame, through ``--path``
  ``snapshot`` (the bulk columnar read and incremental snapshot, usecases/score_snapshot.py) or
  ``export`` (the way it was read before: Services.export_rows, one dict per row);
* each page's figures from it: Over-scoring and Agreement (the analysis report, split into its
  stages, the trend by quarter, rater pairs), the area report, the monitoring report, Compare's
  "across sessions" tab;
* then one new rating is submitted (an external assessor's, through Store.add_ratings) and a
  correction of another, and the load and the fast figures are timed again.

Each --path runs in its own process so that peak RSS is that path's alone.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _step(name: str, compute):  # type: ignore[no-untyped-def]
    clock = time.perf_counter()
    result = compute()
    print(f"{name:<42} {time.perf_counter() - clock:8.2f} s   peak RSS {_rss_mb():7.0f} MB", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--path", choices=("snapshot", "export"), default="snapshot")
    parser.add_argument("--heavy", action="store_true", help="also time the G study and Rasch model (analyse)")
    parser.add_argument("--load-only", action="store_true", help="time only the loads (cold, unchanged, after)")
    args = parser.parse_args()
    os.environ["SESSION_RATER_DATA_DIR"] = str(args.data)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url

    from session_rater.db.ratings import ItemEntry, RatingSpec
    from session_rater.domain.bias import pair_with_benchmark
    from session_rater.domain.model import Capacity, Role
    from session_rater.settings import load_settings
    from session_rater.usecases import reports
    from session_rater.usecases.area_report import AreaReports
    from session_rater.usecases.monitoring_report import MonitoringReports
    from session_rater.usecases.permitted import Permitted
    from session_rater.usecases.services import open_services

    svc = open_services(load_settings(), load_demo=False)
    admin = next(p for p in svc.store.list_people() if Role.ADMINISTRATOR.value in p.roles)
    me = Permitted(svc, admin)
    programme_manager = next(p for p in svc.store.list_people() if Role.PROGRAMME_MANAGER.value in p.roles
                             and Role.ADMINISTRATOR.value not in p.roles)  # fmt: skip
    viewers = [("administrator", me), ("programme manager", Permitted(svc, programme_manager))]
    load = reports.load_scores if args.path == "snapshot" else reports.load_scores_from_export
    rubric = svc.rubrics()[0]

    def pages(scores, label: str, heavy: bool) -> None:  # type: ignore[no-untyped-def]
        def fast_report():  # type: ignore[no-untyped-def]
            paired = pair_with_benchmark(scores)
            from session_rater.domain.bias import estimate_bias

            return estimate_bias(paired, n_boot=reports.N_BOOT, seed=reports.SEED)

        _step(f"{label} over-scoring: bias and intervals", fast_report)
        _step(f"{label} over-scoring: trend by quarter", lambda: reports.bias_by_period(scores, "quarter"))
        _step(f"{label} agreement: rater pairs", lambda: reports.pairwise_agreement(
            scores, categories=reports.scale_of(svc, scores)))  # fmt: skip
        _step(f"{label} monitored sessions", lambda: reports.monitored_sessions(scores))
        if heavy:
            report = _step(f"{label} analysis report (every stage)", lambda: reports.analyse_scores(svc, scores))
            for stage, seconds in report.timings.items():
                print(f"    {stage:<38} {seconds:8.2f} s")
        for who, viewer in viewers:
            area = _step(f"{label} area report page: areas ({who})", lambda: AreaReports(viewer).areas())[0]
            _step(f"{label} area report ({area}, {who})", lambda: AreaReports(viewer).report(area))
            reports_ = MonitoringReports(viewer)
            manager = _step(f"{label} monitoring page: managers ({who})", reports_.managers)[0]
            period = _step(f"{label} monitoring page: periods ({who})",
                           lambda: reports_.periods(manager.id, "quarter"))[0]  # fmt: skip
            _step(f"{label} monitoring report ({who})", lambda: reports_.report(manager.id, period))
        _step(f"{label} compare across sessions", lambda: svc.compare_overall(rubric.id))

    print(f"{args.data}  path={args.path}")
    scores = _step("cold: load every score", lambda: load(svc))
    print(f"    {len(scores)} rows, frame {scores.memory_usage(deep=True).sum() / 1e6:.0f} MB")
    _step("cold: load again (nothing changed)", lambda: load(svc))
    if not args.load_only:
        pages(scores, "cold:", args.heavy)

    # one new submission (an assessor who has not rated the form) and a submitted correction,
    # the forms found in the frame (not through the ORM: 130 k ratings at 3 M scores)
    from session_rater.usecases import score_snapshot

    frame = score_snapshot.scores_frame(svc).frame
    assessors = [p.id for p in svc.store.list_people() if Role.EXTERNAL_ASSESSOR.value in p.roles]
    row = frame.iloc[0]
    session, tutor = int(row["session_id"]), None if row["tutor_id"] is None else int(row["tutor_id"])
    taken = set(frame.loc[frame["session_id"] == session, "rater_id"])
    rater = next(a for a in assessors if a not in taken)
    entries = {item.id: ItemEntry(score=(i % 3) + 1) for i, item in enumerate(rubric.items)}
    svc.store.add_ratings([RatingSpec(session, tutor, rater, Capacity.EXTERNAL, entries)], rubric)
    other = frame.iloc[-1]
    old = svc.store.find_rating(int(other["session_id"]), None if other["tutor_id"] is None else int(other["tutor_id"]),
                                int(other["rater_id"]), next(c for c in Capacity if c.rater_role == other["rater_role"]))
    new = svc.store.correct_rating(old.id, "benchmark: a correction", actor_id=old.rater_id)
    svc.store.submit_rating(new.id, confirm_uniform=True, actor_id=old.rater_id)
    del frame
    scores = _step("after a submission: load every score", lambda: load(svc))
    print(f"    {len(scores)} rows")
    if not args.load_only:
        pages(scores, "after:", False)
    svc.close()


if __name__ == "__main__":
    main()
