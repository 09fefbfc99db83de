"""Which scale a scores file is on, and where that came from.

A score off the rubric's scale (a 17 on a 0-3 checklist) is a bad row, not a score. The scale
is, in order:

1. the one given by the caller (``session-rater analyse --scale 0-3``): it wins;
2. else the scale of the rubric named by each row's ``rubric_id`` and ``rubric_version``
   columns (as ``session-rater export`` writes them), when that rubric is one the app knows
   (a file in the rubrics folder): each score is checked against its own rubric's scale;
3. else none: scores are checked only as whole numbers, and the points observed count in chance
   agreement.

:func:`read_scores_with_scale` reads the file once and says which of these applied
(:class:`ScaleChoice`), in words the report prints.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from session_rater.domain.rubric import Rubric
from session_rater.errors import RubricError
from session_rater.io.rubric_files import load_rubric_dir
from session_rater.io.scores_csv import BadRow, ScoresFile, read_scores_csv

RUBRIC_COLUMNS = ("rubric_id", "rubric_version")


@dataclass(frozen=True)
class ScaleChoice:
    """The scale's points (None: no scale known) and where they came from, in words."""

    points: tuple[float, ...] | None
    source: str


def rubric_label(rubric_id: str, version: str) -> str:
    """``rubric think-first-video-monitoring v1.0``."""
    return f"rubric {rubric_id} v{version}"


def read_scores_with_scale(
    source: str | Path | io.TextIOBase,
    *,
    scale: Sequence[float] | None = None,
    scale_source: str | None = None,
    rubrics_dir: Path | None = None,
) -> tuple[ScoresFile, ScaleChoice]:
    """Read a scores CSV and check each score against its scale (see the module docstring).

    ``scale`` (with ``scale_source``, e.g. ``"--scale 0-3"``) wins; else the rubrics of
    ``rubrics_dir`` are looked up by the ``rubric_id`` and ``rubric_version`` columns. A score off
    its rubric's scale becomes a bad row whose message names the rubric and its scale.
    """
    if scale is not None:
        points = tuple(float(p) for p in scale)
        return read_scores_csv(source, categories=points), ScaleChoice(points, scale_source or "given by the caller")
    scores_file = read_scores_csv(source)
    scores = scores_file.scores
    if not all(column in scores.columns for column in RUBRIC_COLUMNS):
        return scores_file, ScaleChoice(
            None,
            "none known: no --scale was given and the file has no rubric_id and rubric_version columns, so scores "
            "were checked only as whole numbers",
        )
    rubrics, folder_problem = _known_rubrics(rubrics_dir)
    keys = scores[list(RUBRIC_COLUMNS)].astype(str).apply(lambda c: c.str.strip())
    off = np.zeros(len(scores), dtype=bool)
    problems: list[BadRow] = []
    known: dict[tuple[str, str], Rubric] = {}
    unknown: list[tuple[str, str]] = []
    for (rubric_id, version), rows in keys.groupby(list(RUBRIC_COLUMNS), sort=True).groups.items():
        rubric = rubrics.get((rubric_id, version))
        if rubric is None:
            unknown.append((rubric_id, version))
            continue
        known[(rubric_id, version)] = rubric
        position = scores.index.get_indexer(rows)
        values = scores["score"].to_numpy()[position]
        bad = ~np.isnan(values) & ~np.isin(values, np.asarray(rubric.scale_values, dtype=float))
        off[position[bad]] = True
        expected = ", ".join(str(v) for v in rubric.scale_values)
        for line, value in zip(scores["line"].to_numpy()[position[bad]], values[bad], strict=True):
            message = (
                f"score {value:g} is off the scale of {rubric_label(rubric_id, version)}: expected one of {expected}"
            )
            problems.append(BadRow(int(line), (message,)))
    choice = _choice(known, unknown, folder_problem, rubrics_dir)
    if problems:
        bad_rows = tuple(sorted((*scores_file.bad_rows, *problems), key=lambda row: row.line))
        scores_file = replace(scores_file, scores=scores.loc[~off].reset_index(drop=True), bad_rows=bad_rows)
    return replace(scores_file, categories=choice.points), choice


def _known_rubrics(rubrics_dir: Path | None) -> tuple[dict[tuple[str, str], Rubric], str | None]:
    if rubrics_dir is None:
        return {}, "no rubrics folder was given"
    try:
        return load_rubric_dir(Path(rubrics_dir)).rubrics, None
    except RubricError:
        return {}, f"there is no rubrics folder at {rubrics_dir}"


def _choice(
    known: dict[tuple[str, str], Rubric],
    unknown: list[tuple[str, str]],
    folder_problem: str | None,
    rubrics_dir: Path | None,
) -> ScaleChoice:
    scales = {rubric.scale_values for rubric in known.values()}
    named = " and ".join(rubric_label(*key) for key in known)
    if known and not unknown and len(scales) == 1:
        points = tuple(float(v) for v in scales.pop())
        return ScaleChoice(points, named)
    notes = []
    if known and len(scales) > 1:
        notes.append(
            f"{named} have different scales: each score was checked against its own rubric's, and the points "
            "observed count in chance agreement"
        )
    elif known:
        notes.append(f"scores of {named} were checked against its scale")
    blank = [key for key in unknown if not all(key)]
    named_unknown = [key for key in unknown if all(key)]
    if named_unknown:
        where = folder_problem or f"not among the rubrics in {rubrics_dir}"
        listed = ", ".join(rubric_label(*key) for key in named_unknown)
        one = len(named_unknown) == 1
        notes.append(f"{listed} {'is' if one else 'are'} not known ({where}): {'its' if one else 'their'} scores "
                     "were checked only as whole numbers")  # fmt: skip
    if blank:
        notes.append("rows with no rubric_id or rubric_version were checked only as whole numbers")
    prefix = "none known for every score" if known else "none known"
    return ScaleChoice(None, f"{prefix}: {'; '.join(notes)}")


__all__ = ["ScaleChoice", "read_scores_with_scale", "rubric_label"]
