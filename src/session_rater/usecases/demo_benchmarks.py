"""The demo's benchmark (issue 10): two Barrow sessions cleared for training and master-scored by
a two-member panel (Dev Sharma, the lead, and Ruth Okafor), with rationales and evidence
moments; exemplar clips on three items; a calibration round in which Helen Price is certified,
Mark Dixon is not (he over-scores by about 0.7 points) and a tutor (Sam Rowe) attempted; and a
validity session waiting, unmarked, in Mark Dixon's My work.

Stored as the real use cases store it (the store's calibration part, the rule in force), in a
few transactions, so ``session-rater demo`` stays quick.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from session_rater.db.store import ItemEntry, RatingSpec
from session_rater.domain.calibration import MasterScore
from session_rater.domain.model import Capacity
from session_rater.domain.records import PersonView, RecordingView
from session_rater.domain.rubric import Rubric

PANEL = ("Dev Sharma", "Ruth Okafor")  # the lead first
CERTIFIED, NOT_CERTIFIED, TUTOR_ATTEMPT = "Helen Price", "Mark Dixon", "Sam Rowe"
VALIDITY_RATER = NOT_CERTIFIED  # Helen Price's My work stays empty until a sample is drawn
DISPUTED = 3  # items the panel scored a point apart
RATIONALES = (
    "The recap named last session's skill and asked two members to say how they had used it.",
    "Instructions were given once and checked with one member only: adequate, not more.",
    "Open questions drew in the quieter members; one closed run mid-way.",
    "The reframe kept the member engaged without endorsing the comment.",
)
EXEMPLARS = (  # (item, note): each note describes what the clip shows of that item
    ("manual.aims", "A recap that links the last session to today's aims."),
    ("manual.learning-checked", "Checks what each member understood before moving on."),
    ("manual.reinforcement", "Praise that names the pro-social behaviour."),
)


def _master(items: Sequence[str], k: int) -> int:
    """The demo's master score of the k-th item: mostly 2, every third a 1 (room above for over-scoring)."""
    return 1 if k % 3 == 0 else 2


def _agreed(store, recording_id: int, tutor_id: int, items: Sequence[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The panel's agreed score of each item: the external assessors' (the demo's truth, near it)
    rounded, kept within 1 to 2 so a rater can be seen above it; the pattern where none scored it."""
    given: dict[str, list[int]] = {}
    for rating in store.ratings_of_recording(recording_id):
        if rating.tutor_id == tutor_id and rating.capacity is Capacity.EXTERNAL:
            for item, score in rating.scores.items():
                if score.score is not None:
                    given.setdefault(item, []).append(score.score)
    return {i: round(sum(given[i]) / len(given[i])) if given.get(i) else _master(items, k)
            for k, i in enumerate(items)}  # fmt: skip


def _above(master: Mapping[str, int], points: int, top: int) -> dict[str, int]:
    """``master`` with ``points`` items a point higher, where the scale leaves room (spread out)."""
    room = [i for i in master if master[i] < top]
    step = max(1, len(room) / max(points, 1))
    raised = {room[int(k * step)] for k in range(min(points, len(room)))}
    return {i: s + (1 if i in raised else 0) for i, s in master.items()}


def _form(items: Sequence[str], scores: Mapping[str, int], notes: bool = False) -> dict[str, ItemEntry]:
    return {i: ItemEntry(scores[i], RATIONALES[k % len(RATIONALES)] if notes and k % 6 == 0 else "",
                         float(4 + k) if notes and k % 6 == 0 else None)
            for k, i in enumerate(items)}  # fmt: skip


def load_demo_benchmarks(services, rubric: Rubric, people: Mapping[str, PersonView],  # type: ignore[no-untyped-def]
                         recordings: Sequence[tuple[RecordingView, Sequence[tuple[Capacity, str | None, bool]]]],
                         ) -> int:  # fmt: skip
    """Add the demo's benchmark to what load_demo stored; the number of ratings added.

    ``recordings``: each demo session with who rated it (capacity, rater name or None for a
    tutor, submitted). The benchmarks are Barrow sessions that neither Helen Price monitored nor
    Sam Rowe delivered, and not the sessions the tests read (the manifest's own)."""
    from session_rater.usecases.calibration import complete_rounds

    store = services.store
    items = [i.id for i in rubric.items]
    today = dt.date.today()
    lead, member = (people[n].id for n in PANEL)
    barrow = [(r, raters) for r, raters in recordings
              if r.site == "Barrow" and r.tutors and "TF-02" not in r.group_name
              and people[TUTOR_ATTEMPT].id not in {t.id for t in r.tutors}]  # fmt: skip
    unmonitored = [r for r, raters in barrow if not any(c is Capacity.MONITORING for c, _, _ in raters)]
    if not unmonitored:
        return 0
    round_session = unmonitored[0]  # Helen Price has not rated it: she calibrates on it
    validity_session = next(r for r, _ in reversed(barrow) if r.id != round_session.id)  # Mark Dixon never rated Barrow
    disputed = set(items[1:1 + DISPUTED])
    specs = []
    benches = []
    masters = {}
    for recording in (round_session, validity_session):
        tutor = recording.tutors[0].id
        master = _agreed(store, recording.id, tutor, items)
        masters[recording.id] = master
        store.clear_for_training(recording.id, by=lead, note="Consent to training use on file (demo)")
        bench = store.designate_benchmark(recording.id, tutor, rubric_id=rubric.id, rubric_version=rubric.version,
                                          reason="Typical delivery, with scores spread across the scale",
                                          panel=[lead, member], panel_lead=lead, by=lead)  # fmt: skip
        benches.append(bench)
        other = {i: (s + 1 if i in disputed else s) for i, s in master.items()}
        specs += [RatingSpec(recording.id, tutor, lead, Capacity.BENCHMARK, _form(items, master, True), is_demo=True),
                  RatingSpec(recording.id, tutor, member, Capacity.BENCHMARK, _form(items, other, True),
                             is_demo=True)]  # fmt: skip
    master = masters[round_session.id]
    # The round: Helen close to the master scores, Mark about +0.7, Sam about a point above.
    n, top = len(items), rubric.maximum
    helen = {i: (s + 1 if k % 8 == 3 and s < top else s - 1 if k % 8 == 6 and s > rubric.minimum else s)
             for k, (i, s) in enumerate(master.items())}  # fmt: skip
    mark = _above(master, round(0.7 * n), top)  # about +0.7: every item within one point, the mean too high
    sam = _above(_above(master, n, top), n // 3, top)  # a tutor about a point and more above
    tutor = round_session.tutors[0].id
    specs += [RatingSpec(round_session.id, tutor, people[name].id, Capacity.BENCHMARK, _form(items, scores),
                         is_demo=True) for name, scores in ((CERTIFIED, helen), (NOT_CERTIFIED, mark), (TUTOR_ATTEMPT, sam))]  # fmt: skip
    panel_specs, round_specs = specs[:4], specs[4:]
    added = store.add_ratings(panel_specs, rubric)
    for bench in benches:
        master = masters[bench.recording_id]
        store.save_master_scores(bench.id, [
            MasterScore(i, master[i], RATIONALES[k % len(RATIONALES)] if i in disputed or k % 4 == 0 else "",
                        (float(3 + k % 20),) if i in disputed else ())
            for k, i in enumerate(items)], by=lead)  # fmt: skip
    first, master = benches[0], masters[round_session.id]
    chosen = [(item, note) for item, note in EXEMPLARS if item in master] or [
        (item, "An example of this score level.") for item in items[:3]]  # a rubric without those items
    for k, (item, note) in enumerate(chosen):
        store.add_exemplar(first.id, item, master[item], 2.0 + 8 * k, 8.0 + 8 * k, note, by=lead)
    store.create_round("Spring calibration", today + dt.timedelta(days=14), [first.id],
                       [people[n].id for n in (CERTIFIED, NOT_CERTIFIED, TUTOR_ATTEMPT)], by=lead)  # fmt: skip
    added += store.add_ratings(round_specs, rubric)
    for name in (CERTIFIED, NOT_CERTIFIED, TUTOR_ATTEMPT):
        complete_rounds(services, people[name].id, today=today)
    group = [r for r, _ in recordings if r.group_name == validity_session.group_name and not r.is_catch_up]
    store.add_validity(people[VALIDITY_RATER].id, benches[1].id, draw_id=None, policy_name="default",
                       reason=f"monitoring: group {validity_session.group_name} needs 1 of {len(group)} sessions (10%) "
                              f"and 1 per tutor; spreads the sample across the programme (session number "
                              f"{validity_session.session_number})",
                       due_on=today + dt.timedelta(days=21))  # fmt: skip
    return added
