"""The earcons: short non-speech sounds in ``audio/<name>.wav`` (made by audio/make_earcons.py)."""

from __future__ import annotations

import functools
import wave
from pathlib import Path

import numpy as np

from voicecoach import paths
from voicecoach.audio import SAMPLE_RATE, from_int16
from voicecoach.errors import InputError, VoicecoachError

EARCON_NAMES: tuple[str, ...] = ("start", "tick", "switch", "finish", "ready", "paused", "resumed")
"""Every earcon voicecoach plays; each is ``audio/<name>.wav``."""

REGENERATE = "python audio/make_earcons.py"


def earcon_path(name: str) -> Path:
    """Where the earcon ``name`` lives."""
    return paths.audio_dir() / f"{name}.wav"


def load_earcon(name: str) -> np.ndarray:
    """The earcon ``name`` as read-only mono float32 at SAMPLE_RATE (loaded once)."""
    if name not in EARCON_NAMES:
        raise InputError(f"unknown earcon {name!r}; known earcons: {', '.join(EARCON_NAMES)}")
    return _load(earcon_path(name).resolve())


@functools.cache
def _load(path: Path) -> np.ndarray:
    try:
        with wave.open(str(path), "rb") as wav:
            shape = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate())
            if shape != (1, 2, SAMPLE_RATE):
                raise wave.Error(f"expected 16-bit mono at {SAMPLE_RATE} Hz, got {shape}")
            frames = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as error:
        raise VoicecoachError(
            f"earcon file {path} is missing or unreadable ({error}); "
            f"regenerate the earcons with `{REGENERATE}`"
        ) from error
    samples = from_int16(np.frombuffer(frames, dtype="<i2"))
    if samples.size == 0:
        raise VoicecoachError(
            f"earcon file {path} is empty; regenerate the earcons with `{REGENERATE}`"
        )
    samples.flags.writeable = False
    return samples
