"""Model files pinned by sha256: a damaged or swapped model is refused in one line.

The coach loads networks it did not train (openWakeWord's feature models, Whisper
tiny.en) and decides on commands with what they say. A truncated download or a
different release of the same file name would not crash; it would quietly hear worse.
So each shipped or expected model file has its digest written down here, next to the
code that loads it, and is checked before it is used.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from voicecoach.errors import MissingDependencyError

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=32)
def _digest_once(path: str, size: int, mtime_ns: int) -> str:
    """Keyed by size and mtime as well: a file replaced in place is hashed again."""
    return sha256_of(Path(path))


def verify_files(folder: Path, expected: Mapping[str, str], remedy: str) -> None:
    """Check every ``name -> sha256`` of ``expected`` in ``folder``.

    A missing file or a different digest raises MissingDependencyError naming the file
    and ``remedy`` (what to reinstall). Each file is hashed once per process.
    """
    for name, digest in expected.items():
        path = folder / name
        try:
            stat = path.stat()
            actual = _digest_once(os.fspath(path), stat.st_size, stat.st_mtime_ns)
        except OSError as error:
            raise MissingDependencyError(f"cannot read {path} ({error.strerror or error}); "
                                         f"{remedy}") from error
        if actual != digest:
            raise MissingDependencyError(f"{path} is not the expected file (sha256 "
                                         f"{actual[:12]}..., expected {digest[:12]}...); "
                                         f"it is damaged or was replaced: {remedy}")
        logger.debug("%s: sha256 verified", path)
