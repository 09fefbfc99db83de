"""Rubric versions as recorded when first used: a frozen snapshot per (id, version), so an
edited file can never change what earlier ratings meant."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from session_rater.db import models as m
from session_rater.db.rows import (
    StoreBase,
)
from session_rater.domain.rubric import (
    Rubric,
    rubric_fingerprint,
    rubric_from_dict,
    rubric_to_dict,
)
from session_rater.domain.model import RatingStatus
from session_rater.errors import (
    NotFoundError,
    RubricError,
)


class RubricVersionStore(StoreBase):
    # -- rubric versions ------------------------------------------------------------------
    def record_rubric_version(self, rubric: Rubric) -> None:
        """Snapshot ``rubric`` at its version. Idempotent (also when several raters start at
        once); refuses a changed definition under an existing version, which would silently
        alter what earlier ratings meant."""
        fingerprint = rubric_fingerprint(rubric)
        for attempt in (1, 2):
            try:
                with self._sessions.begin() as s:
                    existing = s.get(m.RubricVersion, (rubric.id, rubric.version))
                    if existing is None:
                        s.add(
                            m.RubricVersion(
                                rubric_id=rubric.id,
                                version=rubric.version,
                                title=rubric.title,
                                fingerprint=fingerprint,
                                definition=rubric_to_dict(rubric),
                            )
                        )
                        return
                    if existing.fingerprint == fingerprint:
                        return
                    raise RubricError(
                        f"{rubric.id} v{rubric.version}",
                        [
                            f"rubric {rubric.id!r} version {rubric.version!r} differs from the definition "
                            "already used for ratings under that version; give the edited file a new "
                            "`version` (e.g. bump 1.0 to 1.1) so earlier ratings keep their meaning"
                        ],
                    )
            except IntegrityError:  # recorded by another rater at the same moment: compare with it
                if attempt == 2:
                    raise

    def rubric_version(self, rubric_id: str, version: str, *, session: Session | None = None) -> Rubric:
        """The definition of a rubric as it was at ``version`` (from the snapshot)."""
        key = (rubric_id, version)
        if key not in self._rubric_cache:
            if session is None:
                with self._sessions() as s:
                    return self.rubric_version(rubric_id, version, session=s)
            row = session.get(m.RubricVersion, key)
            if row is None:
                raise NotFoundError(f"Rubric {rubric_id!r} version {version!r} is not recorded.")
            self._rubric_cache[key] = rubric_from_dict(row.definition, f"{rubric_id} v{version} (database)")
        return self._rubric_cache[key]

    def rubric_versions(self) -> dict[tuple[str, str], Rubric]:
        """Every recorded rubric version, by (id, version)."""
        with self._sessions() as s:
            keys = s.execute(select(m.RubricVersion.rubric_id, m.RubricVersion.version)).all()
            return {(rid, version): self.rubric_version(rid, version, session=s) for rid, version in keys}

    def submitted_counts_by_version(self) -> dict[tuple[str, str], int]:
        """How many submitted ratings count (the current version of each form) per (rubric id,
        version), counted in the database: one aggregate row per version, never every rating."""
        query = (
            select(m.Rating.rubric_id, m.Rating.rubric_version, func.count())
            .where(m.Rating.status == RatingStatus.SUBMITTED.value, m.Rating.is_current.is_(True))
            .group_by(m.Rating.rubric_id, m.Rating.rubric_version)
        )
        with self._sessions() as s:
            return {(rid, version): count for rid, version, count in s.execute(query)}
