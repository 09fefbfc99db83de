"""Who may rate what, in which capacity (pure rules; accounts and scope come later).

* A tutor self-assesses only their own delivery (the programme integrity checklist, C1.5).
* A treatment manager monitors; an external assessor assesses; neither may rate a session
  they delivered themselves (conflict of interest).
* A programme manager or administrator may record benchmark (master) scores.
"""

from __future__ import annotations

from collections.abc import Collection

from session_rater.domain.model import Capacity, Role


def capacities_for(
    person_id: int,
    roles: Collection[str],
    delivered_by: Collection[int],
    tutor_id: int | None,
) -> list[Capacity]:
    """The capacities in which ``person_id`` may rate ``tutor_id``'s delivery of a session
    delivered by ``delivered_by`` (``tutor_id`` None: the session as a whole)."""
    if person_id in delivered_by:
        own = tutor_id == person_id or (tutor_id is None)
        return [Capacity.SELF_ASSESSMENT] if own and Role.TUTOR.value in roles else []
    capacities = []
    if Role.TREATMENT_MANAGER.value in roles:
        capacities.append(Capacity.MONITORING)
    if Role.EXTERNAL_ASSESSOR.value in roles:
        capacities.append(Capacity.EXTERNAL)
    if {Role.PROGRAMME_MANAGER.value, Role.ADMINISTRATOR.value} & set(roles):
        capacities.append(Capacity.BENCHMARK)
    return capacities
