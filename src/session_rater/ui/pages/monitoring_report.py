"""Monitoring report: one treatment manager, one month or quarter. Sessions monitored against
the targets, overdue work, double-rated sessions and agreement, the mean signed difference from
the benchmark with its interval, and calibration status; with a PDF."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from session_rater.domain.access import Action
from session_rater.ui.downloads import download_link
from session_rater.ui.state import allowed, page_start, query_int
from session_rater.ui.text import plain
from session_rater.usecases.monitoring_report import MonitoringReport, MonitoringReports, bias_sentence

__all__ = ["render"]

KINDS = {"month": "Month", "quarter": "Quarter"}


def _targets(r: MonitoringReport) -> None:
    t = r.targets
    st.subheader("Monitoring against the targets")
    total = r.target_lines[-1]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(f"Monitored (target {t.monitoring_percent:g}%)", f"{total.monitored} of {total.recorded}", border=True,
              help=f"Regular sessions of the manager's teams with their submitted monitoring rating. Target: "
              f"{total.target} ({t.monitoring_percent:g}% of {total.recorded}, rounded up; {t.source}).")  # fmt: skip
    c2.metric("Target met", "yes" if total.meets_target else "no", border=True)
    c3.metric(f"Catch-up monitored (1 in {t.catch_up_one_in})", f"{total.catch_up_monitored} of {total.catch_up_required}",
              border=True, help=f"Catch-up sessions monitored, of the {total.catch_up_required} required "
              f"(1 in {t.catch_up_one_in} of {total.catch_up_recorded} recorded, rounded up).")  # fmt: skip
    c4.metric("Overdue ratings", len(r.overdue), border=True,
              help=f"Sample assignments not submitted and due before {r.today:%d/%m/%Y}.")  # fmt: skip
    st.dataframe(pd.DataFrame([{
        "Team": x.team, "Recorded": x.recorded, "Monitored": x.monitored, "Target": x.target, "Target met": x.meets_target,
        "Catch-up recorded": x.catch_up_recorded, "Catch-up monitored": x.catch_up_monitored,
        "Catch-up required": x.catch_up_required, "Catch-up met": x.catch_up_compliant,
    } for x in r.target_lines]), hide_index=True, width="stretch")  # fmt: skip
    if r.sessions:
        with st.expander(f"Sessions recorded in the period ({len(r.sessions)})"):
            st.dataframe(pd.DataFrame([{"Recorded": s.recorded_on, "Session": s.label, "Team": s.team, "Tutors": s.tutors,
                                        "Catch-up": s.catch_up, "Monitored": s.monitored} for s in r.sessions]),
                         hide_index=True, width="stretch",
                         column_config={"Recorded": st.column_config.DateColumn(format="DD/MM/YYYY")})  # fmt: skip


def _overdue(r: MonitoringReport) -> None:
    st.subheader("Overdue work")
    if not r.overdue:
        st.write(f"Nothing overdue on {r.today:%d/%m/%Y}.")
        return
    st.dataframe(pd.DataFrame([{"Due": q.due_on, "Session": q.label, "Why drawn": q.reason,
                                "As": "second rater" if q.as_second_rater else "first rater",
                                "Status": q.status.replace("_", " ")} for q in r.overdue]),
                 hide_index=True, width="stretch",
                 column_config={"Due": st.column_config.DateColumn(format="DD/MM/YYYY")})  # fmt: skip


def _double(r: MonitoringReport) -> None:
    st.subheader("Double-rated sessions and agreement")
    if not r.double_rated:
        st.write("No session this manager rated in the period was rated by another rater too.")
        return
    n, exact, within = r.pooled_agreement
    st.caption(f"Over all {n} items compared: exact agreement {exact:.0%}, within one point {within:.0%}. "
               "Mean difference: this manager's score minus the other rater's.")  # fmt: skip
    st.dataframe(pd.DataFrame([{"Recorded": d.recorded_on, "Session": d.label, "Tutor": d.tutor, "Other rater": d.other,
                                "Items": d.n, "Exact": d.exact, "Within one": d.within_one, "Mean difference": d.mean_diff}
                               for d in r.double_rated]), hide_index=True, width="stretch", column_config={
        "Recorded": st.column_config.DateColumn(format="DD/MM/YYYY"),
        "Exact": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
        "Within one": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
        "Mean difference": st.column_config.NumberColumn(format="%+.2f"),
    })  # fmt: skip


def render() -> None:
    _, me = page_start()
    st.title("Monitoring report")
    if not allowed(me, Action.VIEW_MONITORING_REPORT):
        return
    reports = MonitoringReports(me)
    managers = {p.id: p for p in reports.managers()}
    if not managers:
        st.info("No treatment manager's report is yours to see.", icon=":material/info:")
        return
    ids = list(managers)
    wanted = query_int("manager")
    c1, c2, c3 = st.columns([2, 1, 1])
    manager_id = c1.selectbox("Treatment manager", ids, index=ids.index(wanted) if wanted in managers else 0,
                              format_func=lambda i: managers[i].display_name)  # fmt: skip
    st.query_params["manager"] = str(manager_id)
    kind = c2.segmented_control("Per", list(KINDS), format_func=lambda k: KINDS[k], default="quarter", required=True,
                                key="monitoring-report:kind") or "quarter"  # fmt: skip
    periods = reports.periods(manager_id, kind)
    if not periods:
        st.info(f"No session of {plain(managers[manager_id].display_name)}'s teams has been recorded yet.")
        return
    period = c3.selectbox(KINDS[kind], periods, index=periods.index(st.query_params["period"])
                          if st.query_params.get("period") in periods else 0)  # fmt: skip
    st.query_params["period"] = period
    report = reports.report(manager_id, period)
    t = report.targets
    st.caption(plain(f"{report.manager.display_name} · {report.period_text} · teams: {', '.join(report.teams) or 'none'} · "
                     f"targets: {t.monitoring_percent:g}% of recorded sessions and 1 in {t.catch_up_one_in} catch-up "
                     f"sessions ({t.source}). A session counts as monitored once this manager's rating is submitted."))  # fmt: skip
    download_link("Download PDF", "monitoring-report.pdf", {"manager": str(manager_id), "period": period},
                  help="The monitoring report as a PDF")  # fmt: skip
    _targets(report)
    _overdue(report)
    _double(report)
    st.subheader("Difference from the benchmark")
    st.write(plain(bias_sentence(report.bias)))
    st.caption(plain(f"Reference: {report.reference}. Positive means scoring above the reference (over-scoring)."))
    st.subheader("Calibration")
    st.write(plain(f"Status: {report.calibration}."))
    st.caption("Calibration against master scores is recorded separately; until it is in use every rater shows as "
               "not attempted.")  # fmt: skip
