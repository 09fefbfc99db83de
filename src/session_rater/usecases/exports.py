"""Files the pages offer for download, made on request for the signed-in person.

They are served by the app's own route (web/exports.py), which signs the person in from their
cookies first: never through Streamlit's media endpoint, whose URLs anyone holding one could
fetch, signed in or not. Each export is the same table its page shows, made by the same use
case, with the same access checks; every CSV and XLSX is formula-safe (io.spreadsheets).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from session_rater.domain.access import Action
from session_rater.errors import NotFoundError
from session_rater.usecases.permitted import Permitted

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


EXPORTS: dict[str, Callable[[Permitted, Mapping[str, str]], Export]] = {
    "coverage.csv": lambda me, p: _coverage(me, p, "csv"),
    "coverage.xlsx": lambda me, p: _coverage(me, p, "xlsx"),
    "audit-log.csv": _audit_log,
    "recording-access-log.csv": _access_log,
}
"""Every download the app offers, by name (the route's ``/exports/<name>``)."""


def export(me: Permitted, name: str, params: Mapping[str, str]) -> Export:
    """The file ``name`` made for ``me`` with the page's choices ``params``; AccessDeniedError if
    they may not have it, NotFoundError for a name that is no export."""
    make = EXPORTS.get(name)
    if make is None:
        raise NotFoundError(f"There is no download called {name!r}.")
    return make(me, params)
