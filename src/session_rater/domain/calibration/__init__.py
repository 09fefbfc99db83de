"""Calibration against an established benchmark (issue 10): master scores agreed by a panel,
raters' agreement with them, certification by a rule that is data, validity sessions blended
into live work, and drift caught on a control chart.

The practice comes from large-scale scoring centres, which keep human raters accurate with
pre-scored responses ("validity papers") scored blind among live work, calibration sets before
scoring, certification that expires and read-behinds (Wolfe, E. W. (2004). Identifying rater
effects using latent trait models. *Psychology Science*, 46, 35-51; Ricker-Pedley, K. (2011).
An examination of the link between rater calibration performance and subsequent scoring
accuracy. ETS RR-11-03). Pure: storage brings the facts, the decisions are made here.
"""

from session_rater.domain.calibration.adjudication import (
    MasterScore,
    PanelDisagreement,
    check_master_scores,
    panel_disagreements,
)
from session_rater.domain.calibration.certification import (
    CALIBRATION_STATUSES,
    Attempt,
    CertificationRule,
    RaterStatus,
    rater_status,
)
from session_rater.domain.calibration.drift import DriftChart, DriftPoint, ewma_chart
from session_rater.domain.calibration.figures import AgreementWithMaster, ItemComparison, agreement_with_master, compare_items
from session_rater.domain.calibration.validity import validity_sessions_due

__all__ = [
    "CALIBRATION_STATUSES",
    "AgreementWithMaster",
    "Attempt",
    "CertificationRule",
    "DriftChart",
    "DriftPoint",
    "ItemComparison",
    "MasterScore",
    "PanelDisagreement",
    "RaterStatus",
    "agreement_with_master",
    "check_master_scores",
    "compare_items",
    "ewma_chart",
    "panel_disagreements",
    "rater_status",
    "validity_sessions_due",
]
