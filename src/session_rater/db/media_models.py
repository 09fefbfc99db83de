"""Tables for recording media: files on disk, transcoding jobs, the access log.

(Placeholder: the media pipeline fills this in.)
"""

from __future__ import annotations
