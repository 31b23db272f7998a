"""The earcons: short non-speech sounds in ``audio/<name>.wav`` (made by audio/make_earcons.py)."""

from __future__ import annotations

import functools
import wave
from pathlib import Path

import numpy as np

from voicecoach import paths
from voicecoach.audio import PLAYBACK_RATE, read_wav
from voicecoach.errors import InputError, VoicecoachError

EARCON_NAMES: tuple[str, ...] = ("start", "tick", "switch", "finish", "ready", "paused", "resumed")
"""Every earcon voicecoach plays; each is ``audio/<name>.wav``."""

REGENERATE = "python audio/make_earcons.py"


def earcon_path(name: str) -> Path:
    """Where the earcon ``name`` lives."""
    return paths.audio_dir() / f"{name}.wav"


def load_earcon(name: str) -> np.ndarray:
    """The earcon ``name`` as read-only mono float32 at PLAYBACK_RATE (loaded once)."""
    if name not in EARCON_NAMES:
        raise InputError(f"unknown earcon {name!r}; known earcons: {', '.join(EARCON_NAMES)}")
    return _load(earcon_path(name).resolve())


@functools.cache
def _load(path: Path) -> np.ndarray:
    try:
        samples, rate = read_wav(path)
        if rate != PLAYBACK_RATE or samples.size == 0:
            raise wave.Error(f"expected a non-empty 16-bit mono WAV at {PLAYBACK_RATE} Hz")
    except (OSError, EOFError, wave.Error) as error:
        raise VoicecoachError(
            f"earcon file {path} is missing or unreadable ({error}); "
            f"regenerate the earcons with `{REGENERATE}`"
        ) from error
    samples.flags.writeable = False
    return samples
