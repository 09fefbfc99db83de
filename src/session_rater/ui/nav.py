"""The app's pages, in one place: app.py routes with them (by section), pages link with them."""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from session_rater.ui.text import plain
from session_rater.domain.access import Action
from session_rater.errors import SessionRaterError

if TYPE_CHECKING:
    from session_rater.usecases.permitted import Permitted


log = logging.getLogger("session_rater.ui")

ACCESSIBLE_STYLE = """<style>
/* Streamlit's caption grey is 3.88:1 on white; captions here carry information (WCAG 1.4.3: 4.5:1). */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stWidgetLabel"] [data-testid="stCaptionContainer"] { color: #4a4d57 !important; opacity: 1 !important; }
/* The help icons and placeholder text of inputs, also faint by default. */
[data-testid="stTooltipIcon"] svg { color: #4a4d57 !important; }
input::placeholder, textarea::placeholder { color: #5f626b !important; opacity: 1; }
/* Date inputs: each day, month and year part is a 18 x 20 px target; WCAG 2.5.8 asks for 24 x 24. */
.react-aria-DateField [role="spinbutton"] { display: inline-flex !important; align-items: center; justify-content: center;
  min-width: 24px !important; min-height: 24px !important; }
.react-aria-DateField [data-type="literal"] { padding: 0 !important; }
</style>"""


def guarded(render: Callable[[], None], title: str = "") -> Callable[[], None]:
    """A page that never shows a traceback: an error the app expects (a StorageError when the
    database cannot be written, say) is shown as its message; anything else as a plain note
    with a reference, the details going to the server log. Streamlit's own control flow
    (st.stop, st.rerun, st.switch_page) passes through: it is not an Exception."""

    @functools.wraps(render)
    def page() -> None:
        if title:  # each page its own document title (WCAG 2.4.2), read first by screen readers
            st.set_page_config(page_title=f"{title} · Session Rater")
        try:
            render()
        except SessionRaterError as exc:
            st.error(plain(exc), icon=":material/error:")
        except Exception:
            reference = secrets.token_hex(4)
            log.exception("page %s failed (reference %s)", render.__module__, reference)
            st.error(
                "Something went wrong on this page, and it could not be shown. Nothing you had already saved "
                f"was lost. Reload the page to try again; if it happens again, give your administrator the "
                f"reference {reference} (the details are in the server's log).",
                icon=":material/error:",
            )

    return page


def menu(me: Permitted | None = None) -> dict[str, list[st.Page]]:
    """The pages by section for st.navigation. Pages ``me`` has no use for are hidden, not
    left out: a link to one still opens it, and the page says why it is refused (each page
    checks again: hiding is never the check)."""
    from session_rater.ui.pages import (
        agreement,
        area_report,
        assignments_admin,
        audit,
        audit_log,
        benchmarks,
        calibration,
        compare,
        coverage,
        monitoring_report,
        overscoring,
        people_admin,
        queue,
        rate,
        recordings_admin,
        rubrics_admin,
        sampling,
        sessions,
        supervision,
    )
    from session_rater.domain.model import Role

    everyone = me is None
    reports = everyone or bool(me.decide(Action.VIEW_REPORTS))
    overseer = everyone or bool(me.decide(Action.VIEW_COVERAGE))
    admin = everyone or me.is_admin()
    supervises = everyone or any(me.actor.has(r) for r in (Role.TUTOR, Role.TREATMENT_MANAGER, Role.PROGRAMME_MANAGER,
                                                           Role.ADMINISTRATOR))  # fmt: skip
    monitoring_reports = everyone or bool(me.decide(Action.VIEW_MONITORING_REPORT))
    area_reports = everyone or bool(me.decide(Action.VIEW_AREA_REPORT))
    audits = everyone or bool(me.decide(Action.MANAGE_AUDIT))
    calibrates = everyone or bool(me.decide(Action.MANAGE_CALIBRATION))  # Benchmark: managers, and a panel's members
    on_a_panel = calibrates or bool(benchmarks.panels_of(me))
    sections = {
        "Rating": [
            (True, sessions.render, "Sessions", ":material/video_library:", None),  # the default page, at /
            (True, queue.render, "My work", ":material/assignment:", "queue"),
            (True, rate.render, "Rate", ":material/rate_review:", "rate"),
            (True, compare.render, "Compare", ":material/compare_arrows:", "compare"),
            (supervises, supervision.render, "Supervision", ":material/record_voice_over:", "supervision"),
        ],
        "Monitoring": [
            (overseer, coverage.render, "Coverage", ":material/monitoring:", "coverage"),
            (overseer, sampling.render, "Sampling", ":material/casino:", "sampling"),
            (monitoring_reports, monitoring_report.render, "Monitoring report", ":material/fact_check:",
             "monitoring-report"),
        ],
        "Reports": [
            (reports, overscoring.render, "Over-scoring", ":material/balance:", "overscoring"),
            (reports, agreement.render, "Agreement", ":material/handshake:", "agreement"),
            (area_reports, area_report.render, "Area report", ":material/summarize:", "area-report"),
            (audits, audit.render, "Audit", ":material/gavel:", "audit-scoring"),
        ],
        "Benchmark": [
            (on_a_panel, benchmarks.render, "Benchmarks", ":material/verified:", "benchmarks"),
            (calibrates, calibration.render, "Calibration", ":material/tune:", "calibration"),
        ],
        "Administration": [
            (admin, recordings_admin.render, "Recordings", ":material/movie:", "recordings"),
            (admin, people_admin.render, "People", ":material/group:", "people"),
            (admin, assignments_admin.render, "Assignments", ":material/assignment_ind:", "assignments"),
            (admin, rubrics_admin.render, "Rubrics", ":material/checklist:", "rubrics"),
            (admin, audit_log.render, "Audit log", ":material/history:", "audit"),
        ],
    }
    shown: dict[str, list[st.Page]] = {}
    hidden: list[st.Page] = []
    for section, entries in sections.items():
        for visible, render, title, icon, url_path in entries:
            extra = {"default": True} if url_path is None else {"url_path": url_path}
            page = guarded(render, title)
            if visible:
                shown.setdefault(section, []).append(st.Page(page, title=title, icon=icon, **extra))
            else:
                hidden.append(st.Page(page, title=title, icon=icon, visibility="hidden", **extra))
    return {**shown, **({"": hidden} if hidden else {})}


def pages(me: Permitted | None = None) -> list[st.Page]:
    return [page for section in menu(me).values() for page in section]


def goto(url_path: str, **params: object) -> None:
    """Switch to a page with query parameters."""
    target = next(p for p in pages() if p.url_path == url_path)
    query = {k: str(v) for k, v in params.items() if v is not None}
    st.switch_page(target, query_params=query)
