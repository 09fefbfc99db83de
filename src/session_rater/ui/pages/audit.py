"""Audit: the audit team enters or imports the audit's marks, sees the scoring summary and the
IQR, with the evidence Session Rater holds beside the monitoring criteria (C1), and downloads
the summary as a PDF and the marks as CSV (what ``session-rater audit-score`` reads)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from session_rater.domain.access import Action
from session_rater.domain.audit_scoring import AuditInstrument, format_half_up
from session_rater.errors import FileContentError, SessionRaterError
from session_rater.ui.downloads import download_link
from session_rater.ui.state import allowed, page_start, query_int
from session_rater.ui.text import plain
from session_rater.usecases.audits import Audits, ScoredAudit, entered_marks_to_csv

__all__ = ["render"]

NEW = 0
NOT_GIVEN = ""


def _marks_table(instrument: AuditInstrument, marks_csv: str | None, audits: Audits) -> pd.DataFrame:
    given = {}
    if marks_csv:
        try:
            _, marks = audits.parse(marks_csv, instrument.mandatory, "the saved marks")
            given = {m.criterion_id: m for m in marks}
        except FileContentError:
            given = {}
    rows = []
    for c in instrument.criteria:
        m = given.get(c.id)
        rows.append({"criterion_id": c.id, "title": c.title,
                     "mark": NOT_GIVEN if m is None else ("N/A" if m.mark is None else str(m.mark)),
                     "carried_over": bool(m and m.carried_over), "note": m.note if m else ""})  # fmt: skip
    return pd.DataFrame(rows)


def _editor(audits: Audits, chosen: ScoredAudit | None) -> None:
    instrument = audits.instrument(chosen.mark_set.mandatory if chosen else None)
    key = f"audit:{chosen.mark_set.id if chosen else NEW}"
    with st.form(f"{key}:form"):
        c1, c2 = st.columns(2)
        areas = audits.areas()
        title = c1.text_input("Audit", value=chosen.mark_set.title if chosen else "",
                              placeholder="e.g. Follow-up audit, November 2002", max_chars=200)  # fmt: skip
        area = c2.text_input("Area audited", value=chosen.mark_set.area if chosen else (areas[0] if areas else ""),
                             max_chars=200, help="The probation area: its sessions give the evidence beside C1")  # fmt: skip
        mandatory = st.multiselect("Mandatory criteria (count double)", instrument.criterion_ids,
                                   default=list(instrument.mandatory),
                                   help="Set by the Performance Standards Manual, which the shipped instrument does not "
                                   "include: none is mandatory unless you name them.")  # fmt: skip
        upload = st.file_uploader("Import a marks CSV (criterion_id,mark[,carried_over,note])", type=["csv"],
                                  help="Replaces the marks below. The format of audits/README.md, as "
                                  "`session-rater audit-score` reads it.")  # fmt: skip
        marks_scale = ", ".join(f"{p.value} {p.label}" for p in reversed(instrument.scale))
        st.caption(f"Marks: {marks_scale}; N/A for a criterion not assessed (left out). Carried over: fully met at the "
                   "previous audit and not re-assessed. Every criterion needs a mark.")  # fmt: skip
        table = st.data_editor(
            _marks_table(instrument, chosen.mark_set.marks_csv if chosen else None, audits), key=f"{key}:editor",
            hide_index=True, width="stretch", disabled=["criterion_id", "title"], num_rows="fixed",
            column_config={
                "criterion_id": st.column_config.TextColumn("Criterion", width="small"),
                "title": st.column_config.TextColumn("Title", width="medium"),
                "mark": st.column_config.SelectboxColumn(
                    "Mark", options=[NOT_GIVEN, "N/A", *[str(p.value) for p in reversed(instrument.scale)]],
                    help="; ".join(f"{p.value} = {p.label}" for p in instrument.scale) + "; N/A = not assessed"),
                "carried_over": st.column_config.CheckboxColumn("Carried over"),
                "note": st.column_config.TextColumn("Note", width="large", max_chars=1000),
            },
        )  # fmt: skip
        if st.form_submit_button("Score and save", type="primary", icon=":material/save:"):
            text = upload.getvalue().decode("utf-8-sig", errors="replace") if upload is not None else entered_marks_to_csv(
                (r.criterion_id, r.mark, bool(r.carried_over), r.note) for r in table.itertuples(index=False))
            try:
                saved = audits.save(title=title, area=area, marks_csv=text, mandatory=mandatory,
                                    mark_set_id=chosen.mark_set.id if chosen else None)  # fmt: skip
            except FileContentError as exc:
                st.error(plain(f"{exc.problem_count} problem(s); nothing was saved:") + "\n"
                         + "\n".join(f"- {plain(e)}" for e in exc.errors))  # fmt: skip
                return
            except SessionRaterError as exc:
                st.error(plain(f"{exc} Nothing was saved."))
                return
            st.query_params["audit"] = str(saved.mark_set.id)
            st.session_state.pop(f"{key}:editor", None)
            st.rerun()


def _summary(audits: Audits, scored: ScoredAudit) -> None:
    score, ms = scored.score, scored.mark_set
    st.subheader(plain(f"{ms.title} · {ms.area}"))
    left, right = st.columns([1, 2])
    left.metric("Implementation Quality Rating", f"{score.iqr_rounded}%", border=True,
                help=f"{format_half_up(score.exact_iqr, 2)} before rounding. {score.arithmetic}")  # fmt: skip
    right.dataframe(pd.DataFrame([{
        "Section": f"{s.id} {s.title}", "Marks": s.marks, "Max": s.maximum, "%": float(format_half_up(s.exact_percent)),
        "Weight": f"{s.weight}%", "Weighted": float(format_half_up(s.exact_weighted)),
    } for s in score.sections]), hide_index=True, width="stretch",
        column_config={"%": st.column_config.NumberColumn(format="%.1f%%")})  # fmt: skip
    st.caption(plain(" ".join(s.arithmetic for s in score.sections) + " " + score.arithmetic))
    if score.mandatory:
        not_met = ", ".join(score.mandatory_not_fully_met) or "none"
        st.write(plain(f"Mandatory: {', '.join(score.mandatory)}. Not fully met: {not_met}."))
    else:
        st.caption("No criterion is marked mandatory (the Performance Standards Manual designates them); with "
                   "mandatory criteria the IQR may differ.")  # fmt: skip
    st.markdown("**What Session Rater holds on monitoring (beside C1)**")
    evidence = audits.c1_evidence(ms.area)
    st.markdown("\n".join(f"- {plain(line)}" for line in evidence.lines))
    c1 = [r for r in score.criteria if r.criterion.id.startswith("C1.")]
    if c1:
        st.dataframe(pd.DataFrame([{"Criterion": r.criterion.id, "Title": r.criterion.title,
                                    "Mark": score.not_applicable_label if r.mark.mark is None
                                    else f"{r.mark.mark} {score.label(r.mark.mark)}", "Note": r.mark.note}
                                   for r in c1]), hide_index=True, width="stretch")  # fmt: skip
    d1, d2, _ = st.columns([1, 1, 3])
    download_link("Download PDF", "audit-summary.pdf", {"audit": str(ms.id)}, container=d1,
                  help="The scoring summary: the IQR's arithmetic, every criterion, the evidence beside C1")  # fmt: skip
    download_link("Download CSV", "audit-marks.csv", {"audit": str(ms.id)}, container=d2,
                  help="The marks, as session-rater audit-score reads them")  # fmt: skip


def render() -> None:
    _, me = page_start()
    st.title("Audit scoring")
    if not allowed(me, Action.MANAGE_AUDIT):
        return
    audits = Audits(me)
    sets = {s.id: s for s in audits.mark_sets()}
    options = [NEW, *sets]
    wanted = query_int("audit")
    chosen_id = st.selectbox("Audit", options, index=options.index(wanted) if wanted in sets else (1 if sets else 0),
                             format_func=lambda i: "New audit: enter or import marks" if i == NEW
                             else f"{sets[i].title} · {sets[i].area} (saved {sets[i].updated_at:%d/%m/%Y})")  # fmt: skip
    if chosen_id == NEW:
        st.query_params.pop("audit", None)
        _editor(audits, None)
        return
    st.query_params["audit"] = str(chosen_id)
    try:
        scored = audits.scored(chosen_id)
    except SessionRaterError as exc:
        st.error(plain(exc))
        return
    _summary(audits, scored)
    with st.expander("Change the marks"):
        _editor(audits, scored)
