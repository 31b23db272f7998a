"""The one audio format used inside voicecoach: mono float32 at SAMPLE_RATE."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 22050
"""Samples per second of every buffer voicecoach mixes (espeak-ng's native rate)."""


def seconds_to_samples(seconds: float) -> int:
    """Nearest sample index for a time on the plan clock."""
    return int(round(seconds * SAMPLE_RATE))


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Clip float samples to [-1, 1] and convert them to 16-bit PCM."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def from_int16(samples: np.ndarray) -> np.ndarray:
    """16-bit PCM to float32 in [-1, 1]."""
    return samples.astype(np.float32) / 32768.0
