"""Speaker warp for training speech: move a voice's pitch and formants independently.

A synthesiser has a handful of speakers; a user is someone else. Resynthesising an
utterance through the WORLD vocoder (``pyworld``, training only) with its pitch contour
scaled and its spectral envelope stretched along the frequency axis (vocal tract length
perturbation) makes a new speaker from an old one, and gives espeak-ng's formant voices
and Festival's diphones the vocoded sound of the statistical voices many phones use.
"""

from __future__ import annotations

import numpy as np

FRAME_MS = 5.0


def warp_voice(samples: np.ndarray, rate: int, semitones: float, formants: float
               ) -> np.ndarray:
    """``samples`` resynthesised with the pitch moved by ``semitones`` and the formants
    scaled by ``formants`` (> 1: a shorter vocal tract), at the same peak level."""
    try:
        import pyworld
    except ImportError as error:
        raise SystemExit("the speaker warp needs pyworld (pip install pyworld)") from error
    signal = samples.astype(np.float64)
    f0, times = pyworld.dio(signal, rate, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(signal, f0, times, rate)
    envelope = pyworld.cheaptrick(signal, f0, times, rate)
    aperiodicity = pyworld.d4c(signal, f0, times, rate)
    bins = envelope.shape[1]
    source = np.minimum(np.arange(bins) / formants, bins - 1)  # bin k takes bin k / formants
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, bins - 1)
    weight = source - low

    def stretch(spectrum: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(spectrum[:, low] * (1 - weight) + spectrum[:, high] * weight)

    out = pyworld.synthesize(np.ascontiguousarray(f0 * 2.0 ** (semitones / 12)),
                             stretch(envelope), stretch(aperiodicity), rate, FRAME_MS)
    peak = np.abs(out).max()
    return (out * (np.abs(samples).max() / peak if peak > 0 else 0.0)).astype(np.float32)
