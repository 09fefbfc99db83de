"""Comparisons of one capacity's scores with a reference capacity's, item by item.

These are the descriptive figures the audit asked for (HMIP 2002, C1.5 and B5.1: tutors and
treatment managers over-score against external assessment):

* the *signed difference* ``d = x - r`` of a rater's score ``x`` and the reference score ``r``
  for the same session, tutor and item; its mean over pairs is the rater group's bias
  (positive = over-scoring), as in Bland & Altman (1986), "Statistical methods for assessing
  agreement between two methods of clinical measurement", Lancet 327:307-310;
* *exact agreement*, the share of pairs with ``d = 0``, and *agreement within one point*, the
  share with ``|d| <= 1`` (the adjacent-agreement convention of observation-rating
  calibration, e.g. Teachstone CLASS certification at 80% within one point).

Where several reference raters scored the same (session, tutor, item), ``r`` is their mean.
"Not applicable / not observed" is not a score: a pair where either side is N/A is left out.
The statistics issue builds intervals, tests and chance-corrected agreement on these pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from session_rater.domain.model import Capacity, ScoreRecord

PAIR_KEY = ["session_id", "tutor_id", "item_id"]
ALL_ITEMS = "(all items)"


FRAME_COLUMNS = ["session_id", "tutor_id", "rater_id", "capacity", "item_id", "score"]


def to_frame(records: Iterable[ScoreRecord] | pd.DataFrame) -> pd.DataFrame:
    """Long-format frame, one row per score; N/A rows keep ``score`` as NaN (``tutor_id`` -1:
    no tutor). A frame already of these columns (a bulk read) is taken as it is."""
    if isinstance(records, pd.DataFrame):
        return records[FRAME_COLUMNS]
    rows = [
        {
            "session_id": r.session_id,
            "tutor_id": -1 if r.tutor_id is None else r.tutor_id,
            "rater_id": r.rater_id,
            "capacity": str(r.capacity),
            "item_id": r.item_id,
            "score": float("nan") if r.score is None else float(r.score),
        }
        for r in records
    ]
    columns = ["session_id", "tutor_id", "rater_id", "capacity", "item_id", "score"]
    return pd.DataFrame(rows, columns=columns)


def side_by_side(records: Iterable[ScoreRecord], item_ids: Sequence[str]) -> pd.DataFrame:
    """For one (session, tutor): one row per item, one column per capacity (mean of its raters).

    Extra columns: ``spread``, the largest minus the smallest capacity score on the item, and
    ``differs``, True where capacities disagree by a point or more. Items nobody scored appear
    with empty cells so the form's order is kept.
    """
    frame = to_frame(records).dropna(subset=["score"])
    order = [c.value for c in Capacity if c.value in set(frame["capacity"])]
    table = frame.pivot_table(index="item_id", columns="capacity", values="score", aggfunc="mean")
    table = table.reindex(index=list(item_ids), columns=order)
    table["spread"] = table[order].max(axis=1) - table[order].min(axis=1) if order else float("nan")
    table["differs"] = table["spread"] >= 1
    table.columns.name = None
    return table


def paired_differences(
    records: Iterable[ScoreRecord] | pd.DataFrame, capacity: Capacity, reference: Capacity
) -> pd.DataFrame:
    """Each score of ``capacity`` paired with the reference score of the same session, tutor, item.

    Columns: session_id, tutor_id, item_id, rater_id, score, reference, difference.
    """
    frame = to_frame(records).dropna(subset=["score"])
    ref = (
        frame[frame["capacity"] == reference.value]
        .groupby(PAIR_KEY, as_index=False)["score"]
        .mean()
        .rename(columns={"score": "reference"})
    )
    mine = frame[frame["capacity"] == capacity.value][PAIR_KEY + ["rater_id", "score"]]
    pairs = mine.merge(ref, on=PAIR_KEY, how="inner")
    pairs["difference"] = pairs["score"] - pairs["reference"]
    return pairs


def _summarise(differences: pd.Series) -> dict[str, float]:
    n = int(differences.size)
    return {
        "n": n,
        "mean_difference": float(differences.mean()) if n else float("nan"),
        "exact_agreement": float((differences == 0).mean()) if n else float("nan"),
        "within_one": float((differences.abs() <= 1).mean()) if n else float("nan"),
    }


def bias_by_item(
    records: Iterable[ScoreRecord] | pd.DataFrame,
    capacities: Sequence[Capacity],
    reference: Capacity,
    item_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per item and capacity: n pairs, mean signed difference against ``reference``, exact and
    within-one agreement. A final row per capacity, ``item_id == "(all items)"``, pools every pair.

    Rows with ``n == 0`` are omitted: a figure from no pairs is not a figure.
    """
    records = to_frame(records)  # once, for every capacity
    rows: list[dict[str, object]] = []
    for capacity in capacities:
        pairs = paired_differences(records, capacity, reference)
        if pairs.empty:
            continue
        items = list(item_ids) if item_ids is not None else sorted(pairs["item_id"].unique())
        for item_id in items:
            d = pairs.loc[pairs["item_id"] == item_id, "difference"]
            if d.size:
                rows.append({"capacity": capacity.value, "item_id": item_id, **_summarise(d)})
        rows.append({"capacity": capacity.value, "item_id": ALL_ITEMS, **_summarise(pairs["difference"])})
    columns = ["capacity", "item_id", "n", "mean_difference", "exact_agreement", "within_one"]
    return pd.DataFrame(rows, columns=columns)
