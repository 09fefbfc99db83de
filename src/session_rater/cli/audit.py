"""``session-rater audit-score MARKS.csv``: the audit's scoring summary and IQR from a marks file.

For audit teams whose marks are kept elsewhere (a spreadsheet):

    session-rater audit-score MARKS.csv [--instrument FILE] [--mandatory ID,...] [--format text|json]

MARKS.csv has the columns ``criterion_id,mark`` (``N/A`` or empty for not applicable) and may
have ``note``, ``carried_over`` and ``title``; see ``audits/README.md``. ``--mandatory`` names
the criteria that count double, replacing the instrument's own list (the shipped instrument
marks none: the Performance Standards Manual is not available). Every problem of the marks
file is listed with its line number and nothing is scored.

Exit status: 0 scored; 2 bad input (arguments, instrument or marks), with a message that says
what is wrong and how to fix it. The reading and scoring are the use case's
(``usecases.audits``); this module parses the arguments and prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn, TextIO

from session_rater.settings import PROJECT_ROOT
from session_rater.usecases.audits import DEFAULT_INSTRUMENT, AuditInputError, score_json, score_marks_file, score_text

__all__ = ["DEFAULT_INSTRUMENT", "EXIT_BAD_INPUT", "EXIT_OK", "audit_score_main", "build_parser", "register"]

FORMATS = ("text", "json")
EXIT_OK = 0
EXIT_BAD_INPUT = 2
DESCRIPTION = "The audit's scoring summary and IQR from a marks CSV (criterion_id,mark)."


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


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("marks", metavar="MARKS.csv", help="criterion_id,mark per line; N/A or empty for not applicable")
    parser.add_argument("--instrument", metavar="FILE", type=Path, default=DEFAULT_INSTRUMENT,
                        help=f"audit instrument YAML (default: the shipped {DEFAULT_INSTRUMENT.relative_to(PROJECT_ROOT)})")  # fmt: skip
    parser.add_argument(
        "--mandatory", metavar="ID,...", type=_criterion_ids, default=None,
        help="criteria whose mark and maximum count double, e.g. B2.4,D1.1; replaces the instrument's "
        "list (which is empty in the shipped file: the Performance Standards Manual is not available)",
    )  # fmt: skip
    parser.add_argument("--format", choices=FORMATS, default="text", help="text (default) or json")


def build_parser(*, stdout: TextIO, stderr: TextIO, prog: str = "session-rater audit-score") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=DESCRIPTION, stdout=stdout, stderr=stderr)
    _add_arguments(parser)
    return parser


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        score = score_marks_file(Path(args.marks), instrument_path=args.instrument, mandatory=args.mandatory)
    except AuditInputError as error:
        for problem in error.problems:
            stderr.write(f"{problem}\n")
        stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
    stdout.write(score_json(score) if args.format == "json" else score_text(score))
    return EXIT_OK


def audit_score_main(argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    """Run ``audit-score`` with ``argv`` (the arguments after the command name)."""
    parser = build_parser(stdout=stdout, stderr=stderr)
    try:
        args = parser.parse_args(argv)
    except _ArgumentError as exit_:
        return int(exit_.args[0]) if exit_.args else EXIT_BAD_INPUT
    return _run(args, stdout, stderr)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``audit-score`` to the ``session-rater`` command line."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "audit-score", help="the audit's scoring summary and IQR from a marks CSV", description=DESCRIPTION)
    _add_arguments(parser)
    parser.set_defaults(func=lambda args: _run(args, sys.stdout, sys.stderr))
    return parser
