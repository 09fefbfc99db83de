"""EXPLAIN (ANALYZE on PostgreSQL, QUERY PLAN on SQLite) every statement that the Sessions, Rate,
Compare, My work and Audit log pages' store calls make, captured from the engine as they run
(issue 17; how migration 0011's indexes were chosen).

    .venv/bin/python benchmarks/explain_queries.py DATABASE_URL [--timing] [--only=LABEL_PART ...]

on a database made by benchmarks/national_scale.py generate (it reads one treatment manager,
one tutor and one rating to ask about)."""
import sys, re
from sqlalchemy import event, text
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from session_rater.db.engine import make_engine
from session_rater.db.store import Store, Reach
from session_rater.db.accounts_store import AccountsStore
from session_rater.db.sampling_store import SamplingStore
from session_rater.db.media_store import MediaStore
import datetime as dt

url = sys.argv[1]
engine = make_engine(url)
store, acc, samp, media = Store(engine), AccountsStore(engine), SamplingStore(engine), MediaStore(engine)
captured = []
@event.listens_for(engine, "before_cursor_execute")
def grab(conn, cursor, statement, parameters, context, executemany):
    if not statement.lstrip().upper().startswith("EXPLAIN") and not executemany:
        captured.append((statement, parameters))

pg = engine.dialect.name == "postgresql"
with engine.connect() as c:
    tm = c.execute(text("select person_id, area, team from managed_teams order by person_id limit 1")).one()
    tutor = c.execute(text("select person_id, recording_id from recording_tutors order by recording_id limit 1")).one()
    admin = c.execute(text("select p.id from people p join person_roles r on r.person_id=p.id where r.role='administrator'")).scalar()
    rec = c.execute(text("select recording_id, tutor_id, rater_id from ratings order by id limit 1")).one()

ONLY = [a.split("=", 1)[1] for a in sys.argv[2:] if a.startswith("--only=")]  # e.g. --only=retention


def run(label, fn):
    if ONLY and not any(o.lower() in label.lower() for o in ONLY):
        return
    captured.clear()
    fn()
    print(f"\n#### {label}")
    for stmt, params in list(captured):
        if stmt.strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            continue
        with engine.connect() as c:
            raw = c.connection.driver_connection
            cur = raw.cursor()
            q = ("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING " + ("ON" if "--timing" in sys.argv else "OFF") + ", SUMMARY ON) " if pg else "EXPLAIN QUERY PLAN ") + stmt
            cur.execute(q, params)
            rows = cur.fetchall()
        print("--", re.sub(r"\s+", " ", stmt)[:220])
        for r in rows:
            print("   ", r[0] if pg else r[-1])

reach_tm = Reach(tm[0], teams=frozenset({(tm[1], tm[2])}))
run("sessions page admin (count + page)", lambda: store.session_page(None, offset=0, limit=50))
run("sessions page admin page 200", lambda: store.session_page(None, offset=10000, limit=50))
run("sessions facets admin", lambda: store.session_facets(None))
run("sessions page TM", lambda: store.session_page(reach_tm, offset=0, limit=50))
run("sessions page tutor", lambda: store.session_page(Reach(tutor[0]), offset=0, limit=50))
ids = [r.id for r in store.session_page(None, offset=0, limit=50)[1]]
run("rating counts of a page", lambda: store.rating_counts(ids))
run("playback of a page", lambda: media.playback_of(ids))
run("own self-assessments", lambda: store.own_self_assessments(tutor[0], ids))
run("is_unblinded (Rate, Compare)", lambda: store.is_unblinded(rec[2], rec[0], rec[1]))
run("find_rating (Rate)", lambda: store.find_rating(rec[0], rec[1], rec[2], __import__("session_rater.domain.model", fromlist=["Capacity"]).Capacity.MONITORING))
run("has_submitted (Compare)", lambda: store.has_submitted(rec[2], rec[0], rec[1]))
run("compare session scores", lambda: store.score_records(recording_id=rec[0], tutor_id=rec[1]))
run("ratings_of_recording", lambda: store.ratings_of_recording(rec[0]))
run("audit log", lambda: acc.audit_log(limit=5000))
run("work queue (My work / coverage)", lambda: samp.work_queue(tm[0], today=dt.date.today()))
run("tm scope", lambda: acc.scope_of(tm[0]))

# -- the administration pages (Recordings, People, Audit log, Rubrics) and Coverage: migration 0014 --
from session_rater.db.retention_store import RetentionStore
from session_rater.db.sampling_store import open_assignments
from sqlalchemy import func, select

ret = RetentionStore(engine)
before = dt.date.today().replace(year=dt.date.today().year - 2)  # the default policy: two years
run("retention counts (Recordings)", lambda: ret.count_past(before, keep_while_audit_open=True))
run("retention due, first page (Recordings)", lambda: ret.past_facts(before, kept=False, keep_while_audit_open=True, limit=50))
run("retention kept, first page (Recordings)", lambda: ret.past_facts(before, kept=True, keep_while_audit_open=True, limit=50))
def _count_open():
    with engine.connect() as c:
        c.execute(select(func.count()).select_from(open_assignments().subquery())).scalar()
run("open assignments (retention, every one)", _count_open)
run("missing files check (Recordings)", lambda: store.kept_recording_files())
run("assignment statuses (Coverage: each rater's done)", lambda: samp.assignment_statuses(today=dt.date.today()))
run("submitted ratings per rubric version (Rubrics)", lambda: store.submitted_counts_by_version())
run("areas (Sessions filter, reports)", lambda: store.recording_areas())
run("audit log names (Audit log)", lambda: acc.names())
run("audit log first page of 1,000 (Audit log)", lambda: acc.audit_log(limit=1000))
run("accounts without assignments (People)", lambda: acc.accounts(with_assignments=False))
