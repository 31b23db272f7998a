"""The audio format inside voicecoach, and its one owner.

Every buffer is a 1-D ``numpy.float32`` array in [-1, 1], mono. Two rates: playback
(:data:`PLAYBACK_RATE`, what speech is rendered and mixed at) and recognition
(:data:`RECOGNIZER_RATE`, what the microphone is read at and every recogniser takes).
This module holds the one 16-bit PCM conversion pair, the one resampler, the ring of
recent audio the echo check reads, reading recordings in any format, and the one place
that finds ffmpeg.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from voicecoach.errors import InputError, MissingDependencyError

logger = logging.getLogger(__name__)

PLAYBACK_RATE = 22050
"""Samples per second of every buffer voicecoach renders and mixes (espeak-ng's native rate)."""
RECOGNIZER_RATE = 16000
"""Samples per second of the microphone stream and of every recogniser's input."""
MIC_BLOCK_SECONDS = 0.05
"""Microphone read size: small, so a command's end reaches the recogniser quickly
(smaller blocks cost more per second of audio in the recogniser and the canceller)."""
PCM16_SCALE = 32768.0
"""Full scale of 16-bit PCM: float 1.0 is this many steps."""


def seconds_to_samples(seconds: float) -> int:
    """Nearest playback sample index for a time on the plan clock."""
    return int(round(seconds * PLAYBACK_RATE))


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples to little-endian 16-bit PCM, rounded and clipped.

    The exact inverse of :func:`from_int16` on its outputs, so a clip that goes through
    a WAV file and back comes out bit-identical.
    """
    return np.clip(np.round(np.asarray(samples) * PCM16_SCALE), -32768, 32767).astype("<i2")


def from_int16(samples: np.ndarray) -> np.ndarray:
    """16-bit PCM to float32 in [-1, 1]."""
    return np.asarray(samples).astype(np.float32) / np.float32(PCM16_SCALE)


def as_mono_float(samples: np.ndarray) -> np.ndarray:
    """Any mono or (frames, channels) buffer, int16 or float, as mono float32."""
    data = np.asarray(samples)
    if data.dtype.kind in "iu":
        data = from_int16(np.clip(data, -32768, 32767))
    if data.ndim == 2:
        data = data.mean(axis=1)
    return data.astype(np.float32, copy=False)


def _antialias(samples: np.ndarray, ratio: float) -> np.ndarray:
    """Low-pass below the new Nyquist before decimating by ``ratio`` (> 1): a windowed
    sinc, so music and hiss above it do not fold down into the speech band."""
    half = int(math.ceil(8 * ratio))
    n = np.arange(-half, half + 1)
    cutoff = 0.95 / ratio  # of the source Nyquist
    taps = cutoff * np.sinc(cutoff * n) * np.hamming(n.size)
    return np.convolve(samples, (taps / taps.sum()).astype(np.float32), mode="same")


def resample(samples: np.ndarray, source: int, target: int, offset: float = 0.0,
             count: int | None = None) -> np.ndarray:
    """``samples`` from ``source`` to ``target`` Hz: linear interpolation, low-passed
    first when the rate goes down. ``offset`` (source samples, fractional) is where the
    output starts and ``count`` how many samples it has (default: all that fit), so a
    span can be read at a sub-sample position (the echo check aligns by it)."""
    x = np.asarray(samples, dtype=np.float32)
    if count is None:
        if source == target and offset == 0.0:
            return np.ascontiguousarray(x)
        count = int(round((x.size - offset) * target / source))
    if x.size == 0 or count <= 0:
        return np.zeros(max(count, 0), dtype=np.float32)
    if target < source:
        x = _antialias(x, source / target)
    positions = offset + np.arange(count) * (source / target)
    return np.interp(positions, np.arange(x.size), x).astype(np.float32)


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

    @property
    def capacity(self) -> int:
        """Samples the ring holds when full."""
        return self._buffer.size

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
        return raw if rate == self.rate else resample(raw, self.rate, rate)

    def read(self, start: float, end: float, rate: int | None = None) -> np.ndarray:
        """The audio of stream times [start, end], resampled to ``rate`` if given."""
        first = self.sample_at(start)
        count = int(math.ceil((end - start) * self.rate)) + 2
        base = int(math.floor(first))
        raw = self.read_samples(base, count + 1)
        return resample(raw, self.rate, rate or self.rate, first - base,
                        int(round((end - start) * (rate or self.rate))))


def find_ffmpeg() -> str:
    """The ffmpeg program (the one pydub is configured to run), or a
    MissingDependencyError that says how to install it."""
    from pydub import AudioSegment

    found = shutil.which(AudioSegment.converter)
    if found is None:
        raise MissingDependencyError(
            f"ffmpeg not found (looked for {AudioSegment.converter!r} on PATH); "
            "install the Debian package ffmpeg: sudo apt-get install ffmpeg")
    return found


def read_recording(path: Path, rate: int = RECOGNIZER_RATE) -> np.ndarray:
    """A recording as mono float32 at ``rate``, whatever its format, rate or channels.

    Plain wav files are read with the stdlib; everything else (and wav encodings the
    stdlib can't read) goes through ffmpeg. Errors name the file.
    """
    if not path.is_file():
        raise InputError(f"{path}: file not found" if not path.exists()
                         else f"{path}: not a file")
    try:
        samples, source = _read_pcm_wav(path)
    except (wave.Error, EOFError, ValueError):
        return _read_with_ffmpeg(path, rate)
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None
    return resample(samples, source, rate)


def _read_pcm_wav(path: Path) -> tuple[np.ndarray, int]:
    """PCM wav (8/16/24/32-bit, any channels) -> mono float32 and its rate."""
    with wave.open(str(path), "rb") as handle:
        width, channels = handle.getsampwidth(), handle.getnchannels()
        rate, raw = handle.getframerate(), handle.readframes(handle.getnframes())
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        data = from_int16(np.frombuffer(raw, "<i2"))
    elif width == 3:
        bytes3 = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        value = bytes3[:, 0] | (bytes3[:, 1] << 8) | (bytes3[:, 2] << 16)
        data = (np.where(value >= 1 << 23, value - (1 << 24), value) / float(1 << 23)
                ).astype(np.float32)
    elif width == 4:
        data = np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    else:
        raise wave.Error(f"unsupported sample width {width}")
    if channels > 1:
        data = data[: data.size - data.size % channels].reshape(-1, channels).mean(axis=1)
    return data.astype(np.float32), rate


def _read_with_ffmpeg(path: Path, rate: int) -> np.ndarray:
    """Decode any audio ffmpeg understands to mono float32 at ``rate``."""
    try:
        program = find_ffmpeg()
    except MissingDependencyError:
        raise InputError(f"{path}: not a PCM wav file, and ffmpeg (needed to read it) is "
                         "not installed: sudo apt-get install ffmpeg") from None
    result = subprocess.run(
        [program, "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
         "-ar", str(rate), "-"], capture_output=True)
    if result.returncode != 0:
        reason = (result.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
        raise InputError(f"{path}: not a readable audio file ({reason})")
    return from_int16(np.frombuffer(result.stdout, "<i2"))


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit mono WAV as float32 samples and its sample rate."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise wave.Error(f"{path} is not 16-bit mono")
        data = wav.readframes(wav.getnframes())
        return from_int16(np.frombuffer(data, dtype="<i2")), wav.getframerate()


def write_wav_atomic(path: Path, samples: np.ndarray) -> None:
    """Write a 16-bit mono WAV at PLAYBACK_RATE via a temp file and os.replace."""
    recorder = WavRecorder(path, PLAYBACK_RATE)
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
