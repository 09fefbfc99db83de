"""Calibration (issue 10): the certification rule in force, in words; calibration rounds (master-
scored benchmarks, raters, a due date) with each rater's progress; every rater's status and the
figures of their latest attempt; and a rater's drift chart against the master scores.

The figures and the statuses are :class:`~session_rater.usecases.calibration.Calibration`'s
(the same as ``session-rater calibration``). :func:`status_words` and :func:`rater_calibrations`
are shared with the People, Coverage and Over-scoring pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import altair as alt
import pandas as pd
import streamlit as st

from session_rater.domain.access import Action
from session_rater.domain.calibration import CertificationRule, DriftChart
from session_rater.domain.calibration.records import BenchmarkState
from session_rater.errors import SessionRaterError
from session_rater.ui.report_widgets import TEXT, figure, signed, small
from session_rater.ui.state import allowed, page_start, pick_by_id
from session_rater.ui.text import plain
from session_rater.usecases.calibration import Calibration, RaterCalibration, rule_in_force
from session_rater.usecases.calibration_status import status_label
from session_rater.usecases.permitted import Permitted

__all__ = ["rater_calibrations", "render", "rule_words", "status_words"]

FLASH_KEY = "calibration:flash"


def status_words(r: RaterCalibration | None) -> str:
    """A rater's status in a few words: "Certified until 03/12/2027", with "ends within N days"
    when it ends soon; "Not certified"; "Certification expired on ..."; "Recalibration due"; "Not attempted"."""
    if r is None:
        return status_label("not_attempted")
    s = r.status
    until = f"{s.certified_until:%d/%m/%Y}" if s.certified_until else ""
    if s.status == "certified":
        warning = s.latest.rule.expiry_warning_days if s.latest else 30
        return f"Certified until {until}" + (f" (ends within {warning} days)" if s.expiring_soon else "")
    if s.status == "expired":
        return f"Certification expired on {until}"
    if s.status == "recalibration_due":
        since = f" (drift since {s.drift_since:%d/%m/%Y})" if s.drift_since else ""
        return f"Recalibration due{since}; certified until {until}"
    return status_label(s.status)


def rater_calibrations(me: Permitted) -> dict[int, RaterCalibration] | None:
    """Each rater's calibration by person id, for someone who may see it (programme managers and
    administrators); None for anyone else, or when the rule file cannot be read."""
    if not me.decide(Action.MANAGE_CALIBRATION):
        return None
    try:
        return {r.rater_id: r for r in Calibration(me).statuses()}
    except SessionRaterError:
        return None


def rule_words(rule: CertificationRule) -> str:
    return (f"A rater is certified when, over a calibration round, their scores are within one point of the master "
            f"scores on at least {rule.within_one_min:.0%} of items and their mean difference from the master scores "
            f"is at most {rule.abs_bias_max:g} points either way. A certificate lasts {rule.valid_months} months; one "
            f"ending within {rule.expiry_warning_days} days is flagged. A certified rater whose drift chart leaves its "
            f"limits (plus or minus {rule.abs_bias_max:g} points) is due to recalibrate.")  # fmt: skip


def _percent(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


# -- statuses --------------------------------------------------------------------------------------
def _status_table(raters: list[RaterCalibration]) -> None:
    rows = []
    for r in raters:
        f = r.figures
        rows.append({"rater": r.name, "roles": ", ".join(x.replace("_", " ") for x in r.roles),
                     "status": status_words(r),
                     "certified until": f"{r.status.certified_until:%d/%m/%Y}" if r.status.certified_until else "–",
                     "ends soon": "yes" if r.status.expiring_soon else "",
                     "within one": _percent(f.within_one if f else None), "exact": _percent(f.exact if f else None),
                     "mean difference": signed(f.mean_bias if f else None), "items": f.n_items if f else 0})  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="calibration:statuses", column_config={
        "rater": "Rater", "roles": "Roles", "status": st.column_config.TextColumn("Status", width="medium"),
        "certified until": "Certified until",
        "ends soon": st.column_config.TextColumn("Ends within 30 days", help="The certificate ends within the rule's "
                                                 "warning period: plan a calibration round"),
        "within one": st.column_config.TextColumn("Within one", help="Share of items within one point of the master "
                                                  "score, in the latest calibration round"),
        "exact": st.column_config.TextColumn("Exact", help="Share of items with exactly the master score"),
        "mean difference": st.column_config.TextColumn("Mean difference", help="Rater minus master, mean over the "
                                                       "items (positive: scores above the benchmark)"),
        "items": st.column_config.NumberColumn("Items", help="Items compared in the latest calibration round"),
    })  # fmt: skip


def _drift(chart: DriftChart, name: str) -> None:
    if not chart.points:
        st.caption(plain(f"{name} has rated no master-scored benchmark session yet: no drift chart."))
        return
    data = pd.DataFrame([{"date": p.on.isoformat(), "session": p.difference, "EWMA": p.ewma,
                          "outside": "outside the limits" if p.outside else "within the limits"}
                         for p in chart.points])  # fmt: skip
    base = alt.Chart(data).encode(x=alt.X("date:T", title="Benchmark session rated", axis=alt.Axis(format="%d/%m/%Y")))
    points = base.mark_point(filled=True, size=50, color="#6b6b76").encode(
        y=alt.Y("session:Q", title="Rater minus master (points)"),
        tooltip=[alt.Tooltip("date:T"), alt.Tooltip("session:Q", format="+.2f"), alt.Tooltip("EWMA:Q", format="+.2f")])
    line = base.mark_line(point=True, color="#1f5fa6").encode(y="EWMA:Q")
    limits = alt.Chart(pd.DataFrame({"y": [chart.limit, -chart.limit, 0.0],
                                     "kind": ["upper limit", "lower limit", "no difference"]}))
    rules = limits.transform_filter(alt.datum.kind != "no difference").mark_rule(strokeDash=[6, 4], color="#b3261e").encode(
        y="y:Q", tooltip=[alt.Tooltip("kind:N", title="limit"), alt.Tooltip("y:Q", title="points", format="+.2f")])
    zero = limits.transform_filter(alt.datum.kind == "no difference").mark_rule(color=TEXT, opacity=0.4).encode(y="y:Q")
    last = chart.points[-1]
    signal = chart.first_signal
    words = (f"{name}'s difference from the master scores on {len(chart.points)} benchmark session(s) (grey points) "
             f"and its EWMA (blue line), between limits of plus and minus {chart.limit:g} points (red dashes). "
             f"The EWMA is now {signed(last.ewma)} points"
             + (f"; it first left the limits on {signal:%d/%m/%Y}." if signal else ", within the limits throughout."))
    table = pd.DataFrame([{"date": f"{p.on:%d/%m/%Y}", "rater minus master": signed(p.difference),
                           "EWMA": signed(p.ewma), "within the limits": "no" if p.outside else "yes"}
                          for p in chart.points])  # fmt: skip
    figure((rules + zero + points + line).properties(height=260), words=words, table=table,
           table_label="The drift chart's figures")
    small(f"**Method:** {plain(chart.method)}. The limits are the certification rule's, not 3-sigma limits: a rater "
          "rates few benchmark sessions a year, too few to estimate their own variability.")


# -- rounds ----------------------------------------------------------------------------------------
def _rounds(cal: Calibration, names: Mapping[int, str]) -> None:
    rounds = cal.rounds()
    if not rounds:
        st.caption("No calibration rounds yet.")
        return
    for rnd in rounds:
        with st.container(border=True):
            st.markdown(f"**{plain(rnd.title)}** · due {rnd.due_on:%d/%m/%Y} · {len(rnd.benchmark_ids)} benchmark "
                        f"session(s): {', '.join(str(b) for b in rnd.benchmark_ids)} · made {rnd.created_at:%d/%m/%Y}")
            rows = []
            for rater, done, attempt in cal.round_progress(rnd.id):
                if attempt is None:
                    result = "not complete" + (" (overdue)" if rnd.due_on < dt.date.today() else "")
                else:
                    result = ("met the rule" if attempt.passed else "did not meet the rule") + f" on {attempt.completed_on:%d/%m/%Y}"
                within = f"{attempt.within_one_count / attempt.n_items:.0%}" if attempt and attempt.n_items else "–"
                bias = signed(attempt.difference_sum / attempt.n_items) if attempt and attempt.n_items else "–"
                rows.append({"Rater": names.get(rater, f"person {rater}"),
                             "Benchmarks rated": f"{done} of {len(rnd.benchmark_ids)}", "Result": result,
                             "Within one": within, "Mean difference": bias})  # fmt: skip
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"calibration:round:{rnd.id}")


def _new_round(cal: Calibration, raters: list[RaterCalibration], names: Mapping[int, str]) -> None:
    ready = {b.id: b for b in cal.benchmarks() if b.state is BenchmarkState.MASTER_SCORED}
    if not ready:
        st.caption("No benchmark session has agreed master scores yet: a round needs at least one.")
        return
    people = {r.rater_id: r.name for r in raters}
    with st.form("calibration:new_round", border=True):
        title = st.text_input("Title", placeholder="e.g. Spring calibration")
        due = st.date_input("Due on", value=dt.date.today() + dt.timedelta(days=28), format="DD/MM/YYYY")
        benches = st.multiselect("Benchmark sessions (master scored)", list(ready),
                                 format_func=lambda b: f"Benchmark {b} · session {ready[b].recording_id}",
                                 placeholder="Choose one or more")  # fmt: skip
        chosen = st.multiselect("Raters", list(people), format_func=lambda p: people[p], placeholder="Choose the raters")
        submitted = st.form_submit_button("Create the round", type="primary", icon=":material/add_task:")
    if not submitted:
        return
    try:
        rnd = cal.create_round(title, due, benches, chosen)
    except SessionRaterError as exc:
        st.error("No round was created. " + plain(exc), icon=":material/error:")
        return
    st.session_state[FLASH_KEY] = (f"Created the round {rnd.title}: {len(rnd.rater_ids)} rater(s), due "
                                   f"{rnd.due_on:%d/%m/%Y}. Each rates its benchmark sessions blind on the Rate page.")
    st.rerun()


def render() -> None:
    svc, me = page_start()
    st.title("Calibration")
    if not allowed(me, Action.MANAGE_CALIBRATION):
        return
    cal = Calibration(me)
    try:
        rule = rule_in_force(svc)
    except SessionRaterError as exc:
        st.error("The certification rule file cannot be read, so no status can be given: " + plain(exc),
                 icon=":material/error:")  # fmt: skip
        return
    if message := st.session_state.pop(FLASH_KEY, None):
        st.success(plain(message), icon=":material/check_circle:")
    names = me.people_names()
    st.markdown(f"**The rule in force** ({plain(rule.title)}, version {plain(rule.version)}): {plain(rule_words(rule))}")
    raters = cal.statuses()
    st.subheader("Raters' calibration", divider="gray")
    small("Treatment managers, external assessors and tutors. The figures are those of each rater's latest "
          "calibration round, rater against master scores; each round is judged by the rule in force when it was completed.")
    _status_table(raters)
    by_id = {r.rater_id: r for r in raters}
    charted = [r.rater_id for r in raters if r.drift.points]
    if charted and "rater" not in st.query_params:  # open on a chart with something on it
        st.query_params["rater"] = str(max(charted, key=lambda i: (by_id[i].status.latest is not None,
                                                                     len(by_id[i].drift.points))))
    if by_id:
        chosen = pick_by_id(st, "Drift chart of", by_id, lambda r: r.name, param="rater", required=True,
                            key="calibration:rater")  # fmt: skip
        if chosen is not None:
            r = by_id[chosen]
            st.markdown(f"**{plain(r.name)}**: {plain(status_words(r))}.")
            _drift(r.drift, r.name)
    st.subheader("Calibration rounds", divider="gray")
    _rounds(cal, names)
    st.subheader("Make a calibration round", divider="gray")
    _new_round(cal, raters, names)
