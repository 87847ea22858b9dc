"""Publish files so that a player never reads a half-written one.

Players poll playlists and fetch segments while the transcoder writes them. rename(2)
within one directory replaces a name in one step, so every file is first written under
a temporary name in its final directory and then moved over its real name with
``os.replace``. Temporary names start with a dot and end in ``.tmp`` so that nothing
(players, the cleanup of old segments, a continuing transcoder) takes them for
published files.

We do not fsync: a live segment is worthless after a power cut, and fsync on every
segment would add disk latency to the live edge. A reader on the same machine sees
the rename in order either way.
"""

import os
from pathlib import Path


def temporary_path_for(path: Path) -> Path:
    """A name in the same directory as ``path`` that no reader will ask for."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def publish(temporary: Path, path: Path) -> None:
    """Move a completely written temporary file over its public name."""
    os.replace(temporary, path)


def write_atomically(path: Path, data: bytes) -> None:
    temporary = temporary_path_for(path)
    with open(temporary, "wb") as file:
        file.write(data)
    publish(temporary, path)
