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

The live canceller (:class:`EchoCanceller`) has been fitting the playback to the
microphone all along; what it left of the command's span is a second measure of the
same thing, and the check takes the better explanation of the two. The one-off fit can
miss where the running one did not (stream times that jumped under load).

* :func:`echo_residual_db`: the check itself, on plain arrays.
* :class:`EchoGuard`: ties a played ring and a microphone ring to the check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from voicecoach.audio import AudioRing, resample

ECHO_THRESHOLD_DB = -13.0
"""Residual-to-microphone energy ratio below which a command is the coach's echo: set
between what the coach alone and a user over the coach leave in tests/test_echo.py's
synthetic room. More reverberant rooms need the refit (:data:`REVERB_TAPS`). (Tuned in
benchmarks/README.md, "Barge-in and self-trigger".)"""
FALLBACK_ECHO_THRESHOLD_DB = -10.0
"""The stricter line for commands the hybrid's fallback engine reported (the spotter had
let them pass): PocketSphinx hears commands in many of the coach's own phrases, and some
of those leave a residual just above :data:`ECHO_THRESHOLD_DB`, while a user over the
coach stays well above this line (benchmarks/README.md, "Soak" and "Barge-in and
self-trigger")."""
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
REVERB_TAPS = 12
"""Taps of the refit (160 ms of the past) for a residual just above the line
(:data:`REVERB_REFIT_DB`): 8 taps leave a living room's late reverberation unexplained,
so the coach's echo can land above the line. Fitting 12 on every check costs too much
time, hence a refit only in doubt; more taps also explain more of a user's voice, so at
20 a user in a dry room would pass for the coach. (Tuned in benchmarks/README.md,
"Barge-in and self-trigger", "The echo check in reverberant rooms".)"""
REVERB_REFIT_DB = 4.0
"""A residual less than this above the line is fitted again with REVERB_TAPS: about the
most the extra taps gain in the reverberant rooms of benchmarks/README.md ("Barge-in and
self-trigger")."""
PAST_TAPS = TAPS - 2


def _stft(x: np.ndarray) -> np.ndarray:
    """(frames, bins) spectra of Hann-windowed frames."""
    if x.size < FRAME:
        x = np.pad(x, (0, FRAME - x.size))
    count = 1 + (x.size - FRAME) // HOP
    index = np.arange(FRAME)[None, :] + HOP * np.arange(count)[:, None]
    return np.fft.rfft(x[index] * np.hanning(FRAME), axis=1)


COARSE_FACTOR = 4
"""Decimation of the wide search over the whole played ring: the GCC-PHAT peaks are
found at a quarter of the microphone's rate, then refined at the full rate near each,
which keeps a wide check fast (benchmarks/README.md, "Command latency", "What was cut")."""


def _gcc_phat(mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """PHAT-weighted cross-correlation: value k = fit of ``mic`` at ``reference[k:]``."""
    span = reference.size - mic.size
    n = 1 << int(math.ceil(math.log2(reference.size + mic.size)))
    cross = np.fft.rfft(reference, n) * np.conj(np.fft.rfft(mic, n))
    cross /= np.abs(cross) + 1e-9
    return np.fft.irfft(cross, n)[:span + 1]


def best_lags(mic: np.ndarray, reference: np.ndarray, candidates: int = 3,
              spacing: int = HOP) -> list[int]:
    """Offsets into ``reference`` where ``mic`` lines up best (GCC-PHAT peaks at least
    ``spacing`` apart)."""
    if reference.size < mic.size:
        return [0]
    corr = _gcc_phat(mic, reference)
    pool = min(corr.size, 64 * candidates)
    top = np.argpartition(corr, corr.size - pool)[corr.size - pool:]
    picks: list[int] = []
    for lag in top[np.argsort(corr[top])[::-1]]:
        if all(abs(int(lag) - p) > spacing for p in picks):
            picks.append(int(lag))
        if len(picks) == candidates:
            break
    return picks


def _decimate(x: np.ndarray, factor: int) -> np.ndarray:
    usable = x.size - x.size % factor
    return x[:usable].reshape(-1, factor).mean(axis=1)


def fit_residual_db(mic: np.ndarray, reference: np.ndarray, taps: int = TAPS) -> float:
    """Residual-to-mic energy (dB) after fitting ``reference`` to ``mic`` with a
    ``taps``-frame filter per frequency bin. ``reference`` is aligned with ``mic`` but
    starts ``taps - 2`` hops earlier and ends one hop later (``mic.size`` +
    (taps - 1) * HOP samples): reverberation comes from the past."""
    m = _stft(mic)
    frames = m.shape[0]
    r = _stft(reference)
    if r.shape[0] < frames + taps - 1:
        r = np.pad(r, ((0, frames + taps - 1 - r.shape[0]), (0, 0)))
    x = np.stack([r[k:k + frames] for k in range(taps)], axis=2)  # (frames, bins, taps)
    x = np.transpose(x, (1, 0, 2))  # (bins, frames, taps)
    y = m.T  # (bins, frames)
    xh = np.conj(np.transpose(x, (0, 2, 1)))
    a = xh @ x  # (bins, taps, taps)
    scale = np.trace(a, axis1=1, axis2=2).real[:, None, None] / taps
    a = a + (1e-3 * scale + 1e-12) * np.eye(taps)[None]
    h = np.linalg.solve(a, xh @ y[:, :, None])
    residual = y - (x @ h)[:, :, 0]
    mic_energy = float(np.sum(np.abs(y) ** 2))
    if mic_energy <= 1e-12:
        return 0.0
    return 10 * math.log10(max(float(np.sum(np.abs(residual) ** 2)), 1e-12) / mic_energy)


def echo_residual_db(mic: np.ndarray, reference: np.ndarray,
                     lags: list[int] | None = None, taps: int = TAPS) -> tuple[float, int]:
    """(residual dB, lag): how well ``reference`` (longer, covering every lag to try)
    explains ``mic``; 0 dB when it explains nothing. Both mono at the same rate.
    ``lags``: the offsets into ``reference`` to try (default: :func:`best_lags`)."""
    if mic.size < FRAME or float(np.max(np.abs(reference), initial=0.0)) < 1e-4:
        return 0.0, 0
    best = (0.0, 0)
    for lag in best_lags(mic, reference) if lags is None else lags:
        start = lag - (taps - 2) * HOP
        piece = reference[max(start, 0):lag + mic.size + HOP]
        if start < 0:
            piece = np.concatenate([np.zeros(-start, dtype=np.float32), piece])
        piece = np.pad(piece, (0, max(0, mic.size + (taps - 1) * HOP - piece.size)))
        db = fit_residual_db(mic, piece, taps)
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
                 threshold_db: float = ECHO_THRESHOLD_DB,
                 cleaned: AudioRing | None = None) -> None:
        """``cleaned``: the canceller's output, written in step with ``mic`` (the same
        sample indices), or None."""
        self.played, self.mic, self.threshold_db = played, mic, threshold_db
        self.cleaned = cleaned

    def check(self, start: float, end: float, input_offset: int = 0,
              threshold_db: float | None = None) -> EchoVerdict:
        """Judge a command heard at recogniser times [start, end]; ``threshold_db``
        replaces the guard's own line for this command.

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
        line = self.threshold_db if threshold_db is None else threshold_db
        db, lag = self._explain(mic, t0, line)
        if db >= line and self.cleaned is not None:
            db = min(db, _share_left_db(mic, self.cleaned.read_samples(first, last - first)))
        return EchoVerdict(db < line, round(db, 1), round(lag, 3))

    def _explain(self, mic: np.ndarray, t0: float, line: float) -> tuple[float, float]:
        """(residual dB, lag in seconds) of the best fit of the playback to ``mic``,
        captured from stream time ``t0``: first where the clocks say, then anywhere
        unless that already explains it (below ``line``)."""
        rate = self.mic.rate
        t1 = t0 + mic.size / rate
        # The echo of what was heard at t reaches the mic at t + delay: look back.
        reference = self.played.read(t0 - MAX_LAG_SECONDS, t1 + LEAD_SECONDS, rate)
        db, lag = echo_residual_db(mic, reference)
        if line <= db < line + REVERB_REFIT_DB:  # a reverberant room's tail, or a user?
            db = min(db, echo_residual_db(mic, reference, [lag], REVERB_TAPS)[0])
        lag_seconds = MAX_LAG_SECONDS - lag / rate
        if db >= line:
            wide_db, played_at = self._wide(mic)
            if wide_db < db:
                db, lag_seconds = wide_db, t0 - played_at
        return db, lag_seconds

    def _wide(self, mic: np.ndarray) -> tuple[float, float]:
        """(residual dB, stream time played) of the best fit of ``mic`` anywhere in the
        played ring: candidates from a decimated search, each refined and fitted at the
        microphone's rate."""
        rate, played = self.mic.rate, self.played
        coarse_rate = rate // COARSE_FACTOR
        ring = played.recent(coarse_rate)
        small = _decimate(mic, COARSE_FACTOR)
        if mic.size < FRAME or ring.size <= small.size \
                or float(np.max(np.abs(ring), initial=0.0)) < 1e-4:
            return 0.0, 0.0
        oldest = played.written - min(played.written, played.capacity)
        step = played.rate / rate  # played samples per mic sample
        best = (0.0, 0.0)
        for lag in best_lags(small, ring, spacing=HOP // COARSE_FACTOR):
            # Room for the fit's past taps, its future tap and the coarse step.
            slack = (PAST_TAPS + 1) * HOP + 2 * COARSE_FACTOR
            first = oldest + int((lag * COARSE_FACTOR - slack) * step)
            raw = played.read_samples(first, int((mic.size + 2 * slack + HOP) * step) + 2)
            piece = resample(raw, played.rate, rate)
            near = best_lags(mic, piece[PAST_TAPS * HOP:], candidates=1)
            db, at = echo_residual_db(mic, piece, [near[0] + PAST_TAPS * HOP])
            if db < best[0]:
                best = (db, played.time_at(first + at * step))
        return best


def _share_left_db(mic: np.ndarray, left: np.ndarray) -> float:
    """Energy of ``left`` (what the canceller left of ``mic``) relative to ``mic``'s."""
    total = float(np.dot(mic.astype(np.float64), mic))
    if total <= 0.0 or left.size != mic.size:
        return 0.0
    return 10 * math.log10(max(float(np.dot(left.astype(np.float64), left)), 1e-20) / total)


CANCEL_WINDOW_SECONDS = 0.4
"""Microphone audio the canceller fits the playback to, ending with the newest block."""
CANCEL_BELOW = 0.5
"""The canceller subtracts only a fit that leaves at most this share of the window's
energy: a weak fit is a wrong one (unrelated speech), and subtracting it would add
the coach's voice from elsewhere to what the recogniser hears."""
CANCEL_SEARCH_SECONDS = 0.5
"""How often the canceller searches the lag again while its fits are good..."""
CANCEL_RETRY_SECONDS = 0.15
"""... and while they are not (the search costs more than the fit)."""
CANCEL_PROVEN = 0.1
"""A fit leaving at most this share (-10 dB; far above what the coach's echo leaves in
the room rig, and unrelated speech never gets near it) proves the lag..."""
CANCEL_TRUST_SECONDS = 10.0
"""... for this long: meanwhile weaker fits are subtracted too (the user talking over
the coach weakens the fit, not the alignment)."""
SILENT_POWER = 1e-9
"""Mean power (-90 dBFS) under which a microphone window is silence: no lag to find."""
CANCEL_TAPS = 32
CANCEL_PRE_TAPS = 8
"""Filter taps (samples at the microphone's rate) of the canceller, of which this many
look ahead of the aligned sample (what the lag search leaves of the lag error)."""


def _gram(reference: np.ndarray, size: int) -> np.ndarray:
    """X^T X of the sliding-window matrix X[t, k] = reference[t + k] (t < size, k <
    CANCEL_TAPS), from running sums of lagged products: no matrix is built."""
    taps = CANCEL_TAPS
    a = np.empty((taps, taps))
    for d in range(taps):
        sums = np.concatenate(([0.0], np.cumsum(reference[:reference.size - d] * reference[d:])))
        j = np.arange(taps - d)
        a[j, j + d] = a[j + d, j] = sums[size + j] - sums[j]
    return a


class EchoCanceller:
    """Removes the coach's own playback from the microphone stream, block by block,
    before the recogniser hears it (so a user's command over the coach is decodable).

    For each block: the last :data:`CANCEL_WINDOW_SECONDS` of the microphone ring are
    lined up with the played ring (GCC-PHAT, around where the stream clocks say), a
    short least-squares filter maps the playback onto them, and the block minus the
    filtered playback is returned. This only cleans the recogniser's input;
    :class:`EchoGuard` still judges every command on the raw microphone signal.
    """

    def __init__(self, played: AudioRing, mic: AudioRing) -> None:
        self.played, self.mic = played, mic
        self.window = int(CANCEL_WINDOW_SECONDS * mic.rate)
        self._ratio = played.rate / mic.rate
        # Played sample heard with microphone sample 0: the two rings are followed
        # sample by sample between lag searches (their stream times jitter by
        # milliseconds from callback to callback, more than the filter can absorb).
        self._anchor: float | None = None
        self._searched = -(10 ** 9)  # mic sample at the last lag search
        self._good = -(10 ** 9)  # mic sample at the last fit that explained the window

    def clean(self, block: np.ndarray) -> np.ndarray:
        """``block``, the newest samples written to the microphone ring, minus echo."""
        rate, n, now = self.mic.rate, block.size, self.mic.written
        size = min(max(self.window, n), now)
        first = now - size
        if size < n or size < 4 * CANCEL_TAPS:
            return block
        mic = self.mic.read_samples(first, size).astype(np.float64)
        trusted = now - self._good <= CANCEL_TRUST_SECONDS * rate
        since = now - self._searched
        fit = self._fit(mic, first, n) if self._anchor is not None else None
        good = fit is not None and fit[1] <= CANCEL_BELOW * fit[2]
        if since >= CANCEL_SEARCH_SECONDS * rate or \
                (not good and since >= CANCEL_RETRY_SECONDS * rate):
            self._searched = now
            anchor = self._search(mic, first)
            if anchor is not None and anchor != self._anchor:
                kept, self._anchor = self._anchor, anchor
                other = self._fit(mic, first, n)
                # A new lag must prove itself with a good fit: one found where a phrase
                # has only just started (little played to line up with) is noise, and
                # replacing the proven lag with it leaves the phrase onset uncancelled.
                if other is not None and other[1] <= CANCEL_BELOW * other[2] \
                        and (fit is None or other[1] < fit[1]):
                    fit, good = other, True
                else:
                    self._anchor = kept
        if fit is None:
            return block
        echo, left, energy = fit
        if left <= CANCEL_PROVEN * energy:
            self._good = now
        # A weak fit is subtracted only where the alignment was recently proven (the
        # user talking over the coach weakens it); else it is likely a wrong one, and
        # would add the coach's voice from elsewhere to what the recogniser hears.
        if good or (trusted and left < energy):
            return (block - echo).astype(np.float32)
        return block

    def _search(self, mic: np.ndarray, first: int) -> float | None:
        """The anchor at which the played ring best lines up with ``mic`` (which starts
        at microphone sample ``first``), around where the stream clocks say."""
        if float(np.dot(mic, mic)) < SILENT_POWER * mic.size:
            return None  # nothing heard to line up with
        rate = self.mic.rate
        t0 = self.mic.time_at(first)
        low = int(self.played.sample_at(t0 - MAX_LAG_SECONDS))
        count = int((MAX_LAG_SECONDS + LEAD_SECONDS) * self.played.rate
                    + (mic.size + 2) * self._ratio)
        reference = resample(self.played.read_samples(low, count), self.played.rate, rate)
        if float(np.max(np.abs(reference), initial=0.0)) < 1e-4:
            return None
        lag = int(np.argmax(_gcc_phat(mic, reference.astype(np.float64))))
        return low + lag * self._ratio - first * self._ratio

    def _fit(self, mic: np.ndarray, first: int, n: int
             ) -> tuple[np.ndarray, float, float] | None:
        """(echo in the last ``n`` samples, residual energy, energy) of the
        least-squares fit of the played audio at the current anchor to ``mic``;
        None when nothing was played there."""
        if self._anchor is None:
            return None
        size, rate = mic.size, self.mic.rate
        count = size + CANCEL_TAPS - 1
        start = self._anchor + (first - CANCEL_PRE_TAPS) * self._ratio
        base = int(math.floor(start))
        raw = self.played.read_samples(base, int(count * self._ratio) + 3)
        reference = resample(raw, self.played.rate, rate, start - base, count).astype(np.float64)
        if float(np.max(np.abs(reference), initial=0.0)) < 1e-4:
            return None
        # Least squares: mic[t] ~ sum_k h[k] reference[t + k].
        a = _gram(reference, size)
        a += (1e-3 * np.trace(a) / CANCEL_TAPS + 1e-9) * np.eye(CANCEL_TAPS)
        cross = np.correlate(reference, mic, "valid")
        h = np.linalg.solve(a, cross)
        energy = float(np.dot(mic, mic))
        left = energy - float(np.dot(h, cross))
        # A silent window (digital silence between phrases) fits any lag perfectly.
        if not np.isfinite(left) or energy < SILENT_POWER * size:
            return None
        return np.correlate(reference[size - n:], h, "valid"), max(left, 0.0), energy
