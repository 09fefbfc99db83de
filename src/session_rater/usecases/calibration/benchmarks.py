"""The benchmark and its panel, as one signed-in person may use them: clearing a recording for
training use, designating a benchmark, blindness (:meth:`BenchmarkWork._may_see_master`), the
panel's adjudication and the master scores (locked, then changed only as a new version with a
reason), and exemplar clips."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from session_rater.domain.access import Action, reaches
from session_rater.domain.calibration import MasterScore, PanelDisagreement, check_master_scores, panel_disagreements
from session_rater.domain.calibration.records import (
    BenchmarkState,
    BenchmarkView,
    ExemplarClip,
    MasterScoreSet,
    TrainingClearance,
)
from session_rater.domain.model import Capacity
from session_rater.domain.records import RecordingView
from session_rater.domain.rubric import Rubric
from session_rater.errors import AccessDeniedError, CalibrationError, NotFoundError
from session_rater.usecases.calibration.comparison import benchmark_rubric, own_scores, submitted_by
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import DEFAULT_RUBRIC_ID


@dataclass(frozen=True)
class Adjudication:
    benchmark: BenchmarkView
    item_ids: tuple[str, ...]
    panel_scores: Mapping[int, Mapping[str, int | None]]  # member -> item -> score
    disagreements: tuple[PanelDisagreement, ...]
    master: MasterScoreSet | None


class BenchmarkWork:
    """The benchmark and its panel for one signed-in person (:class:`Calibration` adds the rest)."""

    def __init__(self, me: Permitted) -> None:
        self.me = me
        self.svc = me.svc

    # administrator
    def clear_for_training(self, recording_id: int, note: str = "") -> TrainingClearance:
        self.me.require(Action.CLEAR_FOR_TRAINING)
        return self.svc.store.clear_for_training(recording_id, by=self.me.person.id, note=note)

    def training_clearances(self) -> dict[int, TrainingClearance]:
        return self.svc.store.training_clearances()

    # programme manager
    def cleared_sessions(self) -> dict[int, RecordingView]:
        """The sessions cleared for training use that this person may see, by id: read by id in
        SQL (issue 17: not every one of an administrator's 20,000 sessions to find a few)."""
        cleared = self.training_clearances()
        found = self.svc.store.recordings_by_id(cleared, within=self.me.reach())
        actor = self.me.actor
        newest_first = sorted(found.values(), key=lambda r: (-r.recorded_on.toordinal(), r.id))
        return {r.id: r for r in newest_first if reaches(actor, self.svc.session_scope(r))}

    def designate(self, recording_id: int, tutor_id: int | None, *, reason: str, panel: Sequence[int],
                  panel_lead: int, rubric: Rubric | None = None) -> BenchmarkView:  # fmt: skip
        recording = self.me.recording(recording_id)
        self.me.require(Action.DESIGNATE_BENCHMARK, recording)
        if tutor_id is not None and tutor_id not in {t.id for t in recording.tutors}:
            raise CalibrationError("The tutor of a benchmark is one who delivered the session.")
        if set(panel) & {t.id for t in recording.tutors}:
            raise CalibrationError("A tutor who delivered the session cannot be on its panel.")
        rubric = rubric or self.svc.catalog.latest(DEFAULT_RUBRIC_ID)
        self.svc.store.record_rubric_version(rubric)
        return self.svc.store.designate_benchmark(recording_id, tutor_id, rubric_id=rubric.id,
                                                  rubric_version=rubric.version, reason=reason, panel=panel,
                                                  panel_lead=panel_lead, by=self.me.person.id)  # fmt: skip

    def _hidden_validity(self) -> set[int]:
        """The benchmarks this person has as validity sessions not yet submitted: nothing may
        tell them those are benchmarks."""
        return {v.benchmark_id for v in self.svc.store.validity_assignments(self.me.person.id) if v.hidden}

    def benchmark(self, benchmark_id: int) -> BenchmarkView:
        try:
            bench = self.svc.store.get_benchmark(benchmark_id)
        except NotFoundError:
            bench = None
        if bench is None or bench.id in self._hidden_validity():
            raise AccessDeniedError(f"Benchmark {benchmark_id} does not exist or is not one you can open.")
        self.me.recording(bench.recording_id)  # in reach, or refused as not found
        return bench

    def _may_see_master(self, bench: BenchmarkView, *, look: bool) -> None:
        """Blindness: the master scores, rationales and panel ratings of a benchmark only after
        one's own rating of it is submitted; an overseer who looks first is recorded not blind."""
        recording = self.me.recording(bench.recording_id)
        own = self.svc.store.has_submitted(self.me.person.id, bench.recording_id, bench.tutor_id)
        decision = self.me.decide(Action.SEE_MASTER_SCORES, recording, tutor_id=bench.tutor_id,
                                  own_rating_submitted=own)  # fmt: skip
        if not decision:
            raise AccessDeniedError(f"{decision.reason.capitalize()}.")
        if decision.not_blind:
            if not look:
                raise AccessDeniedError("Confirm that you want to look: you will be recorded as not blind for this "
                                        "benchmark session, and a rating you make of it later is marked so.")  # fmt: skip
            self.svc.store.record_unblinding(self.me.person.id, bench.recording_id, bench.tutor_id)

    # panel
    def adjudication(self, benchmark_id: int, *, look: bool = False) -> Adjudication:
        """The panel's scores and where they differ, once every panel rating is in."""
        bench = self.benchmark(benchmark_id)
        self._may_see_master(bench, look=look)
        rubric = benchmark_rubric(self.svc, bench)
        by = submitted_by(self.svc, bench)
        missing = [p for p in bench.panel if p not in by or by[p].capacity is not Capacity.BENCHMARK]
        if missing:
            raise CalibrationError(f"{len(missing)} of the panel's {len(bench.panel)} ratings are not in yet: "
                                   "adjudication starts when every panel member has submitted.")  # fmt: skip
        panel = {p: own_scores(by[p]) for p in bench.panel}
        items = tuple(i.id for i in rubric.items)
        if bench.state is BenchmarkState.PANEL_RATING:
            self.svc.store.set_benchmark_state(bench.id, BenchmarkState.ADJUDICATION, by=self.me.person.id)
            bench = self.svc.store.get_benchmark(bench.id)
        return Adjudication(bench, items, panel, tuple(panel_disagreements(items, panel)),
                            self.svc.store.master_scores(bench.id))  # fmt: skip

    def agree_master_scores(self, benchmark_id: int, masters: Sequence[MasterScore]) -> MasterScoreSet:
        """The panel lead locks the master scores (checked: every item, on the scale, a rationale
        where the panel disagreed, moments within the recording)."""
        adjudication = self.adjudication(benchmark_id)
        bench = adjudication.benchmark
        if self.me.person.id != bench.panel_lead:
            raise AccessDeniedError("Only the panel lead agrees the master scores.")
        if adjudication.master is not None:
            raise CalibrationError("The master scores are locked: change them with a reason (a new version).")
        rubric = benchmark_rubric(self.svc, bench)
        duration = self.svc.store.get_recording(bench.recording_id).duration_seconds
        problems = check_master_scores(adjudication.item_ids, (rubric.minimum, rubric.maximum),
                                       adjudication.panel_scores, masters, duration=duration)  # fmt: skip
        if problems:
            raise CalibrationError("The master scores cannot be locked yet: " + "; ".join(problems))
        return self.svc.store.save_master_scores(bench.id, masters, by=self.me.person.id)

    def revise_master_scores(self, benchmark_id: int, masters: Sequence[MasterScore], reason: str) -> MasterScoreSet:
        """A change of locked master scores: a new version with its reason (panel lead, or the
        programme manager of the area), in the audit log."""
        adjudication = self.adjudication(benchmark_id, look=True)
        bench = adjudication.benchmark
        recording = self.me.recording(bench.recording_id)
        if self.me.person.id != bench.panel_lead and not self.me.decide(Action.DESIGNATE_BENCHMARK, recording):
            raise AccessDeniedError("Only the panel lead or the area's programme manager changes master scores.")
        if adjudication.master is None:
            raise CalibrationError("There are no master scores to change yet: agree them first.")
        rubric = benchmark_rubric(self.svc, bench)
        problems = check_master_scores(adjudication.item_ids, (rubric.minimum, rubric.maximum),
                                       adjudication.panel_scores, masters,
                                       duration=recording.duration_seconds)  # fmt: skip
        if problems:
            raise CalibrationError("The changed master scores cannot be locked: " + "; ".join(problems))
        return self.svc.store.save_master_scores(bench.id, masters, by=self.me.person.id, reason=reason)

    def master_scores(self, benchmark_id: int, *, look: bool = False) -> MasterScoreSet | None:
        bench = self.benchmark(benchmark_id)
        self._may_see_master(bench, look=look)
        return self.svc.store.master_scores(benchmark_id)

    def master_score_history(self, benchmark_id: int, *, look: bool = False) -> list[MasterScoreSet]:
        bench = self.benchmark(benchmark_id)
        self._may_see_master(bench, look=look)
        return self.svc.store.master_score_history(benchmark_id)

    def add_exemplar(self, benchmark_id: int, item_id: str, score: int, start: float, end: float,
                     note: str) -> ExemplarClip:  # fmt: skip
        bench = self.benchmark(benchmark_id)
        if self.me.person.id not in bench.panel:
            raise AccessDeniedError("Exemplar clips are marked by a member of the benchmark's panel.")
        rubric = benchmark_rubric(self.svc, bench)
        rubric.item(item_id)
        if score not in rubric.scale_values:
            raise CalibrationError(f"{score} is not on the scale {rubric.minimum} to {rubric.maximum}.")
        return self.svc.store.add_exemplar(bench.id, item_id, score, start, end, note, by=self.me.person.id)

    def exemplars(self) -> list[ExemplarClip]:
        """The exemplar clips of the scale, less those cut from this person's own hidden validity
        sessions (a clip of the session being rated would say it is a benchmark)."""
        hidden = self._hidden_validity()
        return [c for c in self.svc.store.exemplars() if c.benchmark_id not in hidden]

    # the Benchmark pages (issue 10): what they list
    def benchmarks(self) -> list[BenchmarkView]:
        """The benchmark sessions this person works on: every one in reach for a programme manager
        or administrator; those whose panel they are on for anyone else (never a hidden validity one)."""
        hidden = self._hidden_validity()
        manager = bool(self.me.decide(Action.MANAGE_CALIBRATION))
        found = []
        for bench in self.svc.store.benchmarks():
            if bench.id in hidden or not (manager or self.me.person.id in bench.panel):
                continue
            try:
                self.me.recording(bench.recording_id)
            except (AccessDeniedError, NotFoundError):
                continue
            found.append(bench)
        return found

    def rubric_of(self, benchmark_id: int) -> Rubric:
        """The rubric version a benchmark is scored on (its items' titles, its scale)."""
        return benchmark_rubric(self.svc, self.benchmark(benchmark_id))
