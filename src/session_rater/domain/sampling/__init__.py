"""Monitoring and audit samples drawn by rule (pure: standard library, numpy and pandas only).

A :class:`SamplingPolicy` holds up to four rules; :func:`draw_sample` applies them to a roster
of recorded sessions and says, for every session it picks, which rule picked it and why, who
rates it (never someone who delivered it) and by when.

* **monitoring** (treatment managers): in every programme group, at least ``percent`` % of the
  recorded sessions, rounded up, and at least ``min_sessions_per_tutor`` session(s) of every
  tutor who delivered in the group; the rest spread across the programme's session numbers.
  Catch-up sessions are left to their own rule unless ``include_catch_up``.
* **catch_up**: 1 in ``one_in`` catch-up sessions, rounded up, in each cell of ``per`` (by
  default each area's programme), spread over ``stratify_by``.
* **external_audit**: ``sessions_per_area`` sessions in each area (all of them if fewer),
  spread over ``stratify_by`` (by default site, then tutor).
* **double_rating**: in each cell of ``per`` (default: area), ``percent`` % of the sessions picked
  by the rules in ``of``, rounded up, get a second rater so agreement can be measured.

Spreading ("stratified") is a nested round robin: within a cell a second session is taken from
a stratum only when every stratum has one, and so on at every level; ties are broken at random.

**Raters.** Each pick goes to the least-loaded eligible rater (active, with the rule's role,
covering the session's area, not one of its tutors), the most constrained picks first; load
counts earlier draws too. A pick nobody may rate is kept, unassigned, and reported.

**Top-ups.** ``previous`` (the selections of earlier draws of the same policy) count towards
every target and are never removed or changed: a new draw only adds what is still missing.

**Randomness** comes from ``numpy.random.default_rng(seed)``, one independent child stream per
rule, applied to the roster sorted by recording id: the same roster, policy, previous selections
and seed give the same draw, whatever order the roster was given in.

**Speed.** Selection is vectorised over the whole roster (grouped ranks by ``numpy.lexsort``);
only the picked sessions (about a tenth) are visited one by one, to assign raters and write
reasons. 50,000 recordings across 40 areas draw in a fraction of a second
(``benchmarks/bench_sampling.py``).
"""


from session_rater.domain.sampling.draw import draw_sample
from session_rater.domain.sampling.policy import (
    CELL_KEYS,
    DEFAULT_VALIDITY_RATE,
    NO_AREA,
    STRATA,
    CatchUpRule,
    DoubleRatingRule,
    Draw,
    ExternalAuditRule,
    MonitoringRule,
    PersonFacts,
    Rule,
    SamplingPolicy,
    Selection,
    SessionFacts,
    ceil_percent,
)

__all__ = [
    "NO_AREA",
    "CELL_KEYS",
    "DEFAULT_VALIDITY_RATE",
    "STRATA",
    "CatchUpRule",
    "DoubleRatingRule",
    "Draw",
    "ExternalAuditRule",
    "MonitoringRule",
    "PersonFacts",
    "Rule",
    "SamplingPolicy",
    "Selection",
    "SessionFacts",
    "ceil_percent",
    "draw_sample",
]
