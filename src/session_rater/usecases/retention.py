"""Retention: which recordings' files are due for deletion under the retention policy, and
deleting them (the files, never the scores), each deletion in the audit log with the policy's
version; holds that keep a recording whatever the policy says.

``session-rater retention`` and the Recordings page call these. An *open audit* is a sample
draw's assignment of the recording whose rating is not yet submitted by every rater assigned.
Demo recordings are never deleted: their files ship with Session Rater.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from session_rater.db.retention_store import RetentionStore
from session_rater.domain.access import Action
from session_rater.domain.retention import Hold, RetentionDecision, RetentionPolicy, decide, open_audit_words
from session_rater.io.retention_files import load_retention_policy
from session_rater.media.thumbnails import thumbnails_dir
from session_rater.usecases.captions import added_captions_path
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services


@dataclass(frozen=True)
class RetentionReview:
    policy: RetentionPolicy
    today: dt.date
    decisions: tuple[RetentionDecision, ...]

    @property
    def due(self) -> list[RetentionDecision]:
        return [d for d in self.decisions if d.due]

    @property
    def kept(self) -> list[RetentionDecision]:
        """Past their period but kept: on hold, or an open audit."""
        return [d for d in self.decisions if d.kept_on_purpose]


@dataclass(frozen=True)
class Deletion:
    recording_id: int
    label: str
    reason: str
    deleted: tuple[str, ...]
    left: tuple[str, ...] = field(default=())  # files not deleted, and why


def _store(svc: Services) -> RetentionStore:
    return RetentionStore(svc.store.engine)


def policy(svc: Services) -> RetentionPolicy:
    return load_retention_policy(svc.settings.retention_policy)


def open_audits(svc: Services, today: dt.date, recorded_before: dt.date | None = None) -> dict[int, list[str]]:
    """recording id -> the sample assignments of it still awaiting a submitted rating (of the
    recordings before ``recorded_before``, when given)."""
    found: dict[int, list[str]] = {}
    for a in svc.sampling.assignment_statuses(today=today, recorded_before=recorded_before):
        waiting = (a.rater_id is None or not a.rated) or (a.second_rater_id is not None and not a.second_rated)
        if waiting:
            found.setdefault(a.recording_id, []).append(open_audit_words(str(getattr(a.rule, "value", a.rule)), a.due_on))
    return found


def kept_from(rules: RetentionPolicy, today: dt.date) -> dt.date:
    """The earliest session date whose retention period has not ended on ``today``: every
    recording from then on is within its period (``Period.after`` never goes backwards), so a
    review reads only the sessions before it."""
    lo, hi = dt.date.min.toordinal() + 366, today.toordinal()  # after(today) >= today: today is kept
    while lo < hi:
        mid = (lo + hi) // 2
        if rules.keep_after_session.after(dt.date.fromordinal(mid)) >= today:
            hi = mid
        else:
            lo = mid + 1
    return dt.date.fromordinal(lo)


def _decisions(svc: Services, rules: RetentionPolicy, today: dt.date, *, kept: bool, offset: int = 0,
               limit: int | None = None) -> list[RetentionDecision]:  # fmt: skip
    """The policy's decisions on the recordings past their period that it keeps on purpose
    (``kept``) or that are due, oldest first, ``limit`` of them from ``offset``: selected and
    paged in SQL, decided here."""
    facts = _store(svc).past_facts(kept_from(rules, today), kept=kept, keep_while_audit_open=rules.keep_while_audit_open,
                                   offset=offset, limit=limit)  # fmt: skip
    return [d for d in (decide(rules, f, today) for f in facts) if d is not None]


def review(svc: Services, *, today: dt.date | None = None) -> RetentionReview:
    """The policy applied to every recording past its retention period whose files are still
    kept (demo ones aside): those due, and those kept on purpose. Recordings within their
    period are not read (they are neither)."""
    today = today or dt.date.today()
    rules = policy(svc)
    decisions = _decisions(svc, rules, today, kept=False) + _decisions(svc, rules, today, kept=True)
    return RetentionReview(rules, today, tuple(sorted(decisions, key=lambda d: (d.recorded_on, d.recording_id))))


@dataclass(frozen=True)
class RetentionPage:
    """What a page shows of a review: how many recordings are due and how many kept on purpose
    (counted in SQL), and the oldest ``limit`` of each (read in SQL): at national scale
    thousands are past their period, and a page run reads and sends only what it shows."""

    policy: RetentionPolicy
    today: dt.date
    due_count: int
    kept_count: int
    due: tuple[RetentionDecision, ...]
    kept: tuple[RetentionDecision, ...]


def review_page(svc: Services, *, today: dt.date | None = None, due_limit: int = 50,
                kept_limit: int = 50) -> RetentionPage:  # fmt: skip
    """The counts of :func:`review` and its first ``due_limit`` due and ``kept_limit`` kept
    decisions, oldest first."""
    today = today or dt.date.today()
    rules = policy(svc)
    due_count, kept_count = _store(svc).count_past(kept_from(rules, today),
                                                   keep_while_audit_open=rules.keep_while_audit_open)  # fmt: skip
    due = _decisions(svc, rules, today, kept=False, limit=due_limit) if due_count else []
    kept = _decisions(svc, rules, today, kept=True, limit=kept_limit) if kept_count else []
    return RetentionPage(rules, today, due_count, kept_count, tuple(due), tuple(kept))


def _files_of(svc: Services, recording_id: int) -> list[Path]:
    recording = svc.recording(recording_id)
    paths = {svc.recording_path(recording)}
    hashes = set()
    for media in svc.media.files_of(recording_id):
        paths.add(Path(media.path))
        hashes.add(media.content_hash)
    playback = svc.media.playback(recording_id)
    if playback.content_hash:
        hashes.add(playback.content_hash)
    # Captions are personal data too: added ones (data folder) and any beside the recording.
    paths.update(p for p in (added_captions_path(svc, recording_id), svc.recording_path(recording).with_suffix(".vtt"))
                 if p.is_file())
    return sorted(paths) + sorted(thumbnails_dir(svc.settings.data_dir, h) for h in hashes)


def _in_use_elsewhere(svc: Services, recording_id: int) -> set[Path]:
    """Files that another recording whose files are kept also uses (never deleted with this one)."""
    used = set()
    for other in svc.store.list_recordings():
        if other.id != recording_id and other.files_deleted_at is None:
            used.add(svc.recording_path(other))
            used.update(Path(f.path) for f in svc.media.files_of(other.id))
    return used


def _delete(path: Path, folders: list[Path], in_use: set[Path]) -> str | None:
    """Delete one file or thumbnail folder; the reason when it is left in place."""
    resolved = path.resolve()
    if path in in_use or resolved in in_use:
        return f"{path}: another recording uses it"
    if not any(resolved.is_relative_to(folder.resolve()) for folder in folders):
        return f"{path}: outside the recordings and data folders, so not deleted by Session Rater"
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    return None


def apply(svc: Services, *, by: int | None = None, today: dt.date | None = None) -> list[Deletion]:
    """Delete the files of every recording due for deletion; each deletion is recorded on the
    recording and in the audit log with the policy's id, version and SHA-256. Scores,
    evidence notes and the audit log are kept."""
    result = review(svc, today=today)
    stamp = {"policy": result.policy.id, "policy_version": result.policy.version,
             "policy_sha256": result.policy.fingerprint}  # fmt: skip
    folders = [svc.settings.recordings_dir, svc.settings.data_dir]
    deletions = []
    for decision in result.due:
        in_use = _in_use_elsewhere(svc, decision.recording_id)
        deleted, left = [], []
        for path in _files_of(svc, decision.recording_id):
            if not path.exists():
                continue
            why = _delete(path, folders, in_use)
            (left if why else deleted).append(why or str(path))
        note = f"policy {result.policy.id} v{result.policy.version}: {decision.reason}"
        _store(svc).record_deletion(decision.recording_id, files=deleted, note=note, policy=stamp,
                                    reason=decision.reason, by=by)  # fmt: skip
        deletions.append(Deletion(decision.recording_id, decision.label, decision.reason, tuple(deleted), tuple(left)))
    return deletions


def place_hold(svc: Services, recording_id: int, kind: str, reason: str, *, by: int | None = None) -> Hold:
    return _store(svc).place_hold(recording_id, kind, reason, by=by)


def release_hold(svc: Services, hold_id: int, *, by: int | None = None, note: str = "") -> Hold:
    return _store(svc).release_hold(hold_id, by=by, note=note)


def holds(svc: Services, *, active_only: bool = True) -> list[Hold]:
    return _store(svc).holds(active_only=active_only)


class RetentionAdmin:
    """Retention as the Recordings page shows it to an administrator: what is due, what is
    kept and why, and holds (placed and released in their name)."""

    def __init__(self, me: Permitted) -> None:
        me.require(Action.MANAGE_RECORDINGS)
        self.me = me
        self.svc = me.svc

    def review(self, today: dt.date | None = None) -> RetentionReview:
        return review(self.svc, today=today)

    def review_page(self, *, today: dt.date | None = None, due_limit: int = 50, kept_limit: int = 50) -> RetentionPage:
        return review_page(self.svc, today=today, due_limit=due_limit, kept_limit=kept_limit)

    def holds(self) -> list[Hold]:
        return holds(self.svc)

    def place_hold(self, recording_id: int, kind: str, reason: str) -> Hold:
        self.me.require(Action.MANAGE_RECORDINGS)
        return place_hold(self.svc, recording_id, kind, reason, by=self.me.person.id)

    def release_hold(self, hold_id: int, note: str = "") -> Hold:
        self.me.require(Action.MANAGE_RECORDINGS)
        return release_hold(self.svc, hold_id, by=self.me.person.id, note=note)

    def recording_labels(self, recording_ids: Iterable[int]) -> dict[int, str]:
        """The labels of ``recording_ids`` (those whose files are kept), read by id: the holds
        shown, never every recording."""
        found = self.svc.store.recordings_by_id(recording_ids)
        return {i: f"{r.recorded_on:%d/%m/%Y} · {r.label}" for i, r in found.items() if r.files_deleted_at is None}
