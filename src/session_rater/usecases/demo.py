"""Demo data: the sample sessions, a roster of people and ratings that show what the
inspectorate found (HMIP 2002 follow-up audit of Think First in Cumbria):

* tutors over-score their own delivery (C1.5), treatment managers over-score less but still
  do (B5.1), external assessors are the reference: self > treatment manager > external on
  most items, most clearly on the items the audit found weak (learning checked, pacing, open
  questioning, members validating ideas, handovers, praise);
* one tutor does not assess each criterion independently: every item gets the same score.

Everything loaded here is marked ``is_demo`` and is shown as demo data in the app.
``session-rater demo`` removes it and loads it afresh. Deterministic: one fixed seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from session_rater.db.store import RecordingSpec
from session_rater.domain.model import Capacity, Role
from session_rater.domain.rubric import Rubric
from session_rater.errors import ConfigurationError, NotFoundError
from session_rater.io.manifest import load_manifest
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
# Every demo account signs in with its email (first.last@demo.example, see README) and this
# password. Demo data is for trying the tool: do not load it where real people sign in.
DEMO_PASSWORD = "demo-password"
DEMO_EMAIL_DOMAIN = "demo.example"


def demo_email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@" + DEMO_EMAIL_DOMAIN


def demo_team(site: str) -> str:
    return f"{site} team"
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


def _is_weak(rubric: Rubric, item_id: str) -> bool:
    text = (item_id + " " + rubric.item(item_id).title).lower()
    return any(word in text for word in WEAK_SPOTS)


def _clip(rubric: Rubric, value: float) -> int:
    return int(min(rubric.maximum, max(rubric.minimum, round(value))))


def _register_media(services, recording_id: int, path: Path, info: VideoInfo, digest: str) -> None:  # type: ignore[no-untyped-def]
    """Record a demo clip as ingest records a browser-safe file, with its timeline thumbnails."""
    for kind in ("original", "playable"):  # the clips play in the browser as they are
        services.media.record_file(recording_id=recording_id, kind=kind, path=path, content_hash=digest, info=info)
    thumbnail_strip(path, digest, data_dir=services.settings.data_dir, count=DEMO_THUMBNAILS)


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
    rng = np.random.default_rng(SEED)

    accounts = services.accounts_store
    password_hash = services.accounts.hash_password(DEMO_PASSWORD)

    def add(name: str, *roles: Role):  # type: ignore[no-untyped-def]
        return accounts.create_person(name, demo_email(name), roles, password_hash=password_hash, is_demo=True)

    tutor_names = sorted({name for e in entries for name in e.tutors})
    people = {name: add(name, Role.TUTOR) for name in tutor_names}
    sites = sorted({e.site for e in entries})
    for name in TREATMENT_MANAGERS:
        people[name] = add(name, Role.TREATMENT_MANAGER)
    for name in EXTERNAL_ASSESSORS:
        people[name] = add(name, Role.EXTERNAL_ASSESSOR)
    for name in PROGRAMME_MANAGERS:
        people[name] = add(name, Role.PROGRAMME_MANAGER, Role.ADMINISTRATOR)
        accounts.set_scope(people[name].id, actor_id=None, areas=[AREA])
    # Each treatment manager monitors one site's team (the first manager the first site's).
    manager_of = {site: people[TREATMENT_MANAGERS[i % len(TREATMENT_MANAGERS)]] for i, site in enumerate(sites)}
    for site, manager in manager_of.items():
        accounts.set_scope(manager.id, actor_id=None, managed_teams=[(AREA, demo_team(site))])

    # Latent delivery quality per tutor and item: the "truth" the external assessors see best.
    items = [item.id for item in rubric.items]
    skill = {name: rng.uniform(1.2, 2.1) for name in tutor_names}
    truth = {
        (name, item): skill[name] - (0.7 if _is_weak(rubric, item) else 0.0) + rng.normal(0, 0.3)
        for name in tutor_names
        for item in items
    }
    bias = {Capacity.SELF_ASSESSMENT: 1.1, Capacity.MONITORING: 0.55, Capacity.EXTERNAL: 0.0}
    na_item = rubric.sections[-1].items[-1].id if rubric.allow_not_applicable else None

    n_ratings = 0
    for index, entry in enumerate(entries):
        info, digest = probe(entry.path), content_hash(entry.path)
        spec = RecordingSpec(
            file_path=str(entry.path),
            programme=entry.programme,
            group_name=entry.group,
            session_number=entry.session_number,
            session_title=entry.session_title,
            recorded_on=entry.date,
            site=entry.site,
            is_catch_up=entry.catch_up,
            area=AREA,
            team=demo_team(entry.site),
            duration_seconds=info.duration_seconds,
            content_hash=digest,
        )
        recording = store.add_recording(spec, [people[n].id for n in entry.tutors], is_demo=True)
        _register_media(services, recording.id, entry.path, info, digest)
        last = index == len(entries) - 1
        manager = manager_of[entry.site]
        assessor = people[EXTERNAL_ASSESSORS[index % 2]]
        accounts.assign(assessor.id, recording.id, actor_id=None)
        raters: list[tuple[Capacity, int, bool]] = []  # capacity, rater id (0 = the tutor), submit
        raters.append((Capacity.SELF_ASSESSMENT, 0, not last))
        if index % 3 != 2 or last:
            raters.append((Capacity.MONITORING, manager.id, not last))
        if index % 3 != 1:
            raters.append((Capacity.EXTERNAL, assessor.id, True))
        for tutor_name in entry.tutors:
            tutor = people[tutor_name]
            for capacity, rater_id, submit in raters:
                rating = store.start_rating(
                    recording.id, tutor.id, rater_id or tutor.id, capacity, rubric, is_demo=True
                )
                n_ratings += 1
                for k, item in enumerate(items):
                    if submit is False and k >= len(items) // 2:
                        break  # a draft, half done
                    if item == na_item and index % 2 == 0:
                        store.save_item(rating.id, item, not_applicable=True)
                        continue
                    if capacity is Capacity.SELF_ASSESSMENT and tutor_name == STRAIGHT_LINER:
                        score = rubric.maximum
                    else:
                        score = _clip(rubric, truth[tutor_name, item] + bias[capacity] + rng.normal(0, 0.35))
                    note, moment = "", None
                    if capacity is not Capacity.SELF_ASSESSMENT and k % 5 == index % 5:
                        note = EVIDENCE[(k + index) % len(EVIDENCE)]
                        moment = float(round(rng.uniform(1, 24), 1))
                    store.save_item(rating.id, item, score=score, evidence=note, moment_seconds=moment)
                if submit:
                    store.submit_rating(rating.id, confirm_uniform=True)  # the straight-liner confirms
    return DemoSummary(people=len(people), recordings=len(entries), ratings=n_ratings)


def reset_demo(services) -> DemoSummary:  # type: ignore[no-untyped-def]
    """Remove the demo rows (only those) and load them afresh."""
    services.store.delete_demo_data()
    return load_demo(services)
