"""Each rater's calibration status: the agreed seam between the reports and calibration.

Calibration against master scores (rating test videos whose master scores stay hidden, passing
at 80% within one point, certification for a year, drift re-checked; see the domain notes) is
built separately (issue 10). Until it lands, nobody has attempted it, and the reports show that
plainly. When it lands, :func:`calibration_status` is replaced by one that reads the
certifications; its signature and the statuses below stay, so the monitoring and area reports
need no change.
"""

from __future__ import annotations

from collections.abc import Iterable

NOT_ATTEMPTED = "not_attempted"
STATUS_LABELS = {
    NOT_ATTEMPTED: "Not attempted",
    "certified": "Certified",
    "expired": "Certification expired",
    "not_certified": "Not certified",
    "recalibration_due": "Recalibration due",
}
"""Every status a report may show, with the words it shows for it."""


def calibration_status(person_ids: Iterable[int]) -> dict[int, str]:
    """Each person's calibration status (a key of :data:`STATUS_LABELS`).

    Replaced when calibration lands (issue 10): today nobody can have calibrated, so every
    person is ``"not_attempted"``.
    """
    return {int(person_id): NOT_ATTEMPTED for person_id in person_ids}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())
