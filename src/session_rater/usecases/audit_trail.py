"""The audit log as administrators read it: every change the app recorded (ratings and their
scores, people, scope, assignments, unblinding, rubric versions), every request for a
recording and every password sign-in, newest first, each described in plain words, filtered
by kind, person, period and text, and downloadable as CSV (with the raw before and after
records beside the words, for anyone who needs them exactly).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from session_rater.domain.access import Action
from session_rater.domain.records import LogEntry
from session_rater.io.spreadsheets import csv_bytes
from session_rater.usecases.permitted import Permitted

SYSTEM = "system"  # changes made with no one signed in: the demo loader, the command line, sign-in itself
LIMITS = (1000, 5000, 20000)
DEFAULT_LIMIT = LIMITS[0]  # what a page shows first: read, described and sent to the browser on every run
COLUMNS = ["at", "who", "kind", "what", "before", "after"]

KINDS = {
    "rating": "Rating", "item_score": "Item score", "person": "Person", "scope": "Scope",
    "assignment": "Assignment", "blindness": "Looked before rating", "recording": "Recording",
    "sign_in": "Sign-in", "rubric": "Rubric", "draw": "Sample draw", "policy": "Sampling policy",
    "training_clearance": "Training use", "benchmark": "Benchmark", "master_scores": "Master scores",
    "calibration_round": "Calibration round", "calibration_attempt": "Calibration result",
    "validity_assignment": "Validity session", "exemplar_clip": "Exemplar clip", "recording_hold": "Hold",
}  # fmt: skip
FIELDS = {
    "score": "score", "not_applicable": "N/A", "evidence": "evidence", "moment_seconds": "moment",
    "display_name": "name", "email": "email", "roles": "roles", "active": "account open",
    "has_password": "has a password", "oidc_subject": "organisation identity", "status": "status",
    "version": "version", "reason": "reason", "managed_teams": "teams managed", "areas": "areas",
    "area": "area", "team": "team", "person_id": "person", "capacity": "capacity", "tutor_id": "tutor",
    "recording_id": "session", "rubric": "rubric", "rubric_id": "rubric", "file": "file",
}  # fmt: skip
RESULTS = {200: "played", 206: "played", 403: "refused (not allowed)", 404: "refused (file missing)"}


def compact(value: object) -> str:
    """A before/after record as one line of JSON ('' for none): the CSV's raw columns."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=str)


def _moment(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "none"
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


@dataclass
class Describer:
    """Plain words for an entry: names for ids, item titles for item ids."""

    names: Mapping[int, str]
    items: Mapping[str, str] = field(default_factory=dict)

    def person(self, person_id: object) -> str:
        return self.names.get(person_id, f"person {person_id}") if isinstance(person_id, int) else "someone"

    def value(self, key: str, value: object) -> str:
        if value is None or value == "":
            return "none"
        if key == "moment_seconds":
            return _moment(value)
        if key in {"person_id", "tutor_id"}:
            return self.person(value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        if key == "roles" and isinstance(value, list):
            return ", ".join(str(r).replace("_", " ") for r in value) or "none"
        if isinstance(value, list):
            return ", ".join(" / ".join(map(str, v)) if isinstance(v, list) else str(v) for v in value) or "none"
        if key == "item_id":
            return self.items.get(str(value), str(value))
        return f"“{value}”" if key in {"evidence", "reason", "display_name"} else str(value)

    def changes(self, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
        before, after = dict(before or {}), dict(after or {})
        keys = [k for k in dict.fromkeys([*after, *before]) if k != "item_id" and before.get(k) != after.get(k)]
        parts = []
        for key in keys:
            label = FIELDS.get(key, key.replace("_", " "))
            if key in before and key in after:
                parts.append(f"{label} {self.value(key, before[key])} → {self.value(key, after[key])}")
            elif key in after:
                parts.append(f"{label} {self.value(key, after[key])}")
            else:
                parts.append(f"{label} was {self.value(key, before[key])}")
        return "; ".join(parts)

    def describe(self, e: LogEntry) -> str:
        after, before = e.after or {}, e.before or {}
        if e.entity == "recording" and e.action == "play":
            result = RESULTS.get(after.get("status"), f"answered {after.get('status')}")  # type: ignore[arg-type]
            return f"Session {e.entity_id}: recording {result}"
        if e.entity == "recording" and e.action == "captions":
            return f"Session {e.entity_id}: captions added from {after.get('file')} ({after.get('cues')} lines)"
        if e.entity in BENCHMARK_ENTITIES:
            return _benchmark_entry(self, e, before, after)
        if e.entity == "sign_in":
            return f"Signed in as {after.get('email')}" if e.action == "signed_in" else (
                f"Failed sign-in for {after.get('email')}")
        if e.entity == "item_score":
            item = self.items.get(str(after.get("item_id") or before.get("item_id")), "an item")
            return f"{item}: {self.changes(before, after) or 'saved unchanged'}"
        if e.entity == "rating":
            verb = {"create": "Started rating", "submit": "Submitted rating", "correct": "Corrected rating"}
            return f"{verb.get(e.action, e.action.capitalize())} {e.entity_id}" + (
                f": {self.changes(before, after)}" if e.action != "submit" else "")
        if e.entity == "blindness":
            return f"Looked at others' ratings of session {e.entity_id} (tutor {self.person(after.get('tutor_id'))}) " \
                   "before rating it: recorded as not blind"
        if e.entity == "assignment":
            who = self.person((after or before).get("person_id"))
            return f"Session {e.entity_id} {'assigned to' if e.action == 'assign' else 'withdrawn from'} {who}"
        if e.entity in {"person", "scope"}:
            what = {"create": "Added", "update": "Changed", "set_password": "New password for",
                    "link_identity": "Linked the organisation sign-in of"}.get(e.action, e.action)
            detail = self.changes(before, after) if e.action != "set_password" else ""
            return f"{what} {self.person(e.entity_id)}" + (f": {detail}" if detail else "")
        detail = self.changes(before, after)
        return f"{e.action.replace('_', ' ').capitalize()}" + (f": {detail}" if detail else "")


BENCHMARK_ENTITIES = {"training_clearance", "benchmark", "master_scores", "calibration_round", "calibration_attempt",
                      "validity_assignment", "exemplar_clip"}  # fmt: skip
BENCHMARK_STATES = {"panel_rating": "the panel is rating it", "adjudication": "ready for adjudication",
                    "master_scored": "master scores agreed"}  # fmt: skip


def _benchmark_entry(self: Describer, e: LogEntry, before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """The benchmark's entries (issue 10) in words: who, which session, what was agreed."""
    if e.entity == "training_clearance":
        return f"Session {e.entity_id} cleared for training use" + (f": “{after['note']}”" if after.get("note") else "")
    if e.entity == "benchmark" and e.action == "designate":
        panel = ", ".join(self.person(p) for p in after.get("panel") or [])
        return (f"Session {after.get('recording_id')} (tutor {self.person(after.get('tutor_id'))}) made benchmark "
                f"{e.entity_id}; panel {panel}, led by {self.person(after.get('panel_lead'))}; "
                f"reason “{after.get('reason')}”")  # fmt: skip
    if e.entity == "benchmark":
        return f"Benchmark {e.entity_id}: {BENCHMARK_STATES.get(str(after.get('state')), str(after.get('state')))}"
    if e.entity == "master_scores":
        n = len(after.get("scores") or [])
        if e.action == "agree":
            return f"Master scores of benchmark {e.entity_id} agreed and locked ({n} items, version 1)"
        return (f"Master scores of benchmark {e.entity_id} changed to version {after.get('version')} "
                f"({n} items): reason “{after.get('reason')}”")  # fmt: skip
    if e.entity == "calibration_round":
        raters = ", ".join(self.person(p) for p in after.get("raters") or [])
        return (f"Calibration round “{after.get('title')}” due {after.get('due_on')}: "
                f"{len(after.get('benchmarks') or [])} benchmark sessions for {raters}")  # fmt: skip
    if e.entity == "calibration_attempt":
        n = after.get("n_items") or 0
        verdict = "certified" if after.get("passed") else "not certified"
        return (f"Calibration round {after.get('round_id')}: {self.person(after.get('rater_id'))} {verdict}; "
                f"within one point on {after.get('within_one')} of {n} items, exact on {after.get('exact')} "
                f"(rule {after.get('rule')})")  # fmt: skip
    if e.entity == "validity_assignment" and e.action == "reveal":
        return f"Validity session {e.entity_id} shown as a benchmark after the rating was submitted"
    if e.entity == "validity_assignment":
        return f"Validity session for {self.person(after.get('rater_id'))} (benchmark {after.get('benchmark_id')})"
    item = self.items.get(str(after.get("item_id")), "an item")
    return (f"Exemplar clip of benchmark {after.get('benchmark_id')}: {item} at score {after.get('score')}, "
            f"{_moment(after.get('start'))} to {_moment(after.get('end'))}")  # fmt: skip



@dataclass(frozen=True)
class LogFilters:
    """Which entries are shown: kinds, people (names), a period (UTC days, ends included) and
    text the description or record contains. Empty means "all"."""

    limit: int = DEFAULT_LIMIT
    kinds: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    text: str = ""
    page: int = 0
    """Which ``limit`` of the entries that pass the other filters: 0 the newest, 1 the next older..."""

    def params(self) -> dict[str, str]:
        """As URL parameters (the download link carries the page's filters)."""
        out = {"limit": str(self.limit)}
        if self.page:
            out["page"] = str(self.page)
        if self.kinds:
            out["kinds"] = ",".join(self.kinds)
        if self.people:
            out["people"] = "\n".join(self.people)
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        if self.text.strip():
            out["text"] = self.text.strip()
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> LogFilters:
        def day(key: str) -> dt.date | None:
            return dt.date.fromisoformat(params[key]) if params.get(key) else None

        limit = int(params.get("limit", DEFAULT_LIMIT))
        if limit not in LIMITS:
            raise ValueError(f"limit must be one of {', '.join(map(str, LIMITS))}")
        page = int(params.get("page", 0))
        if page < 0:
            raise ValueError("page must be 0 or more")
        return cls(limit, tuple(k for k in params.get("kinds", "").split(",") if k),
                   tuple(p for p in params.get("people", "").split("\n") if p), day("from"), day("to"),
                   params.get("text", ""), page)  # fmt: skip

    def apply(self, table: pd.DataFrame) -> pd.DataFrame:
        shown = table
        if self.kinds:
            shown = shown[shown["kind"].isin(self.kinds)]
        if self.people:
            shown = shown[shown["who"].isin(self.people)]
        if self.date_from or self.date_to:
            day = shown["at"].map(lambda t: t.date())
            if self.date_from:
                shown = shown[day >= self.date_from]
            if self.date_to:
                shown = shown[day <= self.date_to]
        if self.text.strip():
            needle = self.text.strip().lower()
            haystack = shown["what"] + " " + shown["before"] + " " + shown["after"]
            shown = shown[haystack.str.lower().str.contains(needle, regex=False)]
        return shown.reset_index(drop=True)


def _entity(kind: str) -> str:
    """The entity of a kind in words (KINDS, or the words made of an entity's name)."""
    inverse = {label: entity for entity, label in KINDS.items()}
    return inverse.get(kind, kind.lower().replace(" ", "_"))


class AuditTrail:
    def __init__(self, me: Permitted) -> None:
        me.require(Action.VIEW_AUDIT_LOG)
        self.me = me
        self._names: dict[int, str] | None = None

    def names(self) -> dict[int, str]:
        """Everyone's name, closed accounts included (the audit log outlives them): read once
        per trail (a page run asks three times)."""
        if self._names is None:
            self._names = self.me.audit_log_names()
        return self._names

    def _describer(self) -> Describer:
        items = {item.id: item.title for rubric in self.me.svc.rubrics() for item in rubric.items}
        return Describer(self.names(), items)

    def read(self, limit: int = DEFAULT_LIMIT) -> pd.DataFrame:
        """The newest ``limit`` entries, described."""
        return self.read_filtered(LogFilters(limit))

    def kinds(self) -> list[str]:
        """Every kind of entry, in words (the Kind filter's choices: no scan of the log)."""
        return sorted(set(KINDS.values()))

    def people(self) -> list[str]:
        """Everyone's name and "system" (the Person filter's choices: no scan of the log)."""
        return sorted(set(self.names().values())) + [SYSTEM]

    def first_day(self) -> dt.date | None:
        first = self.me.audit_log_first()
        return None if first is None else first.astimezone(dt.UTC).date()

    def read_filtered(self, filters: LogFilters) -> pd.DataFrame | None:
        """The entries of ``filters``' kinds, people and period, selected in SQL, ``limit`` of
        them from page ``page``, newest first, described (the text filter is then applied to
        the words by :meth:`LogFilters.apply`). None when the people chosen made no entry."""
        entities = tuple(dict.fromkeys(_entity(k) for k in filters.kinds))
        actor_ids: list[int | None] = []
        if filters.people:
            names = self.names()
            chosen = set(filters.people)
            actor_ids = [pid for pid, name in names.items() if name in chosen]
            actor_ids += [int(p.removeprefix("person ")) for p in chosen
                          if p.startswith("person ") and p.removeprefix("person ").isdigit()]  # fmt: skip
            if SYSTEM in chosen:
                actor_ids.append(None)
            if not actor_ids:
                return None
        since = None if filters.date_from is None else dt.datetime.combine(filters.date_from, dt.time(), dt.UTC)
        until = None if filters.date_to is None else dt.datetime.combine(filters.date_to + dt.timedelta(days=1),
                                                                          dt.time(), dt.UTC)  # fmt: skip
        entries = self.me.audit_log(limit=filters.limit, offset=filters.page * filters.limit, entities=entities,
                                    actor_ids=actor_ids, since=since, until=until)  # fmt: skip
        return self.describe(entries)

    def describe(self, entries: Sequence[LogEntry]) -> pd.DataFrame:
        words = self._describer()
        rows = [
            {
                "at": e.at,
                "who": SYSTEM if e.actor_id is None else words.person(e.actor_id),
                "kind": KINDS.get(e.entity, e.entity.replace("_", " ").capitalize()),
                "what": words.describe(e),
                "before": compact(e.before),
                "after": compact(e.after),
            }
            for e in entries
        ]
        return pd.DataFrame(rows, columns=COLUMNS)

    def table(self, filters: LogFilters) -> pd.DataFrame:
        """What the page shows for ``filters`` (and its CSV has): kinds, people and period
        selected in SQL, one page of them read, the text looked for in their words."""
        read = self.read_filtered(filters)
        return pd.DataFrame(columns=COLUMNS) if read is None else filters.apply(read)

    @staticmethod
    def csv(shown: pd.DataFrame) -> bytes:
        """What is shown, as CSV (formula-safe): the words, and the raw records beside them."""
        return csv_bytes(shown.rename(columns={"at": "at (UTC)", "what": "what happened"}))
