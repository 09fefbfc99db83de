"""User text shown as text. Streamlit reads the strings given to st.markdown, st.caption,
st.info, button and expander labels and tooltips as Markdown (with its own extensions: colours
``:red[...]``, icons ``:material/...:``, emoji ``:smile:``, LaTeX between ``$``). A name, a
session title, a rubric's wording, a note or a reason typed by someone must appear exactly as
typed: ``**Eve**`` with its asterisks, ``![](http://...)`` as characters (never an image the
browser fetches), ``[x](https://...)`` never a link. Put such text through :func:`plain`.
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&@])")
_EMOJI_SHAPE = re.compile(r"(?<=:)(?=[\w+-]+\\?:)")  # ":word:" after escaping: break the shortcode


def plain(text: object) -> str:
    """``text`` escaped for Markdown: every punctuation mark that Markdown or Streamlit could read
    is backslash-escaped (CommonMark shows a backslash-escaped mark as itself), and an emoji
    shortcode shape gets an invisible word joiner so that it is not turned into a picture."""
    escaped = _PUNCTUATION.sub(r"\\\1", str(text))
    return _EMOJI_SHAPE.sub("\u2060", escaped)
