"""Coverage counts a session as monitored when a treatment manager has submitted a monitoring
rating of it, drawn or not; a co-delivered session with one tutor rated is partly rated (and
counts as monitored), and by tutor it counts only for the tutor rated. Expected figures are
worked by hand from the four sessions below."""

from __future__ import annotations

import datetime as dt

from session_rater.domain.coverage import (
    AssignmentStatus,
    MonitoredSession,
    coverage_table,
)
from session_rater.domain.sampling import Rule, SessionFacts

TODAY = dt.date(2026, 6, 1)
ANN, BEN, CAT = 1, 2, 3


def _session(recording_id: int, tutors: tuple[int, ...], *, catch_up: bool = False) -> SessionFacts:
    return SessionFacts(recording_id, "Think First", "G1", "Cumbria", "Carlisle", recording_id,
                        dt.date(2026, 3, recording_id), catch_up, tutors)  # fmt: skip


SESSIONS = [_session(1, (ANN, BEN)), _session(2, (ANN, BEN)), _session(3, (CAT,)), _session(4, (CAT,))]
# One draw picked session 3 only, and its manager has not submitted it; sessions 1 and 2 were
# rated without a draw: session 1 for both tutors, session 2 for Ann only.
DRAWN = [AssignmentStatus(3, Rule.MONITORING, 9, None, dt.date(2026, 4, 1), rated=False)]
MONITORED = [MonitoredSession(1, frozenset({ANN, BEN})), MonitoredSession(2, frozenset({ANN}))]


def test_a_session_rated_by_a_treatment_manager_is_monitored_whether_or_not_it_was_drawn() -> None:
    row = coverage_table(SESSIONS, DRAWN, today=TODAY, by="area", period=None, monitored=MONITORED).iloc[0]
    assert (row["recorded"], row["sampled"], row["rated"], row["partly_rated"]) == (4, 1, 2, 1)
    assert row["monitored_percent"] == 50.0
    assert row["overdue"] == 1, "the drawn session is still overdue"


def test_by_tutor_a_partly_rated_session_counts_only_for_the_tutor_rated() -> None:
    table = coverage_table(SESSIONS, DRAWN, today=TODAY, by="tutor", period=None, monitored=MONITORED)
    rated = dict(zip(table["tutor"], table["rated"], strict=True))
    assert rated == {ANN: 2, BEN: 1, CAT: 0}
    assert int(table["partly_rated"].sum()) == 0


def test_without_the_monitored_sessions_only_submitted_assignments_count_as_before() -> None:
    row = coverage_table(SESSIONS, DRAWN, today=TODAY, by="area", period=None).iloc[0]
    assert (row["rated"], row["partly_rated"]) == (0, 0)
