"""Streaming noise suppression for the recogniser's input (spectral subtraction).

A steady background (a fan, traffic, the hiss of a far-field microphone) reaches the
decoder as speech-like frames: PocketSphinx's endpointer passes it on as an utterance and
the decoder spells it with fricative words ("feet", "five") that swallow the command said
over it. A per-frequency noise floor, tracked as the minimum of the smoothed power over
the last ``window`` seconds (minimum statistics), is subtracted with a Wiener-style gain;
speech well above the floor passes unchanged, so clean input is left as it is.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class NoiseSuppressor:
    """Short-time spectral subtraction that keeps its state between chunks.

    Output lags input by ``delay`` samples (one frame minus one hop).
    """

    def __init__(self, rate: int, frame: int = 512, window: float = 1.5,
                 over: float = 2.0, floor: float = 0.05, bias: float = 5.0) -> None:
        self.frame = frame
        self.hop = frame // 2
        self.delay = frame - self.hop
        self.over = over
        # The minimum of a smoothed noisy power spectrum lies well under its mean: scale it
        # back up, or steady noise is barely cut (tuned in benchmarks/README.md, "English,
        # PocketSphinx").
        self.bias = bias
        self.floor = floor
        # sqrt-Hann analysis and synthesis windows overlap-add to one at 50 % overlap.
        self.window = np.sqrt(np.hanning(frame + 1)[:-1])
        self._span = max(1, int(window * rate / self.hop))
        self.reset()

    def reset(self) -> None:
        """Forget the input and the noise estimate (a new stream starts)."""
        self._input = np.zeros(self.frame - self.hop)
        self._output = np.zeros(self.frame)
        self._smoothed: np.ndarray | None = None
        self._history: deque[np.ndarray] = deque(maxlen=self._span)
        self._gain = np.ones(self.frame // 2 + 1)

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        """Filtered samples; as many as whole hops of input allow (state carries the rest)."""
        data = np.concatenate([self._input, np.asarray(chunk, dtype=np.float64)])
        hops = (data.size - (self.frame - self.hop)) // self.hop
        out = np.empty(hops * self.hop)
        for index in range(hops):
            start = index * self.hop
            spectrum = np.fft.rfft(data[start:start + self.frame] * self.window)
            shaped = np.fft.irfft(spectrum * self._next_gain(np.abs(spectrum) ** 2), self.frame)
            self._output += shaped * self.window
            out[start:start + self.hop] = self._output[:self.hop]
            self._output = np.concatenate([self._output[self.hop:], np.zeros(self.hop)])
        self._input = data[hops * self.hop:]
        return out.astype(np.float32)

    def _next_gain(self, power: np.ndarray) -> np.ndarray:
        self._smoothed = power if self._smoothed is None else 0.7 * self._smoothed + 0.3 * power
        self._history.append(self._smoothed)
        noise = self.bias * np.min(self._history, axis=0)
        gain = np.sqrt(np.maximum(1.0 - self.over * noise / np.maximum(power, 1e-12),
                                  self.floor ** 2))
        self._gain = 0.5 * self._gain + 0.5 * gain  # less "musical noise"
        return self._gain
