"""A rater's scores of a benchmark beside its master scores: reading the benchmark's rubric and
ratings, and the item-by-item comparison a rater sees after submitting."""

from __future__ import annotations

from dataclasses import dataclass

from session_rater.domain.calibration import AgreementWithMaster, agreement_with_master, compare_items
from session_rater.domain.calibration.records import AttemptRecord, BenchmarkView, MasterScoreSet
from session_rater.domain.records import RatingView
from session_rater.domain.rubric import Rubric
from session_rater.usecases.services import Services


@dataclass(frozen=True)
class ComparedItem:
    item_id: str
    title: str
    rater: int | None
    master: int | None
    rationale: str
    moments: tuple[float, ...]

    @property
    def difference(self) -> int | None:
        return None if self.rater is None or self.master is None else self.rater - self.master


@dataclass(frozen=True)
class Comparison:
    """What a rater sees after submitting their rating of a benchmark session."""

    benchmark_id: int
    recording_id: int
    tutor_id: int | None
    master_version: int
    items: tuple[ComparedItem, ...]
    figures: AgreementWithMaster
    attempts: tuple[AttemptRecord, ...]  # rounds this submission completed


def benchmark_of(svc: Services, recording_id: int, tutor_id: int | None) -> BenchmarkView | None:
    return next((b for b in svc.store.benchmarks() if b.recording_id == recording_id and b.tutor_id == tutor_id), None)


def benchmark_rubric(svc: Services, bench: BenchmarkView) -> Rubric:
    return svc.store.rubric_version(bench.rubric_id, bench.rubric_version)


def own_scores(rating: RatingView) -> dict[str, int | None]:
    return {i: (None if s.not_applicable else s.score) for i, s in rating.scores.items()}


def submitted_by(svc: Services, bench: BenchmarkView) -> dict[int, RatingView]:
    """rater -> their current submitted rating of the benchmark's (session, tutor), any capacity."""
    return {r.rater_id: r for r in svc.store.ratings_of_recording(bench.recording_id) if r.tutor_id == bench.tutor_id}


def compare_with_master(svc: Services, bench: BenchmarkView, master: MasterScoreSet, rating: RatingView) -> Comparison:
    rubric = benchmark_rubric(svc, bench)
    item_ids = [i.id for i in rubric.items]
    compared = compare_items(item_ids, own_scores(rating), master.by_item())
    figures = agreement_with_master(compared)
    by_item = {m.item_id: m for m in master.scores}
    items = tuple(ComparedItem(c.item_id, rubric.item(c.item_id).title, c.rater, c.master,
                               by_item[c.item_id].rationale if c.item_id in by_item else "",
                               by_item[c.item_id].moments if c.item_id in by_item else ())
                  for c in compared)  # fmt: skip
    return Comparison(bench.id, bench.recording_id, bench.tutor_id, master.version, items, figures, ())
