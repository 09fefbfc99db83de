"""Exemplar clips as the Rate page plays them ("See an example" beside a score descriptor), and
the calibration rounds a rater still has to complete (My work says so).

:meth:`Calibration.exemplars` already leaves out clips of the person's own hidden validity
sessions. A clip is also a master score (it shows what a score level looks like on that item of
a benchmark), so this leaves out, too, the clips of every benchmark the person is still to rate
blind: one of their calibration rounds, or its panel, before their own rating of it is in.

The access rule (domain.access, PLAY_EXEMPLAR): an exemplar of a recording cleared for training
use may be played by anyone who rates with the rubric, whether or not they may play the whole
recording. So the clip is served on its own: cut once with ffmpeg (:func:`clip_file`, media.clips)
and streamed by the exemplar route (web.exemplars) behind a URL signed for the clip and the
person (never the recording's URL), checked again on every request (:func:`may_play_exemplar`)
and written to the recording access log as plays of the recording are.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from session_rater.domain.access import Action
from session_rater.domain.calibration.records import CalibrationRound, ExemplarClip
from session_rater.errors import AccessDeniedError, NotFoundError
from session_rater.media.clips import cut_clip
from session_rater.usecases.calibration import Calibration
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.recording_links import DEFAULT_TTL_SECONDS, viewer_cookie
from session_rater.usecases.services import Services

EXEMPLAR_PATH = "/recordings/exemplars/{clip_id:int}"  # under /recordings: the viewer cookie is sent there
CLIPS_FOLDER = "exemplar-clips"  # in the data folder: each clip cut once


@dataclass(frozen=True)
class PlayableExemplar:
    clip: ExemplarClip
    recording_id: int
    src: str  # signed relative URL of the clip alone (the exemplar route), never of the recording
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
    """The exemplar clips this person may watch now, each with its own signed URL."""
    clips = Calibration(me).exemplars()
    if not clips:
        return []
    hidden = _still_to_rate_blind(me)
    benches = {b.id: b for b in me.svc.store.benchmarks()}
    cleared = me.svc.store.training_clearances()
    found = []
    for clip in clips:
        bench = benches.get(clip.benchmark_id)
        if bench is None or clip.benchmark_id in hidden:
            continue
        if not me.decide(Action.PLAY_EXEMPLAR, cleared_for_training=bench.recording_id in cleared):
            continue
        found.append(PlayableExemplar(clip, bench.recording_id,
                                      signed_exemplar_path(me.svc.secret, clip.id, me.person.id),
                                      viewer_cookie(me.svc.secret, me.person.id, me.session_id)))  # fmt: skip
    return found


def exemplar(me: Permitted, clip_id: int) -> PlayableExemplar:
    """One exemplar clip this person may watch now; refused (as not found) otherwise."""
    found = next((p for p in playable_exemplars(me) if p.clip.id == clip_id), None)
    if found is None:
        raise AccessDeniedError(f"Exemplar clip {clip_id} does not exist or is not one you can watch now (a clip of "
                                "a benchmark you are still to rate blind is shown once your rating is in).")  # fmt: skip
    return found


# -- the clip's own URL, and its file ------------------------------------------------------------
def _mac(secret: bytes, clip_id: int, person_id: int, expires: int) -> str:
    """Signed apart from recording URLs ("exemplar" first): no recording URL opens a clip."""
    return hmac.new(secret, f"exemplar\n{clip_id}\n{person_id}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_exemplar_path(secret: bytes, clip_id: int, person_id: int, *, now: float | None = None,
                         ttl: int = DEFAULT_TTL_SECONDS) -> str:  # fmt: skip
    """A relative URL for one person to stream one exemplar clip until it expires (rounded up
    to the hour, as recording URLs are, so that reruns keep the same URL)."""
    now = time.time() if now is None else now
    expires = int((now + ttl) // 3600 + 1) * 3600
    query = urlencode({"p": person_id, "exp": expires, "sig": _mac(secret, clip_id, person_id, expires)})
    return EXEMPLAR_PATH.replace("{clip_id:int}", str(clip_id)) + "?" + query


def verify_exemplar(secret: bytes, clip_id: int, person: str | None, expires: str | None, sig: str | None, *,
                    now: float | None = None) -> bool:  # fmt: skip
    try:
        person_id, expires_at = int(person or ""), int(expires or "")
    except ValueError:
        return False
    if expires_at < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(_mac(secret, clip_id, person_id, expires_at).encode(), (sig or "").encode())


def _clip(svc: Services, clip_id: int) -> ExemplarClip | None:
    return next((c for c in svc.store.exemplars() if c.id == clip_id), None)


def clip_recording(svc: Services, clip_id: int) -> int | None:
    """The recording an exemplar clip is cut from (None: no such clip): the access log's entry."""
    clip = _clip(svc, clip_id)
    if clip is None:
        return None
    try:
        return svc.store.get_benchmark(clip.benchmark_id).recording_id
    except NotFoundError:
        return None


_cutting: dict[int, threading.Lock] = {}
_cutting_lock = threading.Lock()


def clip_file(svc: Services, clip_id: int) -> Path | None:
    """The clip's own MP4, cut from its recording the first time it is asked for (None: no such
    clip, or its recording's file is missing). Raises RecordingError when ffmpeg cannot cut it."""
    clip, recording_id = _clip(svc, clip_id), clip_recording(svc, clip_id)
    if clip is None or recording_id is None:
        return None
    name = f"{clip.id}-{round(clip.start_seconds * 1000)}-{round(clip.end_seconds * 1000)}.mp4"
    output = svc.settings.data_dir / CLIPS_FOLDER / name
    stored = svc.store.recording_file_path(recording_id)
    source = None if stored is None else Path(stored) if Path(stored).is_absolute() else svc.settings.recordings_dir / stored
    if source is None or not source.is_file():  # e.g. deleted under the retention policy: its clip goes too
        output.unlink(missing_ok=True)
        return None
    with _cutting_lock:
        lock = _cutting.setdefault(clip.id, threading.Lock())
    with lock:  # two requests for a clip not cut yet: one cut
        return cut_clip(source, output, clip.start_seconds, clip.end_seconds)


def may_play_exemplar(svc: Services, clip_id: int, person_id: int, session_id: int) -> bool:
    """Whether the person an exemplar URL names may still watch it now: their sign-in session
    live, their account open, and the clip among those :func:`playable_exemplars` gives them."""
    if not svc.accounts.session_is_live(session_id, person_id):
        return False
    person = svc.accounts_store.active_person(person_id)
    if person is None:
        return False
    return any(p.clip.id == clip_id for p in playable_exemplars(Permitted(svc, person, session_id)))


def open_rounds(me: Permitted) -> list[CalibrationRound]:
    """The calibration rounds this person is a rater in and has not completed, soonest due first."""
    store, person = me.svc.store, me.person.id
    done = {a.round_id for a in store.attempts(person)}
    return sorted((r for r in store.rounds(rater_id=person) if r.id not in done), key=lambda r: r.due_on)
