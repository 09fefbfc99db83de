"""``session-rater retention`` and ``session-rater hold``.

session-rater retention [--dry-run] [--as-of DATE]
    Apply the retention policy: list each recording due for deletion and why (and those past
    their period but kept, and why), then delete their files, each deletion in the audit log
    with the policy version. --dry-run lists and deletes nothing (--as-of: as on that date).
session-rater hold RECORDING --kind KIND --reason TEXT  |  hold --release HOLD [--note TEXT]  |  hold --list
    Keep a recording whatever the retention policy says (a benchmark, a complaint ...), or
    release a hold; both go to the audit log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from session_rater.domain.retention import HOLD_KINDS


def register(subparsers: Any) -> None:
    retention = subparsers.add_parser("retention", help="delete recordings' files whose retention period is over")
    retention.add_argument("--dry-run", action="store_true", help="list what would go and why; delete nothing")
    retention.add_argument("--as-of", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                           help="with --dry-run: what would be due on that date")  # fmt: skip
    retention.set_defaults(func=_cmd_retention)
    hold = subparsers.add_parser("hold", help="keep a recording whatever the retention policy says, or release it")
    hold.add_argument("recording", type=int, nargs="?", metavar="RECORDING", help="the recorded session's id")
    hold.add_argument("--kind", choices=HOLD_KINDS, default="other")
    hold.add_argument("--reason", help="why it is kept (required to place a hold)")
    hold.add_argument("--release", type=int, metavar="HOLD", help="release hold HOLD")
    hold.add_argument("--note", default="", help="why the hold is released")
    hold.add_argument("--list", action="store_true", help="list the holds in force")
    hold.set_defaults(func=_cmd_hold)


def _cmd_retention(args: argparse.Namespace) -> int:
    from session_rater.usecases import retention
    from session_rater.usecases.services import open_services

    if args.as_of is not None and not args.dry_run:
        print("error: --as-of only goes with --dry-run (files are deleted only when they are due today)",
              file=sys.stderr)  # fmt: skip
        return 1
    svc = open_services(load_demo=False)
    try:
        review = retention.review(svc, today=args.as_of)
        print(f"Retention policy {review.policy.id} v{review.policy.version} ({review.policy.title}): "
              f"{review.policy.rule}. As of {review.today:%d/%m/%Y}.")  # fmt: skip
        for kept in review.kept:
            print(f"kept   {kept.recording_id:>5}  {kept.label}: {kept.reason}")
        if not review.due:
            print("Nothing is due for deletion.")
            return 0
        for due in review.due:
            print(f"{'due' if args.dry_run else 'delete'}    {due.recording_id:>5}  {due.label}: {due.reason}")
        if args.dry_run:
            print(f"{len(review.due)} recording(s) due for deletion; nothing deleted (--dry-run).")
            return 0
        deletions = retention.apply(svc)
        for d in deletions:
            for why in d.left:
                print(f"  left  {why}", file=sys.stderr)
        files = sum(len(d.deleted) for d in deletions)
        print(f"Deleted the files of {len(deletions)} recording(s) ({files} files and thumbnail folders); their "
              "scores are kept, and each deletion is in the audit log.")  # fmt: skip
        return 0
    finally:
        svc.close()


def _cmd_hold(args: argparse.Namespace) -> int:
    from session_rater.usecases import retention
    from session_rater.usecases.services import open_services

    svc = open_services(load_demo=False)
    try:
        if args.list or (args.release is None and args.recording is None):
            current = retention.holds(svc)
            for h in current:
                print(f"hold {h.id:>4}  recording {h.recording_id:>5}  {h.kind:<10} since {h.placed_at:%d/%m/%Y}: "
                      f"{h.reason}")  # fmt: skip
            print(f"{len(current)} hold(s) in force.")
            return 0
        if args.release is not None:
            released = retention.release_hold(svc, args.release, note=args.note)
            print(f"Hold {released.id} on recording {released.recording_id} released.")
            return 0
        if not args.reason:
            print("error: say why with --reason (it is kept with the hold)", file=sys.stderr)
            return 1
        placed = retention.place_hold(svc, args.recording, args.kind, args.reason)
        print(f"Hold {placed.id} placed on recording {placed.recording_id} ({placed.kind}): it is kept until released.")
        return 0
    finally:
        svc.close()
