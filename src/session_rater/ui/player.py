"""The recording player: a Streamlit components-v2 element (static/player.js).

It keeps one <video> element across reruns (only a new recording changes its ``src``), offers
play/pause, 0.5x-2x speed, back and forward 10 s, keyboard shortcuts (only while the focus is
in the player), a timeline of thumbnails, the rater's evidence notes as a list and as markers
on a bar under the video, which seek the video in the browser when clicked, and the
recording's captions (a <track>) with a transcript. It reports to Python only when the rater
presses "Add evidence to <item> at <time>": :func:`player` returns that stamp (seconds and
the item the rater was working on in the form) on the run it triggers.
"""

from __future__ import annotations

import base64
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import streamlit as st

_STATIC = Path(__file__).resolve().parent / "static"
_component = st.components.v2.component(
    "session_rater_player",
    js=(_STATIC / "player.js").read_text(encoding="utf-8"),
    css=(_STATIC / "player.css").read_text(encoding="utf-8"),
)


@dataclass(frozen=True)
class Note:
    """An evidence note shown under the player: clicking it seeks to ``t``."""

    t: float
    item: str
    text: str


@dataclass(frozen=True)
class Thumbnail:
    t: float
    src: str  # a data: URI


@lru_cache(maxsize=512)
def data_uri(path: Path) -> str:
    """A small image file as a data: URI (thumbnails are a few kB each)."""
    mime = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


@dataclass(frozen=True)
class Item:
    """An item of the form beside the player: the evidence moment goes to the item whose
    element (Streamlit key ``key``) the rater last focused, typed or clicked in."""

    id: str
    title: str
    key: str

    @property
    def css_class(self) -> str:
        """The class Streamlit gives the element with this key (its frontend's rule)."""
        return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", self.key.strip())


@dataclass(frozen=True)
class Stamp:
    seconds: float
    item_id: str | None


def player(
    *,
    key: str,
    recording_id: int,
    src: str,
    viewer_cookie: str,
    notes: list[Note],
    thumbnails: list[Thumbnail],
    active_item: str | None,
    active_title: str | None,
    can_stamp: bool,
    read_only: bool,
    start_at: float | None = None,
    stamping: bool = True,
    items: list[Item] | None = None,
    captions_src: str | None = None,
) -> Stamp | None:
    """The player. ``start_at``: seek there once when the player is shown (a link to a moment);
    ``stamping`` False: no "Add evidence" button at all (a page that only watches);
    ``items``: the form's items, so that "Add evidence" goes to the one the rater is working
    on (focus or last input in its element) and says so; ``captions_src``: the recording's
    captions (WebVTT) URL, shown as a captions track and a transcript."""
    result = _component(
        key=key,
        data={
            "recording_id": recording_id,
            "src": src,
            "viewer_cookie": viewer_cookie,
            "notes": [asdict(n) for n in sorted(notes, key=lambda n: n.t)],
            "thumbnails": [asdict(t) for t in thumbnails],
            "strip_key": f"{recording_id}:{len(thumbnails)}",
            "active_item": active_item,
            "active_title": active_title,
            "can_stamp": can_stamp,
            "read_only": read_only,
            "start_at": start_at,
            "stamping": stamping,
            "items": [{"id": i.id, "title": i.title, "cls": i.css_class} for i in items or []],
            "captions_src": captions_src,
        },
        on_stamp_change=lambda: None,
    )
    stamp = getattr(result, "stamp", None)
    if not stamp:
        return None
    return Stamp(seconds=float(stamp.get("t") or 0.0), item_id=stamp.get("item"))
