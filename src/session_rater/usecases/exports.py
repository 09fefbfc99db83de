"""Files the pages offer for download, made on request for the signed-in person.

They are served by the app's own route (web/exports.py), which signs the person in from their
cookies first: never through Streamlit's media endpoint, whose URLs anyone holding one could
fetch, signed in or not. Each export is the same table its page shows, made by the same use
case, with the same access checks; every CSV and XLSX is formula-safe (io.spreadsheets).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from session_rater.domain.access import Action
from session_rater.errors import NotFoundError
from session_rater.usecases.permitted import Permitted

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
ORIGIN = "_origin"  # set by the route (web/exports.py): the app's address, for links inside a PDF


def _int(params: Mapping[str, str], name: str) -> int:
    try:
        return int(params.get(name, ""))
    except ValueError:
        raise NotFoundError(f"The download needs a whole number for {name!r}; open it from its page.") from None


def _date(params: Mapping[str, str], name: str) -> dt.date | None:
    value = params.get(name) or ""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise NotFoundError(f"{name}={value!r} is not a date (YYYY-MM-DD); open the download from its page.") from None


@dataclass(frozen=True)
class Export:
    file_name: str
    media_type: str
    data: bytes


def _coverage(me: Permitted, params: Mapping[str, str], kind: str) -> Export:
    from session_rater.usecases.coverage import coverage
    from session_rater.usecases.monitoring import Monitoring

    me.require(Action.VIEW_COVERAGE)
    table = coverage(Monitoring(me), by=params.get("by", "area"), period=params.get("period", "quarter"),
                     policy_label=params.get("policy"))  # fmt: skip
    if kind == "csv":
        return Export(f"{table.stem}.csv", CSV, table.csv())
    return Export(f"{table.stem}.xlsx", XLSX, table.xlsx())


def _audit_log(me: Permitted, params: Mapping[str, str]) -> Export:
    from session_rater.usecases.audit_trail import AuditTrail, LogFilters

    trail = AuditTrail(me)
    shown = trail.table(LogFilters.from_params(params))
    return Export("audit-log.csv", CSV, trail.csv(shown))


def _access_log(me: Permitted, params: Mapping[str, str]) -> Export:
    from session_rater.usecases.recordings_admin import RecordingsAdmin

    return Export("recording-access-log.csv", CSV, RecordingsAdmin(me).access_log_csv())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "report"


def _supervision(me: Permitted, params: Mapping[str, str]) -> Export:
    from session_rater.usecases.supervision import Supervision

    sup = Supervision(me)
    fb = sup.feedback(_int(params, "recording"), _int(params, "tutor"), date_from=_date(params, "from"),
                      date_to=_date(params, "to"))  # fmt: skip
    name = f"supervision-{_slug(fb.tutor_name)}-{fb.recording.recorded_on:%Y-%m-%d}-session-{fb.recording.session_number}.pdf"
    return Export(name, PDF, sup.pdf(fb, origin=params.get(ORIGIN, "")))


def _monitoring_report(me: Permitted, params: Mapping[str, str]) -> Export:
    from session_rater.usecases.monitoring_report import MonitoringReports

    reports = MonitoringReports(me)
    try:
        report = reports.report(_int(params, "manager"), params.get("period", ""))
    except ValueError as exc:
        raise NotFoundError(f"{exc}; open the download from the Monitoring report page.") from None
    return Export(f"monitoring-report-{_slug(report.manager.display_name)}-{report.period}.pdf", PDF, reports.pdf(report))


def _area_report(me: Permitted, params: Mapping[str, str], kind: str) -> Export:
    from session_rater.usecases.area_report import AreaReports

    reports = AreaReports(me)
    report = reports.report(params.get("area", ""), by=params.get("by", "quarter"), date_from=_date(params, "from"),
                            date_to=_date(params, "to"), wait=True)  # a file is of the scores as they are  # fmt: skip
    if kind == "pdf":
        return Export(f"{report.stem}.pdf", PDF, reports.pdf(report))
    return Export(f"{report.stem}.xlsx", XLSX, reports.xlsx(report))


def _audit(me: Permitted, params: Mapping[str, str], kind: str) -> Export:
    from session_rater.usecases.audits import Audits

    audits = Audits(me)
    scored = audits.scored(_int(params, "audit"))
    stem = f"audit-{_slug(scored.mark_set.area)}-{_slug(scored.mark_set.title)}"
    if kind == "pdf":
        return Export(f"{stem}-summary.pdf", PDF, audits.pdf(scored))
    return Export(f"{stem}-marks.csv", CSV, audits.csv(scored))


EXPORTS: dict[str, Callable[[Permitted, Mapping[str, str]], Export]] = {
    "coverage.csv": lambda me, p: _coverage(me, p, "csv"),
    "coverage.xlsx": lambda me, p: _coverage(me, p, "xlsx"),
    "audit-log.csv": _audit_log,
    "recording-access-log.csv": _access_log,
    "supervision.pdf": _supervision,
    "monitoring-report.pdf": _monitoring_report,
    "area-report.pdf": lambda me, p: _area_report(me, p, "pdf"),
    "area-report.xlsx": lambda me, p: _area_report(me, p, "xlsx"),
    "audit-summary.pdf": lambda me, p: _audit(me, p, "pdf"),
    "audit-marks.csv": lambda me, p: _audit(me, p, "csv"),
}
"""Every download the app offers, by name (the route's ``/exports/<name>``)."""


def export(me: Permitted, name: str, params: Mapping[str, str]) -> Export:
    """The file ``name`` made for ``me`` with the page's choices ``params``; AccessDeniedError if
    they may not have it, NotFoundError for a name that is no export."""
    make = EXPORTS.get(name)
    if make is None:
        raise NotFoundError(f"There is no download called {name!r}.")
    return make(me, params)
