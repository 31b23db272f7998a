"""Echo check on real espeak-ng speech: the coach's own voice coming back through a
(delayed, scaled, coloured, reverberant) room is rejected; a user speaking over it,
or with nothing played, is not."""

from __future__ import annotations

import numpy as np
import pytest

import speechgen
from voicecoach.echo import ECHO_THRESHOLD_DB, AudioRing, EchoGuard, echo_residual_db

RATE = speechgen.RATE


@pytest.fixture(scope="module")
def coach() -> np.ndarray:
    """The coach's playback: two phrases naming commands."""
    first = speechgen.say("say next when you are ready, then repeat the step", "en-us")
    second = speechgen.say("stop when you are done", "en-us+m3")
    gap = np.zeros(RATE // 4, dtype=np.float32)
    return np.concatenate([gap, first, gap, second, gap])


@pytest.fixture(scope="module")
def user() -> np.ndarray:
    return speechgen.say("stop", "en+f2", speed=140)


def room(played: np.ndarray, delay: float = 0.23, gain: float = 0.4,
         seed: int = 1) -> np.ndarray:
    """What the mic hears of ``played``: delayed, scaled, low-passed, with a 120 ms
    exponentially decaying reverberant tail and a little noise."""
    rng = np.random.default_rng(seed)
    tail = rng.standard_normal(int(0.12 * RATE)) * np.exp(-np.arange(int(0.12 * RATE))
                                                          / (0.03 * RATE))
    response = np.zeros(int(0.12 * RATE) + 8)
    response[0], response[8:] = 1.0, 0.06 * tail
    response = np.convolve(response, np.ones(4) / 4)  # a gentle low-pass
    wet = np.convolve(played, response)[:played.size] * gain
    shift = int(delay * RATE)
    mic = np.concatenate([np.zeros(shift), wet])[:played.size]
    return (mic + rng.normal(0, 1e-3, mic.size)).astype(np.float32)


def mix_user(mic: np.ndarray, user: np.ndarray, at: int, level_db: float) -> np.ndarray:
    """``user`` added at sample ``at``, its power ``level_db`` relative to the mic's
    over the same samples."""
    segment = mic[at:at + user.size]
    scale = np.sqrt(np.mean(segment ** 2) / np.mean(user ** 2)) * 10 ** (level_db / 20)
    out = mic.copy()
    out[at:at + user.size] += user * scale
    return out


def check(played: np.ndarray, mic: np.ndarray, start: int, end: int,
          clock_error: float = 0.0) -> float:
    """Run the EchoGuard as the live session does: both rings on one stream clock
    (the played one written in callback-sized blocks), command span on the mic's."""
    played_ring, mic_ring = AudioRing(22050), AudioRing(RATE)
    up = np.interp(np.arange(int(played.size * 22050 / RATE)) * RATE / 22050,
                   np.arange(played.size), played).astype(np.float32)
    for first in range(0, up.size, 1024):
        played_ring.write(up[first:first + 1024], 5.0 + first / 22050)
    for first in range(0, mic.size, 800):
        mic_ring.write(mic[first:first + 800], 5.0 + clock_error + first / RATE)
    verdict = EchoGuard(played_ring, mic_ring).check(start / RATE, end / RATE)
    assert verdict.echo == (verdict.residual_db < ECHO_THRESHOLD_DB)
    return verdict.residual_db


def command_span(coach: np.ndarray) -> tuple[int, int]:
    """A loud 0.6 s stretch of the coach's speech (where a recogniser fired)."""
    at = int(0.9 * RATE)
    return at, at + int(0.6 * RATE)


@pytest.mark.parametrize("delay, clock_error", [(0.23, 0.0), (0.05, 0.2), (0.6, -0.1)])
def test_coach_voice_through_the_room_is_echo(coach: np.ndarray, delay: float,
                                               clock_error: float) -> None:
    mic = room(coach, delay=delay)
    start, end = command_span(coach)
    assert check(coach, mic, start, end, clock_error) < ECHO_THRESHOLD_DB - 2


@pytest.mark.parametrize("level_db", [0.0, -6.0])
def test_user_over_the_coach_is_not_echo(coach: np.ndarray, user: np.ndarray,
                                         level_db: float) -> None:
    mic = room(coach)
    start = int(0.9 * RATE)
    mic = mix_user(mic, user, start, level_db)
    assert check(coach, mic, start, start + user.size) > ECHO_THRESHOLD_DB + 1


def test_nothing_played_is_not_echo(coach: np.ndarray, user: np.ndarray) -> None:
    silence = np.zeros_like(coach)
    mic = room(silence)
    start = int(0.9 * RATE)
    mic[start:start + user.size] += 0.3 * user
    assert check(silence, mic, start, start + user.size) > ECHO_THRESHOLD_DB


def test_other_speech_than_played_is_not_echo(coach: np.ndarray, user: np.ndarray) -> None:
    """Something was played, but not what the mic hears (e.g. another speaker)."""
    mic = np.zeros_like(coach)
    start = int(0.9 * RATE)
    mic[start:start + user.size] = 0.3 * user
    db, _ = echo_residual_db(mic[start:start + user.size], coach)
    assert db > ECHO_THRESHOLD_DB


def test_ring_wraps_and_reads_by_time() -> None:
    ring = AudioRing(1000, seconds=1.0)
    signal = np.arange(2500, dtype=np.float32)
    for first in range(0, signal.size, 300):
        ring.write(signal[first:first + 300], 10.0 + first / 1000)
    np.testing.assert_array_equal(ring.read_samples(2000, 500), signal[2000:2500])
    assert not ring.read_samples(1000, 10).any()  # overwritten
    np.testing.assert_allclose(ring.read(12.0, 12.1), signal[2000:2100])
