"""A streaming high-pass filter for the recogniser's input.

Music in a gym puts most of its energy in the bass and the kick drum, below the band
that tells command words apart; PocketSphinx decodes a bass line or a kick as words
("done"). Cutting it before decoding costs nothing in clean speech (telephone speech
starts at 300 Hz) and is measured in benchmarks/README.md ("Command recognition").
"""

from __future__ import annotations

import numpy as np


class HighPass:
    """Linear-phase FIR high-pass (windowed sinc) that keeps its state between chunks.

    The output lags the input by ``delay`` samples; callers that report stream times
    subtract it.
    """

    def __init__(self, cutoff: float, rate: int, taps: int = 201) -> None:
        if taps % 2 == 0:
            raise ValueError("taps must be odd for a linear-phase high-pass")
        n = np.arange(taps) - (taps - 1) / 2
        low = 2 * cutoff / rate * np.sinc(2 * cutoff / rate * n) * np.hamming(taps)
        low /= low.sum()
        self.kernel = -low
        self.kernel[(taps - 1) // 2] += 1.0
        self.delay = (taps - 1) // 2
        self._history = np.zeros(taps - 1, dtype=np.float64)

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        """The next ``len(chunk)`` filtered samples (float in, float32 out)."""
        data = np.concatenate([self._history, np.asarray(chunk, dtype=np.float64)])
        self._history = data[data.size - self._history.size:]
        return np.convolve(data, self.kernel, mode="valid").astype(np.float32)

    def reset(self) -> None:
        """Forget the past input (a new stream starts)."""
        self._history[:] = 0.0
