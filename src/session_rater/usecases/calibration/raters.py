"""Calibration as one signed-in person may use it (:class:`Calibration`): the benchmark work of
:class:`~session_rater.usecases.calibration.benchmarks.BenchmarkWork`, plus calibration rounds,
the comparison a rater sees after submitting, statuses, and topping up validity sessions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np

from session_rater.domain.access import Action
from session_rater.domain.calibration.records import AttemptRecord, CalibrationRound
from session_rater.domain.model import Role
from session_rater.domain.records import RatingView
from session_rater.errors import CalibrationError, NotFoundError
from session_rater.usecases.calibration.benchmarks import BenchmarkWork
from session_rater.usecases.calibration.comparison import Comparison, benchmark_of, compare_with_master, submitted_by
from session_rater.usecases.calibration.rounds import record_submission
from session_rater.usecases.calibration.status import CALIBRATION_ROLES, RaterCalibration, rater_statuses
from session_rater.usecases.calibration.validity import top_up_validity


class Calibration(BenchmarkWork):
    """Calibration as one signed-in person may use it."""

    # programme manager: rounds
    def create_round(self, title: str, due_on: dt.date, benchmark_ids: Sequence[int],
                     rater_ids: Sequence[int]) -> CalibrationRound:  # fmt: skip
        self.me.require(Action.MANAGE_CALIBRATION)
        for rater in rater_ids:
            person = self.svc.person(rater)
            if not any(person.has_role(r) for r in CALIBRATION_ROLES):
                raise CalibrationError(f"{person.display_name} is not a rater (treatment manager, external assessor "
                                       "or tutor).")  # fmt: skip
            for bench_id in benchmark_ids:
                bench = self.svc.store.get_benchmark(bench_id)
                if rater in bench.panel or rater in {t.id for t in self.svc.recording(bench.recording_id).tutors}:
                    raise CalibrationError(f"{person.display_name} delivered or master-scored benchmark {bench_id}: "
                                           "they cannot calibrate on it.")  # fmt: skip
        return self.svc.store.create_round(title, due_on, benchmark_ids, rater_ids, by=self.me.person.id)

    def rounds(self) -> list[CalibrationRound]:
        if self.me.decide(Action.MANAGE_CALIBRATION):
            return self.svc.store.rounds()
        return self.svc.store.rounds(rater_id=self.me.person.id)

    def round_progress(self, round_id: int) -> list[tuple[int, int, AttemptRecord | None]]:
        """Each rater of a round: (rater, how many of its benchmarks they have submitted, their
        attempt once the round is complete for them)."""
        self.me.require(Action.MANAGE_CALIBRATION)
        rnd = next((r for r in self.svc.store.rounds() if r.id == round_id), None)
        if rnd is None:
            raise NotFoundError(f"There is no calibration round {round_id}.")
        benches = {b.id: b for b in self.svc.store.benchmarks()}
        submitted = {b: submitted_by(self.svc, benches[b]) for b in rnd.benchmark_ids if b in benches}
        found = []
        for rater in rnd.rater_ids:
            done = sum(1 for by in submitted.values() if rater in by)
            attempt = next((a for a in self.svc.store.attempts(rater) if a.round_id == rnd.id), None)
            found.append((rater, done, attempt))
        return found

    # any rater: after submitting
    def after_submit(self, rating: RatingView, *, today: dt.date | None = None) -> Comparison | None:
        """Call after a rating is submitted: a validity session is revealed, a completed round's
        attempt is kept, and the comparison is returned (None: not a master-scored benchmark)."""
        if rating.rater_id != self.me.person.id or not rating.is_submitted:
            return None
        record_submission(self.svc, rating, today=today)  # already done by Permitted.submit: a no-op then
        found = self.comparison(rating.recording_id, rating.tutor_id)
        if found is None:
            return None
        rounds = {r.id for r in self.svc.store.rounds(rater_id=self.me.person.id) if found.benchmark_id in r.benchmark_ids}
        attempts = tuple(a for a in self.svc.store.attempts(self.me.person.id) if a.round_id in rounds)
        return dataclasses.replace(found, attempts=attempts)

    def was_validity(self, recording_id: int, tutor_id: int | None) -> bool:
        """Whether this person's submitted form of (session, tutor) was one of their validity
        sessions, now revealed (False while it is hidden: nothing may say so before submitting)."""
        return any(v.recording_id == recording_id and v.tutor_id == tutor_id and not v.hidden
                   for v in self.svc.store.validity_assignments(self.me.person.id))  # fmt: skip

    def comparison(self, recording_id: int, tutor_id: int | None) -> Comparison | None:
        """One's own scores of a master-scored benchmark beside the master scores (after submitting)."""
        bench = benchmark_of(self.svc, recording_id, tutor_id)
        if bench is None or self.me.person.id in bench.panel or bench.id in self._hidden_validity():
            return None
        master = self.svc.store.master_scores(bench.id)
        rating = submitted_by(self.svc, bench).get(self.me.person.id)
        if master is None or rating is None:
            return None
        return compare_with_master(self.svc, bench, master, rating)

    # status
    def my_status(self, today: dt.date | None = None) -> RaterCalibration:
        return rater_statuses(self.svc, today=today or dt.date.today(), person_ids=[self.me.person.id])[0]

    def statuses(self, today: dt.date | None = None) -> list[RaterCalibration]:
        self.me.require(Action.MANAGE_CALIBRATION)
        return rater_statuses(self.svc, today=today or dt.date.today())

    # My work
    def top_up_validity(self, rater_id: int, *, today: dt.date | None = None, seed: int | None = None) -> list[int]:
        self.me.require(Action.MANAGE_CALIBRATION)
        if not self.svc.person(rater_id).has_role(Role.TREATMENT_MANAGER):
            raise NotFoundError("Validity sessions go to treatment managers' My work.")
        rng = np.random.default_rng(seed)
        return top_up_validity(self.svc, rater_id, today=today or dt.date.today(), rng=rng)
