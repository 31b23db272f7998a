"""The recogniser's noise suppressor: a steady background is cut, speech over it passes."""

from __future__ import annotations

import numpy as np
import speechgen

from voicecoach.recognition.denoise import NoiseSuppressor

RATE = 16000


def run(signal: np.ndarray, chunk: int = 800) -> np.ndarray:
    """Filter ``signal`` in chunks and undo the suppressor's lag."""
    suppressor = NoiseSuppressor(RATE)
    padded = np.concatenate([signal, np.zeros(suppressor.frame)])
    out = np.concatenate([suppressor(padded[i:i + chunk]) for i in range(0, padded.size, chunk)])
    return out[suppressor.delay:suppressor.delay + signal.size]


def rms_db(signal: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(signal.astype(np.float64) ** 2) + 1e-20))


def test_steady_noise_is_cut_by_more_than_ten_db() -> None:
    noise = 0.02 * speechgen.pink_noise(4.0, seed=1)
    out = run(noise)
    settled = slice(2 * RATE, 4 * RATE)  # after the noise floor has been learnt
    assert rms_db(out[settled]) < rms_db(noise[settled]) - 10.0


def test_speech_over_noise_keeps_its_level_and_shape() -> None:
    speech = speechgen.say("resume", "en-us")
    signal, placed = speechgen.layout([("resume", speech)], lead=2.0, tail=0.5)
    noisy = speechgen.mix_at_snr(signal, speechgen.pink_noise(signal.size / RATE, 2), 15.0)
    out = run(noisy)
    where = slice(int(placed[0].start * RATE), int(placed[0].end * RATE))
    assert abs(rms_db(out[where]) - rms_db(signal[where])) < 2.0
    assert np.corrcoef(out[where], signal[where])[0, 1] > 0.9


def test_clean_input_passes_unchanged_in_any_chunking() -> None:
    speech, _ = speechgen.layout([("next", speechgen.say("next", "en+f2"))], lead=0.5)
    whole = run(speech, chunk=speech.size + 512)
    assert np.allclose(run(speech, chunk=333), whole, atol=1e-5)
    assert np.allclose(whole, speech, atol=2e-3)
