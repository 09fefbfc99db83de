"""Writing the app's versioned data files (rubrics, sampling policies): a new file per
version, never an overwrite, never half a file visible to a reader."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_new_file(directory: Path, file_name: str, text: str) -> Path:
    """Write ``text`` as ``directory/file_name``, which must not exist yet.

    Written to a hidden temporary file first (the loader skips hidden files), then linked to its
    name, which fails if the name is taken (even when two processes save at the same moment),
    so no reader sees half a file and nothing is ever overwritten."""
    target = directory / file_name
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    fd, temporary = tempfile.mkstemp(prefix=f".{file_name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text if text.endswith("\n") else text + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        try:
            os.link(temporary, target)  # atomic, and refuses an existing name
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: check, then rename
            if target.exists():
                raise FileExistsError(f"{target} already exists") from None
            os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target
