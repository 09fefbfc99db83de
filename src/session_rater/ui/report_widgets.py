"""What the report pages (Over-scoring, Agreement, the dependability sections) share: small
notes in the body text's colour, charts whose text meets WCAG 2.2 AA contrast, and every chart
with its text alternative (a sentence saying what it shows, given to screen readers as the
chart's description and shown beneath it) and the table of its figures folded beside it.
"""

from __future__ import annotations

import datetime as dt
import math

import altair as alt
import pandas as pd
import streamlit as st

__all__ = ["GRID", "HEAT_DIVERGING", "HEAT_SEQUENTIAL", "TEXT", "as_of_note", "figure", "label_limit", "signed", "small",
           "themed"]  # fmt: skip

TEXT = "#31333f"  # Streamlit's body text: 12.6:1 on white
GRID = "#e6e6ea"  # grid lines are decoration, not information
HEAT_DIVERGING = ["#4393c3", "#f7f7f7", "#d6604d"]  # low, middle, high: black text on each at 5.2:1 or more
HEAT_SEQUENTIAL = ["#f7fbff", "#6baed6"]  # low, high: black text at 8:1 or more, so every cell's label is readable
AXIS_LINE = "#6b6b76"  # axis and tick lines: 5.3:1 on white (WCAG 1.4.11 asks 3:1 of graphics)


def small(text: str) -> None:
    """A note in small type in the body text's colour: ``st.caption``'s grey is 3.9:1 on white,
    below the 4.5:1 WCAG 1.4.3 asks of text. ``text`` is Markdown (user text through plain())."""
    st.markdown(":small[" + text.replace("[", "(").replace("]", ")") + "]")


def as_of_note(as_of: dt.datetime | None, since: int, current: bool, what: str = "These figures") -> None:
    """Says, when figures are not of the scores as they are now (at national scale they are
    brought up to date beside the page, not while the reader waits), when they were computed and
    how many ratings were submitted or corrected since. Nothing when they are current."""
    if current or as_of is None:
        return
    came = f"{since} rating{'s' if since != 1 else ''} submitted or corrected since" if since else "newer scores since"
    small(f":material/schedule: {what} were computed at {as_of:%H:%M} UTC on {as_of:%d/%m/%Y} from the scores as "
          f"they were then ({came}). The newer figures are being computed and show when you next open the page.")  # fmt: skip


def signed(x: float | None, digits: int = 2) -> str:
    """+0.50, −0.25 (a true minus sign), – when missing."""
    return "–" if x is None or not math.isfinite(x) else f"{x:+.{digits}f}".replace("-", "−")


def label_limit(share: float = 0.42, *, least: int = 110, most: int = 460) -> alt.ExprRef:
    """A label width that follows the chart's width: long item titles get room on a wide screen
    and leave room for the marks at 320 px (the rest shows in the tooltip and the table)."""
    return alt.ExprRef(f"clamp(containerSize()[0] * {share}, {least}, {most})")


def themed(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Axis, legend and title text in the body colour at 12 px or more (Vega's default greys are
    below 4.5:1), axis lines at 3:1 or more."""
    return (
        chart.configure_axis(labelColor=TEXT, titleColor=TEXT, labelFontSize=12, titleFontSize=12,
                             domainColor=AXIS_LINE, tickColor=AXIS_LINE, gridColor=GRID)
        .configure_legend(labelColor=TEXT, titleColor=TEXT, labelFontSize=12, titleFontSize=12)
        .configure_title(color=TEXT)
        .configure_view(stroke=None)
    )  # fmt: skip


def figure(
    chart: alt.TopLevelMixin,
    *,
    words: str,
    table: pd.DataFrame,
    table_label: str,
    column_config: dict[str, object] | None = None,
) -> None:
    """Show ``chart`` with its text alternative: ``words`` (one or two sentences saying what the
    chart shows) is the chart's description for screen readers and is shown beneath it, and
    ``table`` (its figures, already formatted) is folded in an expander labelled ``table_label``."""
    st.altair_chart(themed(chart.properties(description=words)), width="stretch")
    small("**Chart in words:** " + words)
    with st.expander(table_label, icon=":material/table:"):
        st.dataframe(table, hide_index=True, width="stretch", column_config=column_config)
