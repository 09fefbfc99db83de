"""Each rater's calibration status: the agreed seam between the reports and calibration.

Calibration against master scores (issue 10: the usecases/calibration package) decides the status from a
rater's attempts, kept with the rule they were judged by, and their drift chart. The monitoring
and area reports call :func:`calibration_status` with the services they hold; without them it
cannot read the attempts and says "not attempted" (kept for callers outside an installation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from session_rater.usecases.services import Services

NOT_ATTEMPTED = "not_attempted"
STATUS_LABELS = {
    NOT_ATTEMPTED: "Not attempted",
    "certified": "Certified",
    "expired": "Certification expired",
    "not_certified": "Not certified",
    "recalibration_due": "Recalibration due",
}
"""Every status a report may show, with the words it shows for it."""


def calibration_status(person_ids: Iterable[int], *, svc: Services | None = None,
                       today: dt.date | None = None) -> dict[int, str]:  # fmt: skip
    """Each person's calibration status (a key of :data:`STATUS_LABELS`) on ``today``."""
    ids = [int(person_id) for person_id in person_ids]
    if svc is None:
        return {person_id: NOT_ATTEMPTED for person_id in ids}
    from session_rater.usecases.calibration import rater_statuses

    found = {r.rater_id: r.status.status for r in rater_statuses(svc, today=today or dt.date.today(),
                                                                 person_ids=ids)}  # fmt: skip
    return {person_id: found.get(person_id, NOT_ATTEMPTED) for person_id in ids}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())
