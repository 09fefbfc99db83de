"""Calibration against the benchmark (issue 10), as one signed-in person may use it.

* An administrator clears a recording for training use; a programme manager designates a
  cleared session (and tutor) as a benchmark, with a reason, a panel of two or more and its lead.
* The panel rates it blind in the capacity ``benchmark`` through the usual rating use cases
  (Permitted.start_rating and friends). When every panel rating is in, :meth:`Calibration.adjudication`
  gives the panel's scores and the items where they differ; the panel lead agrees and locks the
  master scores (:meth:`agree_master_scores`); a later change is a new version with a reason.
* A programme manager makes a calibration round (master-scored benchmarks, raters, a due date).
  After a rater submits their rating of a benchmark, :meth:`comparison` gives their scores beside
  the master's, with the rationale and evidence moments, and their figures; when their round is
  complete, their attempt is judged by the rule in force and kept with that rule.
* Validity sessions are blended into treatment managers' My work (:func:`top_up_validity`) at the
  sampling policy's ``validity_rate``, showing exactly the fields a live monitoring assignment shows.
* A rater's status (:func:`rater_statuses`) comes from their attempts and their drift chart.

Master scores, rationales and other panel members' ratings are never shown to anyone before their
own rating of that benchmark is submitted; a programme manager or administrator may look first
and is then recorded as not blind for it.

The modules, by concept: ``rule`` (the certification rule in force and as stored), ``comparison``
(a rating beside the master scores), ``status`` (statuses, drift, the command line's report),
``rounds`` (what a submission settles), ``validity`` (validity sessions in My work; no Permitted,
so the sampling use cases import it directly), ``benchmarks`` (clearing, designation, blindness,
adjudication, master scores, exemplars) and ``raters`` (:class:`Calibration`: all of it for one
signed-in person). Import from this package, not from the modules.
"""

from session_rater.usecases.calibration.benchmarks import Adjudication, BenchmarkWork
from session_rater.usecases.calibration.comparison import ComparedItem, Comparison, benchmark_of
from session_rater.usecases.calibration.raters import Calibration
from session_rater.usecases.calibration.rounds import complete_rounds, record_submission
from session_rater.usecases.calibration.rule import rule_as_stored, rule_from_stored, rule_in_force, stored_attempt
from session_rater.usecases.calibration.status import (
    CALIBRATION_ROLES,
    RaterCalibration,
    calibration_report,
    calibration_text,
    drift_chart,
    rater_statuses,
    status_of,
)
from session_rater.usecases.calibration.validity import (
    policy_validity_rate,
    top_up_after_draw,
    top_up_validity,
    validity_queue_items,
)

__all__ = [
    "CALIBRATION_ROLES",
    "Adjudication",
    "BenchmarkWork",
    "Calibration",
    "ComparedItem",
    "Comparison",
    "RaterCalibration",
    "benchmark_of",
    "calibration_report",
    "calibration_text",
    "complete_rounds",
    "drift_chart",
    "policy_validity_rate",
    "rater_statuses",
    "record_submission",
    "rule_as_stored",
    "rule_from_stored",
    "rule_in_force",
    "status_of",
    "stored_attempt",
    "top_up_after_draw",
    "top_up_validity",
    "validity_queue_items",
]
