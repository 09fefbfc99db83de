"""Exemplar clips as the Rate page plays them ("See an example" beside a score descriptor), and
the calibration rounds a rater still has to complete (My work says so).

:meth:`Calibration.exemplars` already leaves out clips of the person's own hidden validity
sessions. A clip is also a master score (it shows what a score level looks like on that item of
a benchmark), so this leaves out, too, the clips of every benchmark the person is still to rate
blind: one of their calibration rounds, or its panel, before their own rating of it is in. And
it keeps only the clips whose recording the person may play (the signed URL and the recording
route honour the access rules), with that URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from session_rater.domain.access import Action
from session_rater.domain.calibration.records import CalibrationRound, ExemplarClip
from session_rater.errors import NotFoundError
from session_rater.usecases.calibration import Calibration
from session_rater.usecases.permitted import Permitted


@dataclass(frozen=True)
class PlayableExemplar:
    clip: ExemplarClip
    recording_id: int
    src: str  # signed relative URL of the clip's recording
    viewer_cookie: str

    @property
    def item_id(self) -> str:
        return self.clip.item_id

    @property
    def score(self) -> int:
        return self.clip.score


def _still_to_rate_blind(me: Permitted) -> set[int]:
    """Benchmarks this person is to rate (their rounds', or as a panel member) and has not submitted."""
    store, person = me.svc.store, me.person.id
    to_rate = {b for r in store.rounds(rater_id=person) for b in r.benchmark_ids}
    pending = set()
    for bench in store.benchmarks():
        if (bench.id in to_rate or person in bench.panel) and not store.has_submitted(
                person, bench.recording_id, bench.tutor_id):
            pending.add(bench.id)
    return pending


def playable_exemplars(me: Permitted) -> list[PlayableExemplar]:
    """The exemplar clips this person may watch now, each with its recording's signed URL."""
    clips = Calibration(me).exemplars()
    if not clips:
        return []
    hidden = _still_to_rate_blind(me)
    benches = {b.id: b for b in me.svc.store.benchmarks()}
    found = []
    for clip in clips:
        bench = benches.get(clip.benchmark_id)
        if bench is None or clip.benchmark_id in hidden:
            continue
        try:
            recording = me.svc.recording(bench.recording_id)
        except NotFoundError:
            continue
        if not me.decide(Action.PLAY_RECORDING, recording):
            continue
        src, cookie = me.recording_url(recording)
        found.append(PlayableExemplar(clip, recording.id, src, cookie))
    return found


def open_rounds(me: Permitted) -> list[CalibrationRound]:
    """The calibration rounds this person is a rater in and has not completed, soonest due first."""
    store, person = me.svc.store, me.person.id
    done = {a.round_id for a in store.attempts(person)}
    return sorted((r for r in store.rounds(rater_id=person) if r.id not in done), key=lambda r: r.due_on)
