"""The content hash of a recording: its identity across moves and renames.

SHA-256 of the file's bytes, read in 1 MiB chunks into one reused buffer (constant memory
whatever the file's size). Two files with the same hash are the same recording, so a file
that was moved or renamed keeps its ratings when it is ingested again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from session_rater.errors import RecordingError

CHUNK_BYTES = 1024 * 1024
HashProgress = Callable[[int, int], None]  # (bytes read so far, total bytes)


def content_hash(path: Path | str, *, on_progress: HashProgress | None = None) -> str:
    """The SHA-256 of the file at ``path`` as 64 lowercase hex digits.

    ``on_progress(done, total)`` is called after every chunk (and once at the end).
    Raises :class:`RecordingError` when the file cannot be read.
    """
    file = Path(path)
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    done = 0
    try:
        total = file.stat().st_size
        with file.open("rb", buffering=0) as handle:
            while True:
                n = handle.readinto(view)
                if not n:
                    break
                digest.update(view[:n])
                done += n
                if on_progress is not None:
                    on_progress(done, total)
    except FileNotFoundError:
        raise RecordingError(f"Recording {file} does not exist. Check the path.") from None
    except OSError as exc:
        raise RecordingError(
            f"Recording {file} cannot be read ({exc.strerror or exc}); check the file's permissions "
            "and that its drive is still connected."
        ) from None
    if on_progress is not None and done == 0:
        on_progress(0, total)
    return digest.hexdigest()
