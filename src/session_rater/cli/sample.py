"""``session-rater sample --policy NAME [--seed N] [--dry-run]``: draw a monitoring and audit
sample by the named policy, print what is drawn and why, and (without ``--dry-run``) save it.

A draw tops up what earlier draws of the same policy hold: it never removes or changes an
earlier assignment. If the policy's file is broken, the version in force stays in force: the
newest version stored with an earlier draw is used, with a warning that lists the file's errors.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections import Counter
from typing import TYPE_CHECKING, TextIO

from session_rater.domain.model import MAX_SEED

if TYPE_CHECKING:  # imported when used, so that `session-rater --help` stays quick
    from session_rater.domain.sampling import Draw, PersonFacts, SessionFacts

__all__ = ["register"]


def print_draw(draw: Draw, roster: list[SessionFacts], people: list[PersonFacts], out: TextIO) -> None:
    """What is drawn and why, one line per session, grouped by rule."""
    names = {p.id: p.name for p in people}
    sessions = {s.recording_id: s for s in roster}

    def who(person_id: int | None) -> str:
        return "UNASSIGNED" if person_id is None else names.get(person_id, f"person #{person_id}")

    print(
        f"Policy {draw.policy_name} v{draw.policy_version}, seed {draw.seed}, drawn on {draw.drawn_on}: "
        f"{len(roster)} recorded session(s); {len(draw.previous)} already drawn, {len(draw.selections)} new.",
        file=out,
    )
    counts = Counter(s.rule for s in draw.selections)
    for rule in counts:  # the selections come in rule order
        print(f"\n{rule.label.capitalize()}: {counts[rule]} new", file=out)
        for sel in (s for s in draw.selections if s.rule is rule):
            facts = sessions.get(sel.recording_id)
            where = f"{facts.group} #{facts.session_number} ({facts.recorded_on})" if facts else ""
            raters = who(sel.rater_id) + (f" + {who(sel.second_rater_id)}" if sel.second_rater_id else "")
            print(f"  recording {sel.recording_id} {where} -> {raters}, due {sel.due_on}: {sel.reason}", file=out)
    if not draw.selections:
        print("Nothing new to draw: every target is already met.", file=out)
    for shortfall in draw.shortfalls:
        print(f"warning: {shortfall}", file=out)


def _cmd_sample(args: argparse.Namespace) -> int:
    from session_rater.usecases.monitoring import draw_by_policy
    from session_rater.usecases.services import open_services

    svc = open_services(load_demo=False)
    try:
        seed = secrets.randbelow(MAX_SEED) if args.seed is None else args.seed
        outcome, warnings = draw_by_policy(svc, args.policy, seed, save=not args.dry_run)
    finally:
        svc.close()
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print_draw(outcome.draw, outcome.roster, outcome.people, sys.stdout)
    if outcome.saved is None:
        print(f"\nDry run: nothing saved. Re-run with --seed {seed} (and without --dry-run) to save this draw.")
    else:
        print(f"\nSaved draw {outcome.saved.id}: {outcome.saved.assignments} new assignment(s).")
    return 0



def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"the seed must be from 0 to {MAX_SEED}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``sample`` command to the ``session-rater`` parser."""
    sample = subparsers.add_parser(
        "sample",
        help="draw the monitoring and audit sample of a sampling policy (prints what and why)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    sample.add_argument("--policy", required=True, metavar="NAME", help="policy name (see the policies folder)")
    sample.add_argument("--seed", type=_seed, help="random seed, to reproduce a draw (default: a new random one)")
    sample.add_argument("--dry-run", action="store_true", help="print what would be drawn and why; save nothing")
    sample.set_defaults(func=_cmd_sample)
