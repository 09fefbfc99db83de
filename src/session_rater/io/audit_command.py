"""``session-rater audit-score MARKS.csv``: the audit's scoring summary and IQR from a marks file.

For audit teams whose marks are kept elsewhere (a spreadsheet):

    session-rater audit-score MARKS.csv [--instrument FILE] [--mandatory ID,...] [--format text|json]

MARKS.csv has the columns ``criterion_id,mark`` (``N/A`` or empty for not applicable) and may
have ``note``, ``carried_over`` and ``title``; see ``audits/README.md``. ``--mandatory`` names
the criteria that count double, replacing the instrument's own list (the shipped instrument
marks none: the Performance Standards Manual is not available). Every problem of the marks
file is listed with its line number and nothing is scored.

Exit status: 0 scored; 2 bad input (arguments, instrument or marks), with a message that says
what is wrong and how to fix it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from session_rater.domain.audit_scoring import score_audit, unknown_criterion_message
from session_rater.errors import FileContentError, SessionRaterError
from session_rater.io.audit_files import (
    audit_score_to_json,
    audit_score_to_text,
    load_audit_instrument,
    load_audit_marks,
)
from session_rater.settings import PROJECT_ROOT

__all__ = ["DEFAULT_INSTRUMENT", "EXIT_BAD_INPUT", "EXIT_OK", "audit_score_main", "build_parser"]

DEFAULT_INSTRUMENT = PROJECT_ROOT / "audits" / "think-first-2002.yaml"
FORMATS = ("text", "json")
EXIT_OK = 0
EXIT_BAD_INPUT = 2


class _ArgumentError(Exception):
    """argparse found the command line unusable; its message is already written."""


class _Parser(argparse.ArgumentParser):
    """An argument parser that writes to the streams it is given and never exits the process."""

    def __init__(self, *args: object, stdout: TextIO, stderr: TextIO, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._out, self._err = stdout, stderr

    def _print_message(self, message: str, file: object = None) -> None:
        if message:
            (self._err if file is sys.stderr else self._out).write(message)

    def print_help(self, file: object = None) -> None:
        self._out.write(self.format_help())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._err.write(message)
        raise _ArgumentError(status)

    def error(self, message: str) -> NoReturn:
        self._err.write(self.format_usage())
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _criterion_ids(text: str) -> tuple[str, ...]:
    """``"B2.4, D1.1"`` -> ("B2.4", "D1.1"); an empty text is no mandatory criterion."""
    ids = [part.strip() for part in text.split(",") if part.strip()]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"{', '.join(twice)} listed more than once; name each criterion once")
    return tuple(ids)


def build_parser(*, stdout: TextIO, stderr: TextIO, prog: str = "session-rater audit-score") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="The audit's scoring summary and IQR from a marks CSV (criterion_id,mark).",
        stdout=stdout,
        stderr=stderr,
    )
    parser.add_argument("marks", metavar="MARKS.csv", help="criterion_id,mark per line; N/A or empty for not applicable")
    parser.add_argument(
        "--instrument",
        metavar="FILE",
        type=Path,
        default=DEFAULT_INSTRUMENT,
        help=f"audit instrument YAML (default: the shipped {DEFAULT_INSTRUMENT.relative_to(PROJECT_ROOT)})",
    )
    parser.add_argument(
        "--mandatory",
        metavar="ID,...",
        type=_criterion_ids,
        default=None,
        help="criteria whose mark and maximum count double, e.g. B2.4,D1.1; replaces the instrument's "
        "list (which is empty in the shipped file: the Performance Standards Manual is not available)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="text (default) or json")
    return parser


def audit_score_main(argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    """Run ``audit-score`` with ``argv`` (the arguments after the command name)."""
    parser = build_parser(stdout=stdout, stderr=stderr)
    try:
        args = parser.parse_args(argv)
    except _ArgumentError as exit_:
        return int(exit_.args[0]) if exit_.args else EXIT_BAD_INPUT

    def refuse(message: str) -> int:
        stderr.write(f"error: {message}\n")
        return EXIT_BAD_INPUT

    path = Path(args.marks)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        return refuse(f"{path} {what}; give the marks CSV (columns criterion_id,mark)")
    try:
        instrument = load_audit_instrument(args.instrument)
    except FileContentError as error:
        return refuse(f"{error}\nFix the instrument file, or leave out --instrument to use the shipped one.")
    if args.mandatory is not None:
        unknown = [c for c in args.mandatory if c not in instrument.criterion_ids]
        if unknown:
            return refuse(
                "--mandatory: " + "; ".join(unknown_criterion_message(c, instrument) for c in unknown)
            )
        instrument = instrument.with_mandatory(args.mandatory)
    try:
        marks = load_audit_marks(path, instrument)
    except FileContentError as error:
        for problem in error.errors:
            stderr.write(f"{problem}\n")
        return refuse(
            f"{error.problem_count:,d} problem(s) in {path}; nothing was scored. Fix them and run again "
            f"(marks are {instrument.describe_scale()}; see audits/README.md)."
        )
    try:
        score = score_audit(marks, instrument)
    except SessionRaterError as error:
        return refuse(f"{path}: {error}")
    if args.format == "json":
        stdout.write(json.dumps(audit_score_to_json(score), indent=2) + "\n")
    else:
        stdout.write(audit_score_to_text(score))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - a convenience for `python -m`
    return audit_score_main(list(sys.argv[1:] if argv is None else argv), sys.stdout, sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
