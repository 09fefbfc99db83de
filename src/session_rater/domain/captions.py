"""Captions of a recording in WebVTT (https://www.w3.org/TR/webvtt1/), checked before they are
kept, so that the player never offers a track the browser would silently drop.

A small strict reader of the parts a transcript needs: the ``WEBVTT`` signature, cues (an
optional identifier, a timing line ``start --> end [settings]``, text lines), and ``NOTE``,
``STYLE`` and ``REGION`` blocks (skipped). Every problem is reported with its line number, so
whoever made the file can fix it in one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from session_rater.errors import FileContentError

MAX_CAPTIONS_BYTES = 2 * 1024 * 1024
"""Larger files are refused: a two-hour session's captions are about 200 kB."""

_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIME}[ \t]+-->[ \t]+{_TIME}(?:[ \t]+.*)?$")
_LOOSE_TIMING = re.compile(r"-->")
_TAG = re.compile(r"<[^>]*>")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": " ", "&lrm;": "", "&rlm;": ""}
TIME_FORMAT_HINT = "times are written mm:ss.ttt or hh:mm:ss.ttt, e.g. 00:01.500 --> 00:04.000"


class CaptionsError(FileContentError):
    """A captions (WebVTT) file is malformed, too large or not text."""

    kind = "Captions file"


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str  # plain text: tags removed, entities resolved


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _plain(text: str) -> str:
    text = _TAG.sub("", text)
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return text


def decode_captions(data: bytes, source: str) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), at most MAX_CAPTIONS_BYTES."""
    if len(data) > MAX_CAPTIONS_BYTES:
        size = f"{len(data) / 1024 / 1024:.1f} MB"
        limit = f"{MAX_CAPTIONS_BYTES // 1024 // 1024} MB"
        raise CaptionsError(source, [f"{source}: the file is {size}, too large: captions files of up to {limit} are accepted"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = f"{source}: byte {exc.start + 1} is not UTF-8 text: save the file as UTF-8 WebVTT (.vtt)"
        raise CaptionsError(source, [problem]) from None


def parse_vtt(text: str, source: str = "captions.vtt") -> list[Cue]:
    """The cues of a WebVTT file, in order; :class:`CaptionsError` listing every problem."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    errors: list[str] = []
    first = lines[0] if lines else ""
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", first):
        shown = first[:40] + ("…" if len(first) > 40 else "")
        srt = " (is this an .srt file? convert it to WebVTT)" if first.strip().isdigit() else ""
        problem = f"{source}: line 1: a WebVTT file starts with the line WEBVTT, not {shown!r}{srt}"
        raise CaptionsError(source, [problem])
    i = 1
    while i < len(lines) and lines[i].strip():  # the header, up to the first blank line
        if _LOOSE_TIMING.search(lines[i]):
            errors.append(f"{source}: line {i + 1}: a blank line must separate the WEBVTT line from the first cue")
            break
        i += 1
    cues: list[Cue] = []
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        start_line = i
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        head = block[0]
        if re.match(r"^(NOTE|STYLE|REGION)(?:[ \t]|$)", head) and "-->" not in head:
            continue
        timing_at = 0 if "-->" in head else 1
        if timing_at >= len(block) or "-->" not in block[timing_at]:
            errors.append(f"{source}: line {start_line + 1}: {head[:40]!r} is neither a cue (an optional name, then a "
                          "line 'start --> end') nor a NOTE; cues are separated by blank lines")  # fmt: skip
            continue
        timing = block[timing_at].strip()
        match = _TIMING.match(timing)
        line_no = start_line + timing_at + 1
        if match is None:
            errors.append(f"{source}: line {line_no}: {timing[:60]!r} is not a valid timing: {TIME_FORMAT_HINT}")
            continue
        g = match.groups()
        start, end = _seconds(*g[:4]), _seconds(*g[4:8])
        if end <= start:
            errors.append(f"{source}: line {line_no}: the cue ends ({timing.split('-->')[1].split()[0]}) "
                          f"before it starts ({timing.split('-->')[0].strip()})")  # fmt: skip
            continue
        if cues and start < cues[-1].start:
            errors.append(f"{source}: line {line_no}: this cue starts before the one above it: cues must be in "
                          "the order they are spoken")  # fmt: skip
            continue
        payload = block[timing_at + 1:]
        arrows = [n for n, line in enumerate(payload) if "-->" in line]
        if arrows:
            errors.append(f"{source}: line {line_no + 1 + arrows[0]}: a cue's text cannot contain '-->' "
                          "(is a blank line missing before the next cue?)")  # fmt: skip
            continue
        cues.append(Cue(start, end, " ".join(_plain(line).strip() for line in payload).strip()))
    if not cues and not errors:
        errors.append(f"{source}: the file has no cues (a cue is a line 'start --> end' and its text)")
    if errors:
        raise CaptionsError(source, errors)
    return cues
