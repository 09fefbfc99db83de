"""``session-rater backup`` and ``session-rater restore``.

session-rater backup OUTPUT
    Write a consistent backup of the database while the app runs: SQLite's online backup,
    or pg_dump's custom format for PostgreSQL (the client tools must be installed).
session-rater restore FILE [--replace]
    Restore a backup into an empty database. A database that holds anything is refused,
    saying what it holds, unless --replace is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    backup = subparsers.add_parser("backup", help="write a consistent backup of the database while the app runs")
    backup.add_argument("output", type=Path, metavar="OUTPUT", help="the backup file to write")
    backup.set_defaults(func=_cmd_backup)
    restore = subparsers.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("file", type=Path, metavar="FILE", help="a file written by `session-rater backup`")
    restore.add_argument("--replace", action="store_true",
                         help="replace what the database holds (it is listed first; it is lost)")  # fmt: skip
    restore.set_defaults(func=_cmd_restore)


def _cmd_backup(args: argparse.Namespace) -> int:
    from session_rater.settings import load_settings
    from session_rater.usecases.backup import backup

    print(backup(load_settings(), args.output).summary)
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from session_rater.settings import load_settings
    from session_rater.usecases.backup import contents, describe, restore

    settings = load_settings()
    if args.replace:
        held = contents(settings)
        if any(held.values()):
            print(f"Replacing what the database holds: {describe(held)}. It is lost.", file=sys.stderr)
    report = restore(settings, args.file, replace=args.replace)
    print(report.summary)
    print("Recordings, converted copies and thumbnails are files: restore the recordings folder and the data "
          "folder from the file backup as well.")  # fmt: skip
    return 0
