"""The recogniser's input high-pass: bass goes, speech band stays, chunking changes nothing."""

from __future__ import annotations

import numpy as np

from voicecoach.recognition.highpass import HighPass

RATE = 16000


def tone(frequency: float, seconds: float = 1.0) -> np.ndarray:
    return np.sin(2 * np.pi * frequency * np.arange(int(seconds * RATE)) / RATE)


def level_db(signal: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(signal[RATE // 4:] ** 2)) / np.sqrt(0.5))


def test_bass_is_cut_and_the_speech_band_passes() -> None:
    assert level_db(HighPass(250.0, RATE)(tone(60.0))) < -30.0  # a kick drum's fundamental
    assert level_db(HighPass(250.0, RATE)(tone(110.0))) < -15.0  # a bass line
    for frequency in (500.0, 1000.0, 3000.0):
        assert abs(level_db(HighPass(250.0, RATE)(tone(frequency)))) < 0.5


def test_chunked_filtering_equals_one_pass_and_lags_by_delay() -> None:
    signal = np.random.default_rng(3).standard_normal(RATE).astype(np.float32)
    whole = HighPass(250.0, RATE)(signal)
    streaming = HighPass(250.0, RATE)
    pieces = np.concatenate([streaming(signal[i:i + 333]) for i in range(0, RATE, 333)])
    assert np.allclose(whole, pieces, atol=1e-6)
    impulse = np.zeros(1000)
    impulse[100] = 1.0
    response = HighPass(250.0, RATE)(impulse)
    assert int(np.argmax(np.abs(response))) == 100 + HighPass(250.0, RATE).delay


def test_reset_forgets_the_past() -> None:
    first = HighPass(250.0, RATE)
    first(np.ones(500))
    first.reset()
    assert np.allclose(first(np.zeros(300)), 0.0)
