"""The one audio format used inside voicecoach: mono float32 at SAMPLE_RATE."""

from __future__ import annotations

import os
import tempfile
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22050
"""Samples per second of every buffer voicecoach mixes (espeak-ng's native rate)."""


def seconds_to_samples(seconds: float) -> int:
    """Nearest sample index for a time on the plan clock."""
    return int(round(seconds * SAMPLE_RATE))


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples to little-endian 16-bit PCM, rounded and clipped.

    The exact inverse of :func:`from_int16` on its outputs, so a clip that goes through
    a WAV file and back comes out bit-identical.
    """
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2")


def from_int16(samples: np.ndarray) -> np.ndarray:
    """16-bit PCM to float32 in [-1, 1]."""
    return samples.astype(np.float32) / 32768.0


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit mono WAV as float32 samples and its sample rate."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise wave.Error(f"{path} is not 16-bit mono")
        data = wav.readframes(wav.getnframes())
        return from_int16(np.frombuffer(data, dtype="<i2")), wav.getframerate()


def write_wav_atomic(path: Path, samples: np.ndarray) -> None:
    """Write a 16-bit mono WAV at SAMPLE_RATE via a temp file and os.replace."""
    recorder = WavRecorder(path, SAMPLE_RATE)
    try:
        recorder.write(samples)
    except BaseException:
        recorder.discard()
        raise
    recorder.close()


class WavRecorder:
    """A 16-bit mono WAV written block by block (e.g. a live microphone), under a temp
    name in the target folder and renamed into place by :meth:`close`, so a reader never
    sees a half-written file."""

    def __init__(self, path: Path, rate: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        fd, self._tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".",
                                         suffix=".tmp")
        self._handle = os.fdopen(fd, "wb")
        self._wav = wave.open(self._handle, "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)

    def write(self, samples: np.ndarray) -> None:
        """Append float samples in [-1, 1] (nothing, once closed)."""
        if self._handle.closed:
            return
        self._wav.writeframes(to_int16(np.asarray(samples, dtype=np.float32)).tobytes())

    def close(self) -> None:
        """Finish the header and move the file into place (once; later calls do nothing)."""
        if self._handle.closed:
            return
        self._wav.close()
        self._handle.close()
        os.chmod(self._tmp, 0o644)
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        """Close without keeping anything: the temp file is removed."""
        if not self._handle.closed:
            self._wav.close()
            self._handle.close()
        Path(self._tmp).unlink(missing_ok=True)
