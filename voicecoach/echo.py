"""Echo check: was a command heard in the microphone only the coach's own playback?

We know exactly what was played and when, so a command the recogniser reports can be
checked after the fact: take the microphone audio of the command's span, find the
played audio that lines up with it (lag search by GCC-PHAT cross-correlation, since
output and input latencies are only estimates), fit the played signal to the
microphone with a short filter per frequency bin (a few frames of taps: gain,
colouring and some reverberation), and measure what is left. If the residual is far
weaker than the microphone (:data:`ECHO_THRESHOLD_DB`), the playback explains what
was heard: the coach triggered itself. A user speaking over the coach leaves their
voice in the residual, so barge-in still works.

* :class:`AudioRing`: a preallocated ring of recent audio with the stream time of its
  samples; :meth:`AudioRing.write` is safe in an audio callback (no allocation, no
  lock: slice copies and an index bump).
* :func:`echo_residual_db`: the check itself, on plain arrays.
* :class:`EchoGuard`: ties a played ring and a microphone ring to the check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ECHO_THRESHOLD_DB = -13.0
"""Residual-to-microphone energy ratio below which a command is the coach's echo.
Measured on espeak-ng speech through a synthetic room (delay, low-pass, ~0.2 s RT60
tail, 22050 <-> 16000 Hz resampling): the coach alone leaves -16.7 to -21.5 dB; a user
over the coach leaves -4 to -6 dB at 0 dB, -8 to -10 dB at -6 dB."""
MAX_LAG_SECONDS = 1.0
"""How much later than the clocks say the echo may reach the mic (buffering)."""
LEAD_SECONDS = 0.3
"""How much EARLIER than the clocks say it may arrive (latency over-estimated)."""
MARGIN_SECONDS = 0.1
"""Audio taken on either side of the command's span."""
FRAME = 512
HOP = 256
TAPS = 8
"""Filter taps per bin, one per hop: PAST_TAPS hops of the past (reverberation, about
100 ms), the aligned one, one of the future (lag error)."""
PAST_TAPS = TAPS - 2


class AudioRing:
    """The last ``seconds`` of a mono stream at ``rate``, with stream times.

    The writer (one thread, e.g. an audio callback) calls :meth:`write` with each
    block and the stream time of its first sample; readers call :meth:`read` for a
    time span. Readers never block the writer; a span that is being overwritten while
    read comes back partly new, which only makes an echo check fail open.
    """

    ANCHORS = 1024

    def __init__(self, rate: int, seconds: float = 10.0) -> None:
        self.rate = rate
        self._buffer = np.zeros(int(rate * seconds), dtype=np.float32)
        self._written = 0  # samples written in all
        self._anchor_sample = np.zeros(self.ANCHORS, dtype=np.int64)
        self._anchor_time = np.zeros(self.ANCHORS, dtype=np.float64)
        self._anchors = 0

    @property
    def written(self) -> int:
        return self._written

    def write(self, block: np.ndarray, time: float) -> None:
        """Append ``block``, whose first sample is heard/captured at stream ``time``."""
        size, count = self._buffer.size, block.size
        if count > size:
            block, time = block[-size:], time + (count - size) / self.rate
            self._written += count - size
            count = size
        slot = self._anchors % self.ANCHORS
        self._anchor_sample[slot] = self._written
        self._anchor_time[slot] = time
        start = self._written % size
        first = min(count, size - start)
        self._buffer[start:start + first] = block[:first]
        if first < count:
            self._buffer[:count - first] = block[first:]
        self._written += count
        self._anchors += 1

    def sample_at(self, time: float) -> float:
        """The (fractional) sample index heard/captured at stream ``time``."""
        held = min(self._anchors, self.ANCHORS)
        if held == 0:
            return 0.0
        times = self._anchor_time[:held] if self._anchors <= self.ANCHORS else self._anchor_time
        samples = self._anchor_sample[:held] if self._anchors <= self.ANCHORS \
            else self._anchor_sample
        # The latest anchor at or before ``time`` (else the earliest kept).
        before = np.flatnonzero(times <= time)
        pick = before[np.argmax(samples[before])] if before.size else int(np.argmin(samples))
        return float(samples[pick] + (time - times[pick]) * self.rate)

    def time_at(self, sample: float) -> float:
        """The stream time of ``sample`` (inverse of :meth:`sample_at`, latest anchor)."""
        if self._anchors == 0:
            return 0.0
        slot = (self._anchors - 1) % self.ANCHORS
        return float(self._anchor_time[slot] + (sample - self._anchor_sample[slot]) / self.rate)

    def read_samples(self, first: int, count: int) -> np.ndarray:
        """Samples ``first`` .. ``first+count`` (zeros where not written or overwritten)."""
        out = np.zeros(max(count, 0), dtype=np.float32)
        size, written = self._buffer.size, self._written
        lo, hi = max(first, written - size, 0), min(first + count, written)
        while lo < hi:  # at most two pieces: up to the buffer's end, then from its start
            end = min(hi, lo + size - (lo % size))
            out[lo - first:end - first] = self._buffer[lo % size:lo % size + end - lo]
            lo = end
        return out

    def recent(self, rate: int | None = None) -> np.ndarray:
        """Everything the ring holds, oldest first, resampled to ``rate`` if given."""
        count = min(self._written, self._buffer.size)
        raw = self.read_samples(self._written - count, count)
        rate = rate or self.rate
        if rate == self.rate:
            return raw
        n = int(count * rate / self.rate)
        positions = np.arange(n) * (self.rate / rate)
        return np.interp(positions, np.arange(raw.size), raw).astype(np.float32)

    def read(self, start: float, end: float, rate: int | None = None) -> np.ndarray:
        """The audio of stream times [start, end], resampled to ``rate`` if given."""
        first = self.sample_at(start)
        count = int(math.ceil((end - start) * self.rate)) + 2
        base = int(math.floor(first))
        raw = self.read_samples(base, count + 1)
        rate = rate or self.rate
        n = int(round((end - start) * rate))
        positions = (first - base) + np.arange(n) * (self.rate / rate)
        return np.interp(positions, np.arange(raw.size), raw).astype(np.float32)


def _stft(x: np.ndarray) -> np.ndarray:
    """(frames, bins) spectra of Hann-windowed frames."""
    if x.size < FRAME:
        x = np.pad(x, (0, FRAME - x.size))
    count = 1 + (x.size - FRAME) // HOP
    index = np.arange(FRAME)[None, :] + HOP * np.arange(count)[:, None]
    return np.fft.rfft(x[index] * np.hanning(FRAME), axis=1)


def best_lags(mic: np.ndarray, reference: np.ndarray, candidates: int = 3) -> list[int]:
    """Offsets into ``reference`` where ``mic`` lines up best (GCC-PHAT peaks)."""
    span = reference.size - mic.size
    if span < 0:
        return [0]
    n = 1 << int(math.ceil(math.log2(reference.size + mic.size)))
    cross = np.fft.rfft(reference, n) * np.conj(np.fft.rfft(mic, n))
    cross /= np.abs(cross) + 1e-9
    corr = np.fft.irfft(cross, n)[:span + 1]
    order = np.argsort(corr)[::-1]
    picks: list[int] = []
    for lag in order:
        if all(abs(int(lag) - p) > HOP for p in picks):
            picks.append(int(lag))
        if len(picks) == candidates:
            break
    return picks


def fit_residual_db(mic: np.ndarray, reference: np.ndarray) -> float:
    """Residual-to-mic energy (dB) after fitting ``reference`` to ``mic`` with a
    TAPS-frame filter per frequency bin. ``reference`` is aligned with ``mic`` but
    starts PAST_TAPS hops earlier and ends one hop later (``mic.size`` +
    (TAPS - 1) * HOP samples): reverberation comes from the past."""
    m = _stft(mic)
    frames = m.shape[0]
    r = _stft(reference)
    if r.shape[0] < frames + TAPS - 1:
        r = np.pad(r, ((0, frames + TAPS - 1 - r.shape[0]), (0, 0)))
    x = np.stack([r[k:k + frames] for k in range(TAPS)], axis=2)  # (frames, bins, taps)
    x = np.transpose(x, (1, 0, 2))  # (bins, frames, taps)
    y = m.T  # (bins, frames)
    xh = np.conj(np.transpose(x, (0, 2, 1)))
    a = xh @ x  # (bins, taps, taps)
    scale = np.trace(a, axis1=1, axis2=2).real[:, None, None] / TAPS
    a = a + (1e-3 * scale + 1e-12) * np.eye(TAPS)[None]
    h = np.linalg.solve(a, xh @ y[:, :, None])
    residual = y - (x @ h)[:, :, 0]
    mic_energy = float(np.sum(np.abs(y) ** 2))
    if mic_energy <= 1e-12:
        return 0.0
    return 10 * math.log10(max(float(np.sum(np.abs(residual) ** 2)), 1e-12) / mic_energy)


def echo_residual_db(mic: np.ndarray, reference: np.ndarray) -> tuple[float, int]:
    """(residual dB, lag): how well ``reference`` (longer, covering every lag to try)
    explains ``mic``; 0 dB when it explains nothing. Both mono at the same rate."""
    if mic.size < FRAME or float(np.max(np.abs(reference), initial=0.0)) < 1e-4:
        return 0.0, 0
    best = (0.0, 0)
    for lag in best_lags(mic, reference):
        start = lag - PAST_TAPS * HOP
        piece = reference[max(start, 0):lag + mic.size + HOP]
        if start < 0:
            piece = np.concatenate([np.zeros(-start, dtype=np.float32), piece])
        piece = np.pad(piece, (0, max(0, mic.size + (TAPS - 1) * HOP - piece.size)))
        db = fit_residual_db(mic, piece)
        if db < best[0]:
            best = (db, lag)
    return best


@dataclass(frozen=True)
class EchoVerdict:
    """Result of one check."""

    echo: bool
    residual_db: float
    lag: float  # seconds from the stream time it was played to the mic hearing it


class EchoGuard:
    """Checks commands against what was played.

    ``played``: the player's ring (stream times = when a sample is heard); ``mic``: a
    ring of the microphone at ``mic.rate`` written with the same clock (when a sample
    was captured). ``input_offset`` maps the recogniser's clock (seconds of audio fed)
    onto ``mic``'s sample index: sample = (t * rate) + offset.
    """

    def __init__(self, played: AudioRing, mic: AudioRing,
                 threshold_db: float = ECHO_THRESHOLD_DB) -> None:
        self.played, self.mic, self.threshold_db = played, mic, threshold_db

    def check(self, start: float, end: float, input_offset: int = 0) -> EchoVerdict:
        """Judge a command heard at recogniser times [start, end].

        First where the clocks say the echo is; if that does not explain the mic, in
        everything the ring still holds: stream times can jump (through ALSA's pulse
        plugin the DAC time ran seconds ahead of the sound after underruns), while a
        wrong match of the same words played at another moment explains the mic
        just as well, and a user's voice is in neither.
        """
        rate = self.mic.rate
        first = max(int(round((start - MARGIN_SECONDS) * rate)) + input_offset, 0)
        last = int(round((end + MARGIN_SECONDS) * rate)) + input_offset
        mic = self.mic.read_samples(first, last - first)
        t0 = self.mic.time_at(first)
        t1 = t0 + mic.size / rate
        # The echo of what was heard at t reaches the mic at t + delay: look back.
        reference = self.played.read(t0 - MAX_LAG_SECONDS, t1 + LEAD_SECONDS, rate)
        db, lag = echo_residual_db(mic, reference)
        lag_seconds = MAX_LAG_SECONDS - lag / rate
        if db >= self.threshold_db:
            everything = self.played.recent(rate)
            wide_db, wide_lag = echo_residual_db(mic, everything)
            if wide_db < db:
                played_at = self.played.time_at(self.played.written - (everything.size - wide_lag)
                                                * self.played.rate / rate)
                db, lag_seconds = wide_db, t0 - played_at
        return EchoVerdict(db < self.threshold_db, round(db, 1), round(lag_seconds, 3))
