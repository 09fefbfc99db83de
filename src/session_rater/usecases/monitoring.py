"""Monitoring: the sampling policies in force, drawing a sample by them (previewed or saved,
with its seed), the draws made, coverage against the targets, and a rater's work queue.

A draw tops up what earlier draws of the same policy hold: it never removes or changes an
earlier assignment. If a policy's file is broken, the version in force stays in force: the
version read before by this process, else the newest version stored with an earlier draw.
The ``session-rater sample`` command and the Sampling, Coverage and My work pages all come here.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from session_rater.domain.access import Action
from session_rater.domain.coverage import AssignmentStatus, CoverageCount, MonitoredSession
from session_rater.domain.model import MAX_SEED
from session_rater.domain.records import RecordingView
from session_rater.domain.sampling import Draw, PersonFacts, SamplingPolicy, Selection, SessionFacts, draw_sample
from session_rater.domain.sampling.work import DrawView, QueueItem, QueueStatus, TutorProgress, TutorStatus
from session_rater.errors import NotFoundError, PolicyError, SessionRaterError
from session_rater.domain.versions import bumped
from session_rater.io.files import write_new_file
from session_rater.io.policy_files import (
    POLICY_FILE_SUFFIXES,
    PolicyCatalog,
    load_policy_dir,
    parse_policy,
    parse_policy_text,
    read_policy_text,
    policy_to_dict,
)
from session_rater.domain.versions import version_sort_key
from session_rater.db.sampling_store import SamplingStore
from session_rater.usecases.calibration import top_up_after_draw, validity_queue_items
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services

__all__ = [
    "MAX_SEED",
    "DrawOutcome",
    "Monitoring",
    "PolicyCatalog",
    "PolicyInForce",
    "draw_by_policy",
    "resolve_policy",
]



def resolve_policy(
    catalog: PolicyCatalog, name: str, last_snapshot: dict[str, Any] | None
) -> tuple[SamplingPolicy, list[str]]:
    """The policy in force named ``name``, and warnings to show.

    The newest valid version in the folder; if there is none but a policy file is broken, the
    version stored with the last draw stays in force (with the broken files' errors as warnings).
    """
    warnings = [f"{error}" for error in catalog.errors.values()]
    try:
        return catalog.latest(name), warnings
    except NotFoundError:
        if last_snapshot is None or not catalog.errors:
            if catalog.errors:
                raise PolicyError(
                    name,
                    [f"no valid policy named {name!r} and no earlier draw to fall back on; fix the file(s):"]
                    + [e for error in catalog.errors.values() for e in error.errors],
                ) from None
            raise
    policy = parse_policy(last_snapshot, f"{name} (stored with the last draw)")
    warnings.append(
        f"policy {name!r} did not load from the folder; the version in force stays in force: "
        f"{policy.label}, as stored with the last draw"
    )
    return policy, warnings


@dataclass(frozen=True)
class PolicyInForce:
    policy: SamplingPolicy
    source: str
    """Where it comes from: a file name, or the copy stored with the last draw."""
    kept: bool
    """True when its file is now broken and the version read before stays in force."""


def policies_in_force(catalog: PolicyCatalog, store: SamplingStore) -> list[PolicyInForce]:
    """The newest valid version of every policy, by name (as ``session-rater sample`` picks it),
    including a policy whose file broke before this process read it: the version stored with
    its last draw stays in force."""
    names = set(catalog.names()) | {d.policy_name for d in store.list_draws() if not d.dry_run}
    found = []
    for name in sorted(names):
        try:
            policy, _ = resolve_policy(catalog, name, store.last_policy_snapshot(name))
        except SessionRaterError:  # deleted, or broken with nothing to fall back on
            continue
        key = (policy.name, policy.version)
        if catalog.policies.get(key) == policy:
            found.append(PolicyInForce(policy, catalog.origins[key], key in catalog.kept))
        else:
            found.append(PolicyInForce(policy, "the copy stored with its last draw", True))
    return found


_catalog_lock = threading.Lock()
_loaded_catalogs: dict[str, PolicyCatalog] = {}
"""Process-wide: each policies folder's catalog as last loaded, so that a file broken by an edit
leaves the version loaded before it in force (``load_policy_dir(previous=...)``)."""


def policy_catalog(directory: Path) -> PolicyCatalog:
    """The policy files read now, keeping in force what a now-broken file held before.

    Raises :class:`PolicyError` if the folder does not exist."""
    with _catalog_lock:
        catalog = load_policy_dir(directory, previous=_loaded_catalogs.get(str(directory)))
        _loaded_catalogs[str(directory)] = catalog
    return catalog


@dataclass(frozen=True)
class DrawOutcome:
    draw: Draw
    saved: DrawView | None  # None: a preview (dry run), nothing saved
    roster: list[SessionFacts]
    people: list[PersonFacts]


def _draw(store: SamplingStore, policy: SamplingPolicy, seed: int, *, save: bool, drawn_by: int | None) -> DrawOutcome:
    roster, people = store.roster(), store.people()
    draw = draw_sample(
        roster, people, policy, seed=seed, drawn_on=dt.date.today(), previous=store.previous_selections(policy.name)
    )
    saved = store.save_draw(draw, policy_to_dict(policy), drawn_by=drawn_by) if save else None
    return DrawOutcome(draw, saved, roster, people)


def draw_by_policy(svc: Services, name: str, seed: int, *, save: bool) -> tuple[DrawOutcome, list[str]]:
    """``session-rater sample``: the policy in force named ``name`` applied with ``seed``
    (saved unless a dry run), and the warnings about broken policy files."""
    catalog = load_policy_dir(svc.settings.policies_dir)
    policy, warnings = resolve_policy(catalog, name, svc.sampling.last_policy_snapshot(name))
    outcome = _draw(svc.sampling, policy, seed, save=save, drawn_by=None)
    if save:
        _blend_validity(svc, seed)
    return outcome, warnings


def _blend_validity(svc: Services, seed: int) -> None:
    """Validity sessions join treatment managers' work with each saved draw (issue 10), at the
    ``validity_rate`` of the policy drawn (the draw saved with ``seed``)."""
    top_up_after_draw(svc, seed=seed, today=dt.date.today())


def _tutor_progress(item: QueueItem, recording: RecordingView | None,
                    progress: dict[tuple[int, int | None, str], str]) -> tuple[TutorProgress, ...]:  # fmt: skip
    capacity = item.capacity.value
    tutors = [(t.id, t.display_name) for t in recording.tutors] if recording and recording.tutors else [(None, "the session")]
    return tuple(
        TutorProgress(tutor_id, name, progress.get((item.recording_id, tutor_id, capacity), TutorStatus.NOT_STARTED))
        for tutor_id, name in tutors
    )


class Monitoring:
    """Sampling, coverage and work queues as one signed-in person may use them."""

    def __init__(self, me: Permitted) -> None:
        self.me = me
        self.svc = me.svc
        self.store = me.svc.sampling
        self._reach = me.reach()  # the sessions this person may see (the rule of Sessions), as SQL
        self._read: dict[str, Any] = {}  # what one page run has read already (Coverage reads it twice)

    def _once(self, key: str, read: Any) -> Any:
        if key not in self._read:
            self._read[key] = read()
        return self._read[key]

    def recordings_of(self, recording_ids: Iterable[int]) -> dict[int, RecordingView]:
        """The sessions among ``recording_ids`` this person may see, by id: read by id in SQL
        and checked against the access rule (never every session in reach to show a few)."""
        ids = set(recording_ids)
        known: dict[int, RecordingView | None] = self._read.setdefault("recordings", {})  # this page run's reads
        missing = ids - known.keys()
        if missing:  # My work reads its sessions once (work_queue), not again for the rows it shows
            found = self.svc.store.recordings_by_id(missing, within=self._reach)
            known.update({i: r if r is not None and self.me.decide(Action.VIEW_SESSION, r) else None
                          for i in missing for r in [found.get(i)]})  # fmt: skip
        return {i: r for i in ids if (r := known[i]) is not None}

    def visible(self, selections: Sequence[Selection]) -> tuple[list[Selection], int]:
        """The selections of sessions this person may see, and how many others were left out."""
        reach = self.svc.store.reachable_ids([s.recording_id for s in selections], self._reach)
        shown = [s for s in selections if s.recording_id in reach]
        return shown, len(selections) - len(shown)

    # -- My work ---------------------------------------------------------------------------
    def work_queue(self, today: dt.date) -> list[QueueItem]:
        """The sessions this person is due to rate, soonest due first, each with its tutors and
        how far this person has got with each (co-tutors are rated one form each). Validity
        sessions are among them, indistinguishable from live monitoring (usecases/calibration/validity.py)."""
        items = self.store.work_queue(self.me.person.id, today=today)
        items += validity_queue_items(self.svc, self.me.person.id, today=today)
        if not items:
            return items
        items = sorted(items, key=lambda q: (q.status == QueueStatus.SUBMITTED, q.due_on or dt.date.max,
                                             q.assignment_id))  # fmt: skip
        ids = sorted({i.recording_id for i in items})
        progress = self.store.rating_progress(self.me.person.id, ids)
        reach = self.recordings_of(ids)
        return [replace(item, tutors=_tutor_progress(item, reach.get(item.recording_id), progress)) for item in items]

    def any_draws(self) -> bool:
        return bool(self.store.list_draws())

    # -- policies --------------------------------------------------------------------------
    def may_manage(self) -> bool:
        """Whether this person may save draws and policy versions (administrators)."""
        return bool(self.me.decide(Action.MANAGE_SAMPLING))

    def catalog(self) -> PolicyCatalog:
        self.me.require(Action.VIEW_COVERAGE)
        return policy_catalog(self.svc.settings.policies_dir)

    def policies_in_force(self, catalog: PolicyCatalog) -> list[PolicyInForce]:
        self.me.require(Action.VIEW_COVERAGE)
        return policies_in_force(catalog, self.store)

    def policy_files(self) -> list[str]:
        """The policy files in the folder, by name (a starting point for an edit)."""
        self.me.require(Action.VIEW_COVERAGE)
        directory = self.svc.settings.policies_dir
        return sorted(
            p.name for p in directory.iterdir()
            if p.suffix in POLICY_FILE_SUFFIXES and p.is_file() and not p.name.startswith(".")
        )  # fmt: skip

    def policy_file_text(self, name: str) -> str:
        if name not in self.policy_files():
            raise NotFoundError(f"There is no policy file {name!r} in {self.svc.settings.policies_dir}.")
        return read_policy_text(self.svc.settings.policies_dir / name)

    @staticmethod
    def check_policy(text: str, source: str) -> tuple[SamplingPolicy | None, PolicyError | None]:
        """The policy in ``text``, or the PolicyError counting every problem with it (and listing
        the first of them)."""
        try:
            return parse_policy_text(text, source), None
        except PolicyError as exc:
            return None, exc

    def save_policy(self, text: str, source: str) -> tuple[SamplingPolicy, str]:
        """Validate, require a new (higher) version, then write a new file (never an invalid one,
        never over another): the policy and its file name. A PolicyError lists what is wrong."""
        self.me.require(Action.MANAGE_SAMPLING)
        policy = parse_policy_text(text, source)  # a PolicyError says what is wrong
        directory = self.svc.settings.policies_dir
        catalog = policy_catalog(directory)
        versions = [p.version for p in catalog.versions(policy.name)]
        versions += [e.policy.version for e in policies_in_force(catalog, self.store) if e.policy.name == policy.name]
        newest = max(versions, key=version_sort_key, default=None)
        if newest is not None and version_sort_key(policy.version) <= version_sort_key(newest):
            raise PolicyError(source, [
                f"{source}: version: {policy.version!r} is not newer than version {newest!r} of policy "
                f"{policy.name!r}; bump it (e.g. to \"{bumped(newest)}\") to save the edit as a new version"
            ])  # fmt: skip
        file_name = f"{policy.name}-{policy.version}.yaml"
        try:
            write_new_file(directory, file_name, text)
        except FileExistsError:
            raise PolicyError(source, [
                f"{file_name} already exists in {directory}; give the policy a version that has no file yet"
            ]) from None  # fmt: skip
        except OSError as exc:
            raise PolicyError(source, [f"cannot write {directory / file_name}: {exc.strerror or exc}"]) from None
        policy_catalog(directory)  # read the new file now, so the list of policies shows it
        return policy, file_name

    # -- draws -----------------------------------------------------------------------------
    def draw(self, policy: SamplingPolicy, seed: int, *, save: bool) -> DrawOutcome:
        """A draw by ``policy`` with ``seed``: a preview, or (administrators) saved."""
        self.me.require(Action.MANAGE_SAMPLING if save else Action.VIEW_COVERAGE)
        outcome = _draw(self.store, policy, seed, save=save, drawn_by=self.me.person.id)
        if save:
            _blend_validity(self.svc, seed)
        return outcome

    def draws(self) -> list[DrawView]:
        """The draws made (not the dry runs), newest first."""
        self.me.require(Action.VIEW_COVERAGE)
        return [d for d in self.store.list_draws() if not d.dry_run]

    def selections_of(self, draw: DrawView) -> list[Selection]:
        self.me.require(Action.VIEW_COVERAGE)
        return [a.as_selection() for a in self.store.assignments(draw.policy_name, draw_id=draw.id)]

    def recordings(self, recording_ids: Iterable[int] | None = None) -> dict[int, RecordingView]:
        """The recorded sessions among ``recording_ids`` (default: all) this person may see, by id
        (a draw's other sessions are not shown). Pages pass the ids they show."""
        self.me.require(Action.VIEW_COVERAGE)
        if recording_ids is None:
            return {r.id: r for r in self.me.recordings()}
        return self.recordings_of(recording_ids)

    def people_names(self) -> dict[int, str]:
        return {p.id: p.display_name for p in self.svc.store.list_people()}

    # -- coverage --------------------------------------------------------------------------
    def roster(self) -> list[SessionFacts]:
        """The recorded sessions this person may see, as facts for the coverage figures."""
        self.me.require(Action.VIEW_COVERAGE)
        return list(self._once("roster", lambda: self.store.roster(self._reach)))

    def assignment_statuses(self, today: dt.date) -> Sequence[AssignmentStatus]:
        """The sample assignments of the sessions this person may see."""
        self.me.require(Action.VIEW_COVERAGE)
        return list(self._once(f"statuses:{today}", lambda: self.store.assignment_statuses(today=today,
                                                                                      within=self._reach)))

    def monitored_sessions(self) -> list[MonitoredSession]:
        """The sessions this person may see that a treatment manager has submitted a monitoring
        rating of (drawn or not), with the tutors so rated."""
        self.me.require(Action.VIEW_COVERAGE)
        return list(self._once("monitored", lambda: self.store.monitored_sessions(self._reach)))

    def coverage_counts(self, by: str, today: dt.date) -> list[CoverageCount]:
        """The coverage figures of the sessions this person may see, counted in SQL per ``by``
        and month of recording (one query per grouping and page run)."""
        self.me.require(Action.VIEW_COVERAGE)
        return list(self._once(f"counts:{by}:{today}", lambda: self.store.coverage_counts(by, today=today,
                                                                                          within=self._reach)))

    def rater_names(self) -> dict[int, str]:
        return dict(self._once("names", lambda: {p.id: p.name for p in self.store.people()}))
