"""Demo data: fifteen Think First groups at Carlisle and Barrow over five quarters (45 recorded
sessions), a roster of people, and ratings that tell what the inspectorate found (HMIP 2002
follow-up audit of Think First in Cumbria), with the noise of real scoring:

* tutors over-score their own delivery (C1.5) by about a point on the 0-3 scale, and no less in
  the last quarter than in the first ("very similar to those for the sample looked at 12 months
  ago");
* treatment managers over-score less, and less each quarter as they calibrate (B5.1): Helen
  Price more than Mark Dixon;
* external assessors are the reference (Ruth Okafor and Alan Reid, a shade apart), and double-rate
  every fourth session so that their own agreement can be measured;
* one tutor (Tom Hughes) does not assess each criterion independently: every item of his
  self-assessments gets the top score;
* the items the audit found weak (learning checked, pacing, open questioning, members validating
  ideas, handovers, praise) are delivered less well, and over-scored most.

A score is the tutor's delivery of the item in that session (tutor, item, tutor-by-item and
session effects) plus the rater's leniency plus noise, rounded onto the scale: enough sessions
per quarter for intervals, and enough spread for the G study and the Rasch model.

The six recordings of ``sample_sessions/manifest.csv`` are the newest sessions of two groups
(Carlisle TF-01, Barrow TF-02); the other groups' sessions reuse those six clips (a session
shows the clip of the same session number whose own session is later), so the repository stays
small. Everything loaded here is marked ``is_demo``; ``session-rater demo`` removes it and loads
it afresh. Deterministic: one fixed seed. The ratings are stored in one transaction
(:meth:`Store.add_ratings <session_rater.db.ratings.RatingStore.add_ratings>`), so loading takes
seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from session_rater.db.store import ItemEntry, RatingSpec, RecordingSpec
from session_rater.domain.model import Capacity, Role
from session_rater.domain.rubric import Rubric
from session_rater.errors import ConfigurationError, NotFoundError
from session_rater.io.manifest import ManifestEntry, load_manifest
from session_rater.media.ffmpeg import VideoInfo, probe
from session_rater.media.hashing import content_hash
from session_rater.media.thumbnails import thumbnail_strip

SEED = 20021101  # the audit's month; any fixed number would do
DEMO_THUMBNAILS = 12  # the clips last about half a minute
STRAIGHT_LINER = "Tom Hughes"  # the tutor who gives every item the same score
TREATMENT_MANAGERS = ("Helen Price", "Mark Dixon")
EXTERNAL_ASSESSORS = ("Ruth Okafor", "Alan Reid")
PROGRAMME_MANAGERS = ("Dev Sharma",)
AREA = "Cumbria"
PROGRAMME = "Think First"
# Every demo account signs in with its email (first.last@demo.example, see README) and this
# password. Demo data is for trying the tool: do not load it where real people sign in.
DEMO_PASSWORD = "demo-password"
DEMO_EMAIL_DOMAIN = "demo.example"


def demo_email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@" + DEMO_EMAIL_DOMAIN


def demo_team(site: str) -> str:
    return f"{site} team"


@dataclass(frozen=True)
class DemoGroup:
    """A programme group of the demo besides the manifest's two: its sessions 3, 7 and 11 (those
    in ``numbers``) are recorded three and four weeks apart from ``starts``, with a catch-up of
    session 7 two weeks after it where ``catch_up``."""

    group: str
    site: str
    starts: dt.date
    tutors: tuple[str, str]
    catch_up: bool = False
    numbers: tuple[int, ...] = (3, 7, 11)


SESSION_DAYS = {3: 0, 7: 21, 11: 49}  # days after session 3
CATCH_UP_DAYS = 14  # a catch-up of session 7, this many days after it
GROUPS = (
    DemoGroup("Carlisle TF-03", "Carlisle", dt.date(2025, 4, 8), ("Sam Rowe", "Priya Nair")),
    DemoGroup("Barrow TF-04", "Barrow", dt.date(2025, 4, 29), ("Tom Hughes", "Jo Bell"), catch_up=True),
    DemoGroup("Carlisle TF-05", "Carlisle", dt.date(2025, 6, 3), ("Priya Nair", "Kate Ellis")),
    DemoGroup("Barrow TF-06", "Barrow", dt.date(2025, 6, 24), ("Tom Hughes", "Omar Shah")),
    DemoGroup("Carlisle TF-07", "Carlisle", dt.date(2025, 8, 5), ("Sam Rowe", "Kate Ellis")),
    DemoGroup("Barrow TF-08", "Barrow", dt.date(2025, 8, 19), ("Jo Bell", "Omar Shah"), catch_up=True),
    DemoGroup("Carlisle TF-09", "Carlisle", dt.date(2025, 10, 7), ("Priya Nair", "Jo Bell")),
    DemoGroup("Barrow TF-10", "Barrow", dt.date(2025, 10, 21), ("Tom Hughes", "Jo Bell")),
    DemoGroup("Carlisle TF-11", "Carlisle", dt.date(2025, 12, 2), ("Sam Rowe", "Priya Nair")),
    DemoGroup("Barrow TF-12", "Barrow", dt.date(2026, 1, 6), ("Omar Shah", "Tom Hughes"), catch_up=True),
    DemoGroup("Barrow TF-14", "Barrow", dt.date(2026, 3, 17), ("Jo Bell", "Omar Shah")),
    DemoGroup("Carlisle TF-13", "Carlisle", dt.date(2026, 3, 31), ("Kate Ellis", "Sam Rowe")),
    DemoGroup("Carlisle TF-15", "Carlisle", dt.date(2026, 4, 14), ("Priya Nair", "Kate Ellis"), numbers=(3, 7)),
)
"""The groups before and beside the manifest's (Carlisle TF-01, Barrow TF-02, the newest)."""

# The story in numbers, in points of the 0-3 scale.
SELF_LENIENCY = {"Sam Rowe": 1.2, "Priya Nair": 0.85, "Jo Bell": 1.0, "Kate Ellis": 0.8, "Omar Shah": 1.1}
MANAGER_LENIENCY = {"Helen Price": (0.85, 0.4), "Mark Dixon": (0.6, 0.2)}  # first quarter -> last: calibration
ASSESSOR_LENIENCY = {"Ruth Okafor": 0.05, "Alan Reid": -0.05}
WEAK_ITEM = -0.7  # the items the audit found weak are delivered less well
SD_ITEM, SD_TUTOR_ITEM, SD_SESSION, SD_RATER = 0.15, 0.3, 0.3, 0.45
SELF_ON_WEAK = 0.25  # tutors over-score the weak items a little more: they do not see what is missing
# Weak spots named in the audit (C1.1-C1.3): words that identify those items in the rubric.
WEAK_SPOTS = ("learning", "pacing", "open", "validat", "explain", "handover", "praise", "co-work")
EVIDENCE = (
    "Clear recap of last session, linked to today's aims.",
    "Moved on before checking that members had understood the exercise.",
    "Closed questions only during the review; two members silent throughout.",
    "Good reframe of an offence-supporting comment without confrontation.",
    "Handover to co-tutor unclear; group waited while materials were found.",
    "Praised specific pro-social contributions by name.",
)


@dataclass(frozen=True)
class DemoSummary:
    people: int
    recordings: int
    ratings: int


@dataclass(frozen=True)
class _Session:
    """One demo session: where its clip is, and who rates it."""

    clip: ManifestEntry
    group: str
    number: int
    title: str
    date: dt.date
    site: str
    catch_up: bool
    tutors: tuple[str, ...]
    manifest_index: int | None  # its row in the manifest; None: a session of GROUPS


def _is_weak(rubric: Rubric, item_id: str) -> bool:
    text = (item_id + " " + rubric.item(item_id).title).lower()
    return any(word in text for word in WEAK_SPOTS)


def _clip(rubric: Rubric, value: float) -> int:
    return int(min(rubric.maximum, max(rubric.minimum, round(value))))


def _clip_for(entries: Sequence[ManifestEntry], number: int, date: dt.date, site: str, catch_up: bool) -> ManifestEntry:
    """The manifest clip a session of GROUPS shows: same session number, its own session later
    (so that a file's newest session is the manifest's), the same site and kind if possible."""
    later = [e for e in entries if e.session_number == number and e.date > date]
    if not later:
        raise ConfigurationError(
            f"No demo clip of session {number} is dated after {date:%d/%m/%Y}: add one to the manifest or move the group."
        )
    return min(later, key=lambda e: (e.site != site, e.catch_up != catch_up, e.date))


def _sessions(entries: Sequence[ManifestEntry]) -> list[_Session]:
    sessions = [
        _Session(e, e.group, e.session_number, e.session_title, e.date, e.site, e.catch_up, tuple(e.tutors), i)
        for i, e in enumerate(entries)
    ]
    for g in GROUPS:
        for number in g.numbers:
            date = g.starts + dt.timedelta(days=SESSION_DAYS[number])
            runs = [(date, False)] + ([(date + dt.timedelta(days=CATCH_UP_DAYS), True)] if g.catch_up and number == 7 else [])
            for when, catch_up in runs:
                clip = _clip_for(entries, number, when, g.site, catch_up)
                sessions.append(_Session(clip, g.group, number, clip.session_title, when, g.site, catch_up, g.tutors, None))
    return sorted(sessions, key=lambda s: (s.date, s.group))


def _quarter(date: dt.date) -> int:
    return date.year * 4 + (date.month - 1) // 3


def _register_media(services, recording_id: int, path: Path, info: VideoInfo, digest: str) -> None:  # type: ignore[no-untyped-def]
    """Record a demo clip as ingest records a browser-safe file, with its timeline thumbnails."""
    for kind in ("original", "playable"):  # the clips play in the browser as they are
        services.media.record_file(recording_id=recording_id, kind=kind, path=path, content_hash=digest, info=info)
    thumbnail_strip(path, digest, data_dir=services.settings.data_dir, count=DEMO_THUMBNAILS)


@dataclass(frozen=True)
class _Plan:
    """Who rates one session: (capacity, rater name or None for the tutor, submitted)."""

    raters: tuple[tuple[Capacity, str | None, bool], ...]
    assessors: tuple[str, ...]  # assigned to it (an assigned session may still await its rating)


def _plan(session: _Session, k: int, manager: str) -> _Plan:
    """The manifest's six keep their pattern (the tests read it: the last has drafts only, the
    second is assigned to Alan Reid and not yet rated by him); the other sessions are nearly all
    monitored and assessed, every fourth by both assessors."""
    if session.manifest_index is not None:
        i, last = session.manifest_index, session.manifest_index == 5
        assessor = EXTERNAL_ASSESSORS[i % 2]
        raters: list[tuple[Capacity, str | None, bool]] = [(Capacity.SELF_ASSESSMENT, None, not last)]
        if i % 3 != 2 or last:
            raters.append((Capacity.MONITORING, manager, not last))
        if i % 3 != 1:
            raters.append((Capacity.EXTERNAL, assessor, True))
        return _Plan(tuple(raters), (assessor,))
    assessor, other = EXTERNAL_ASSESSORS[k % 2], EXTERNAL_ASSESSORS[(k + 1) % 2]
    raters = [(Capacity.SELF_ASSESSMENT, None, True)]
    if k % 7 != 6:
        raters.append((Capacity.MONITORING, manager, True))
    if k % 9 != 5:
        raters.append((Capacity.EXTERNAL, assessor, True))
    if k % 4 == 0:
        raters.append((Capacity.EXTERNAL, other, True))
    return _Plan(tuple(raters), (assessor, other) if k % 4 == 0 else (assessor,))


class _Scorer:
    """The scores of the story: delivery (tutor, item, tutor x item, session) + leniency + noise."""

    def __init__(self, rubric: Rubric, tutors: Sequence[str], quarters: Sequence[int], seed: int) -> None:
        self.rubric = rubric
        self.rng = np.random.default_rng(seed)
        self.items = [item.id for item in rubric.items]
        rng = self.rng
        self.skill = {name: rng.uniform(1.2, 2.1) for name in tutors}
        self.item = {i: (WEAK_ITEM if _is_weak(rubric, i) else 0.0) + rng.normal(0, SD_ITEM) for i in self.items}
        self.tutor_item = {(t, i): rng.normal(0, SD_TUTOR_ITEM) for t in tutors for i in self.items}
        self.first, self.last = min(quarters), max(quarters)

    def leniency(self, capacity: Capacity, rater: str, tutor: str, quarter: int) -> float:
        if capacity is Capacity.SELF_ASSESSMENT:
            return SELF_LENIENCY.get(tutor, 1.0)
        if capacity is Capacity.MONITORING:
            start, end = MANAGER_LENIENCY[rater]
            return start + (end - start) * (quarter - self.first) / max(self.last - self.first, 1)
        return ASSESSOR_LENIENCY.get(rater, 0.0)

    def form(self, capacity: Capacity, rater: str, tutor: str, quarter: int, delivery: float) -> Iterator[tuple[str, int]]:
        lenient = self.leniency(capacity, rater, tutor, quarter)
        for item in self.items:
            if capacity is Capacity.SELF_ASSESSMENT and tutor == STRAIGHT_LINER:
                yield item, int(self.rubric.maximum)
                continue
            extra = SELF_ON_WEAK if capacity is Capacity.SELF_ASSESSMENT and _is_weak(self.rubric, item) else 0.0
            truth = self.skill[tutor] + self.item[item] + self.tutor_item[tutor, item] + delivery
            yield item, _clip(self.rubric, truth + lenient + extra + self.rng.normal(0, SD_RATER))


def load_demo(services) -> DemoSummary:  # type: ignore[no-untyped-def]  # Services (import cycle)
    """Load the demo roster, sessions and ratings into the database."""
    from session_rater.usecases.services import DEFAULT_RUBRIC_ID

    store = services.store
    try:
        rubric = services.catalog.latest(DEFAULT_RUBRIC_ID)
    except NotFoundError:
        raise ConfigurationError(
            f"The demo needs the rubric {DEFAULT_RUBRIC_ID!r}, which did not load from "
            f"{services.settings.rubrics_dir}. Run `session-rater check-rubrics` to see why."
        ) from None
    manifest_path = services.settings.recordings_dir / "manifest.csv"
    if not manifest_path.is_file():
        raise ConfigurationError(
            f"The demo needs {manifest_path}: point SESSION_RATER_RECORDINGS_DIR at the repository's "
            "sample_sessions folder, or set SESSION_RATER_DEMO=0."
        )
    entries = load_manifest(manifest_path)
    sessions = _sessions(entries)

    accounts = services.accounts_store
    password_hash = services.accounts.hash_password(DEMO_PASSWORD)

    def add(name: str, *roles: Role):  # type: ignore[no-untyped-def]
        return accounts.create_person(name, demo_email(name), roles, password_hash=password_hash, is_demo=True)

    tutor_names = sorted({name for s in sessions for name in s.tutors})
    people = {name: add(name, Role.TUTOR) for name in tutor_names}
    sites = sorted({s.site for s in sessions})
    for name in TREATMENT_MANAGERS:
        people[name] = add(name, Role.TREATMENT_MANAGER)
    for name in EXTERNAL_ASSESSORS:
        people[name] = add(name, Role.EXTERNAL_ASSESSOR)
    for name in PROGRAMME_MANAGERS:
        people[name] = add(name, Role.PROGRAMME_MANAGER, Role.ADMINISTRATOR)
        accounts.set_scope(people[name].id, actor_id=None, areas=[AREA])
    # Each treatment manager monitors one site's team (the first manager the first site's).
    manager_of = {site: TREATMENT_MANAGERS[i % len(TREATMENT_MANAGERS)] for i, site in enumerate(sites)}
    for site, manager in manager_of.items():
        accounts.set_scope(people[manager].id, actor_id=None, managed_teams=[(AREA, demo_team(site))])

    scorer = _Scorer(rubric, tutor_names, [_quarter(s.date) for s in sessions], SEED)
    rng = scorer.rng
    na_item = rubric.sections[-1].items[-1].id if rubric.allow_not_applicable else None
    clips: dict[Path, tuple[VideoInfo, str]] = {}
    specs: list[RatingSpec] = []
    planned = []  # each session with who rates it, for the benchmark (demo_benchmarks.py)
    extra = 0
    for session in sessions:
        path = session.clip.path
        if path not in clips:
            clips[path] = (probe(path), content_hash(path))
        info, digest = clips[path]
        spec = RecordingSpec(
            file_path=str(path), programme=PROGRAMME, group_name=session.group, session_number=session.number,
            session_title=session.title, recorded_on=session.date, site=session.site, is_catch_up=session.catch_up,
            area=AREA, team=demo_team(session.site), duration_seconds=info.duration_seconds, content_hash=digest,
        )  # fmt: skip
        recording = store.add_recording(spec, [people[n].id for n in session.tutors], is_demo=True)
        if session.manifest_index is not None:  # the clip's own session: its media rows and thumbnails
            _register_media(services, recording.id, path, info, digest)
            index = session.manifest_index
        else:  # shares the clip: plays it as it is (PlaybackView "unchecked"), thumbnails found by its hash
            index = extra
            extra += 1
        plan = _plan(session, index, manager_of[session.site])
        planned.append((recording, plan.raters))
        for name in plan.assessors:
            accounts.assign(people[name].id, recording.id, actor_id=None)
        for tutor in session.tutors:
            delivery = rng.normal(0, SD_SESSION)
            for capacity, rater, submit in plan.raters:
                scores = scorer.form(capacity, rater or tutor, tutor, _quarter(session.date), delivery)
                items: dict[str, ItemEntry] = {}
                for k, (item, score) in enumerate(scores):
                    if not submit and k >= len(scorer.items) // 2:
                        break  # a draft, half done
                    if item == na_item and index % 2 == 0:
                        items[item] = ItemEntry(None)
                        continue
                    note, moment = "", None
                    if capacity is not Capacity.SELF_ASSESSMENT and k % 5 == index % 5:
                        note = EVIDENCE[(k + index) % len(EVIDENCE)]
                        moment = float(round(rng.uniform(1, 24), 1))
                    items[item] = ItemEntry(score, note, moment)
                specs.append(RatingSpec(recording.id, people[tutor].id, people[rater or tutor].id, capacity, items,
                                        submit=submit, confirm_uniform=True, is_demo=True))  # fmt: skip
    n_ratings = store.add_ratings(specs, rubric)
    from session_rater.usecases.demo_benchmarks import load_demo_benchmarks

    n_ratings += load_demo_benchmarks(services, rubric, people, planned)
    return DemoSummary(people=len(people), recordings=len(sessions), ratings=n_ratings)


def reset_demo(services) -> DemoSummary:  # type: ignore[no-untyped-def]
    """Remove the demo rows (only those) and load them afresh."""
    services.store.delete_demo_data()
    return load_demo(services)
