"""``session-rater analyse SCORES.csv``: the agreement and over-scoring report from a scores file.

For audit teams whose scores come from elsewhere (old spreadsheets): reads the long-format CSV
that ``session-rater export`` writes, checks every row, and prints the report as text or JSON.

    session-rater analyse SCORES.csv [--benchmark-role ROLE] [--format text|json]
                                     [--skip-bad-rows] [--seed N] [--scale MIN-MAX]

Bad rows are listed on standard error with their line numbers (the first
:data:`~session_rater.errors.MAX_LISTED_PROBLEMS`, then how many more), and nothing is analysed
(exit status 1) unless ``--skip-bad-rows`` is given; the report then says how many rows were
skipped. A score off the scale is a bad row: the scale given with ``--scale``, else the scale of
the rubric named by the ``rubric_id`` and ``rubric_version`` columns when it is in the rubrics
folder (``SESSION_RATER_RUBRICS_DIR``); the report says where the scale came from.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from session_rater.domain.bias import DEFAULT_RESAMPLES, DEFAULT_SEED, ROLES
from session_rater.errors import MAX_LISTED_PROBLEMS, SessionRaterError, listed_problems
from session_rater.settings import load_settings

FORMATS = ("text", "json")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs at least 1 resample, not {value}")
    return value


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``analyse`` command to a CLI's subparsers (``parser.add_subparsers()``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "analyse",
        help="agreement and over-scoring report from a long-format scores CSV",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("scores", metavar="SCORES.csv", help="long-format scores, as `session-rater export` writes")
    parser.add_argument(
        "--benchmark-role",
        choices=ROLES,
        default=None,
        help="the role whose scores are the reference (default: benchmark where present, else external_assessor)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="text (default) or json")
    parser.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="analyse the good rows even if some rows are bad (the report says how many were skipped)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"seed of the bootstrap resampling (default {DEFAULT_SEED}); the report states it",
    )
    parser.add_argument(
        "--resamples",
        type=_positive,
        default=DEFAULT_RESAMPLES,
        help=f"bootstrap resamples of sessions (default {DEFAULT_RESAMPLES})",
    )
    parser.add_argument(
        "--scale",
        metavar="MIN-MAX",
        type=_scale,
        help="the rubric's scale, e.g. 0-3: scores off it are bad rows, and unused points count "
        "in chance agreement (default: the scale of the rubric named by the rubric_id and rubric_version "
        "columns when it is in the rubrics folder, else whole numbers and the points observed)",
    )
    parser.set_defaults(func=run)
    return parser


_SCALE = re.compile(r"\s*(-?\d+)\s*-\s*(-?\d+)\s*")


def _scale(text: str) -> tuple[int, ...]:
    """``"0-3"`` -> (0, 1, 2, 3)."""
    match = _SCALE.fullmatch(text)
    if not match or int(match[2]) <= int(match[1]):
        raise argparse.ArgumentTypeError(f"{text!r} is not a scale: write MIN-MAX with whole numbers, e.g. 0-3")
    return tuple(range(int(match[1]), int(match[2]) + 1))


def run(args: argparse.Namespace) -> int:
    """Run the command; expected failures print a message and return 1."""
    try:
        return _run(args)
    except SessionRaterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from session_rater.usecases.analysis import analyse, read_scores_with_scale, report_to_json, report_to_text

    path = Path(args.scores)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        print(f"error: {path} {what}; give the scores CSV that `session-rater export` writes", file=sys.stderr)
        return 1
    scale = getattr(args, "scale", None)
    scores_file, choice = read_scores_with_scale(
        path,
        scale=scale,
        scale_source=f"--scale {scale[0]}-{scale[-1]}" if scale else None,
        rubrics_dir=_rubrics_dir(),
    )
    bad = scores_file.bad_rows
    if bad:
        first = [f"{path}:{row.line}: {'; '.join(row.problems)}" for row in bad[:MAX_LISTED_PROBLEMS]]
        for line in listed_problems(first, len(bad), what="bad row"):
            print(line, file=sys.stderr)
        if not args.skip_bad_rows:
            print(
                f"error: {len(bad):,d} bad row(s) in {path}; nothing was analysed. Fix them, or pass "
                "--skip-bad-rows to analyse the other rows.",
                file=sys.stderr,
            )
            return 1
        print(f"Skipping {len(bad):,d} bad row(s) of {path}.", file=sys.stderr)
    report = analyse(
        scores_file.scores,
        benchmark_role=args.benchmark_role,
        seed=args.seed,
        n_boot=getattr(args, "resamples", DEFAULT_RESAMPLES),
        categories=choice.points,
        scale_source=choice.source,
        skipped_rows=len(bad),
        source=str(path),
    )
    if args.format == "json":
        json.dump(report_to_json(report), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(report_to_text(report))
    return 0


def _rubrics_dir() -> Path | None:
    """The rubrics folder of the settings (``SESSION_RATER_RUBRICS_DIR``), None if the settings are unusable."""
    try:
        return load_settings().rubrics_dir
    except SessionRaterError:
        return None


__all__ = ["register", "run"]
