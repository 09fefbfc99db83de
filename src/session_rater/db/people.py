"""People as the rating side sees them: add, list and look up (accounts, roles and scope are
accounts_store's)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from session_rater.db import models as m
from session_rater.db.rows import (
    StoreBase,
    get_row,
    person_view,
)
from session_rater.domain.model import Role
from session_rater.domain.records import (
    PersonView,
)


class PeopleStore(StoreBase):
    # -- people ---------------------------------------------------------------------------
    def add_person(
        self, display_name: str, roles: Iterable[Role], *, email: str | None = None, is_demo: bool = False
    ) -> PersonView:
        with self._sessions.begin() as s:
            person = m.Person(display_name=display_name, email=email, is_demo=is_demo)
            person.roles = [m.PersonRole(role=Role(r).value) for r in set(roles)]
            s.add(person)
            s.flush()
            return person_view(person)

    def list_people(self, role: Role | None = None) -> list[PersonView]:
        with self._sessions() as s:
            query = select(m.Person).where(m.Person.active.is_(True)).order_by(m.Person.display_name)
            if role is not None:
                query = query.join(m.PersonRole).where(m.PersonRole.role == role.value)
            return [person_view(p) for p in s.scalars(query).unique()]

    def get_person(self, person_id: int) -> PersonView:
        with self._sessions() as s:
            return person_view(get_row(s, m.Person, person_id))
