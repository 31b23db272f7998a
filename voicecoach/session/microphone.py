"""The microphone worker: input stream -> echo canceller -> recogniser -> judged commands."""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from voicecoach.audio import MIC_BLOCK_SECONDS, RECOGNIZER_RATE, AudioRing, WavRecorder
from voicecoach.recognition.base import CommandHeard, Recognizer
from voicecoach.recognition.echo import (
    ECHO_THRESHOLD_DB,
    FALLBACK_ECHO_THRESHOLD_DB,
    EchoCanceller,
    EchoGuard,
)
from voicecoach.session.messages import Heard
from voicecoach.session.trace import trace, trace_log

log = logging.getLogger(__name__)

MIC_RING_SECONDS = 10.0
"""Microphone audio kept for the echo check (commands are reported within seconds)."""


def echo_line(recognizer: Recognizer, heard: Heard) -> float:
    """The echo check's line for ``heard``: stricter for a report of the hybrid's second
    engine, which the spotter had let pass
    (:data:`~voicecoach.recognition.echo.FALLBACK_ECHO_THRESHOLD_DB`)."""
    if heard.engine and heard.engine in recognizer.fallback_engines:
        return FALLBACK_ECHO_THRESHOLD_DB
    return ECHO_THRESHOLD_DB


@dataclass(frozen=True)
class _Unjudged:
    """A command waiting for its echo check: as heard, as the recogniser reported it,
    and the recogniser-to-microphone-ring sample offset."""

    heard: Heard
    result: CommandHeard
    offset: int


class Listener:
    """Microphone -> recogniser -> ``on_heard``, in one worker thread.

    The input stream is read with blocking reads in the worker (never in a callback),
    so recognition keeps pace with what it is given and nothing piles up. ``on_lost``
    is called once if the microphone goes away mid-session.

    With ``played`` (the player's :attr:`~voicecoach.playback.live.LivePlayer.played` ring) and
    ``clock`` (its stream clock), the last seconds of microphone audio are kept on the
    same clock; the recogniser hears the microphone with the playback cancelled
    (:class:`~voicecoach.recognition.echo.EchoCanceller`: a user speaking over the coach is heard),
    and every command is checked against what was played on the raw microphone
    signal: one explained by the coach's own playback comes with ``rejected="echo"``. That
    check is the only place that tells the coach's voice from the user's: the recogniser
    is not told what the coach is saying, so a user's "pause" over a phrase that names
    "pause" (barge-in) is judged on the audio alone.
    """

    def __init__(self, recognizer: Recognizer, on_heard: Callable[[Heard], None],
                 on_lost: Callable[[], None], *, device: str | int | None = None,
                 played: AudioRing | None = None, clock: Callable[[], float] | None = None,
                 record: WavRecorder | None = None):
        """``record``: where to save what the recogniser hears (the caller closes it)."""
        import sounddevice as sd

        self.recognizer = recognizer
        self.on_heard, self.on_lost = on_heard, on_lost
        self.clock = clock
        self.record = record
        self.mic = AudioRing(RECOGNIZER_RATE, MIC_RING_SECONDS)
        # The recogniser hears the microphone with the coach's playback taken out; the
        # echo check also reads what the canceller left (in step with the mic ring).
        self.cleaned = AudioRing(RECOGNIZER_RATE, MIC_RING_SECONDS)
        self.echo: EchoGuard | None = None
        self.canceller: EchoCanceller | None = None
        if played is not None and clock is not None:
            self.echo = EchoGuard(played, self.mic, cleaned=self.cleaned)
            self.canceller = EchoCanceller(played, self.mic)
        # Commands wait here for their echo check, which runs in its own thread so the
        # microphone keeps its pace (a wide check takes tens of milliseconds).
        self._to_judge: queue.SimpleQueue[_Unjudged | None] = queue.SimpleQueue()
        self._judge_thread: threading.Thread | None = None
        self.level_db: float = -120.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream = sd.InputStream(samplerate=RECOGNIZER_RATE, channels=1, dtype="float32",
                                      device=device, blocksize=0, latency="low")

    def start(self) -> None:
        self._stream.start()
        self._thread = threading.Thread(target=self._run, name="voicecoach-mic", daemon=True)
        self._thread.start()
        if self.echo is not None:
            self._judge_thread = threading.Thread(target=self._judge, name="voicecoach-echo",
                                                  daemon=True)
            self._judge_thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._judge_thread is not None:
            self._to_judge.put(None)
            self._judge_thread.join(timeout=2)
        try:
            self._stream.close(ignore_errors=True)
        except Exception:
            pass

    def _run(self) -> None:
        import sounddevice as sd

        block = int(MIC_BLOCK_SECONDS * RECOGNIZER_RATE)
        # Recogniser time t is mic ring sample t * RECOGNIZER_RATE + offset.
        offset = -int(round(self.recognizer.position * RECOGNIZER_RATE))
        anchor: tuple[float, int] | None = None  # (capture time, samples read) of a block
        read = 0
        while not self._stop.is_set():
            try:
                data, overflowed = self._stream.read(block)
            except (sd.PortAudioError, RuntimeError) as error:
                if not self._stop.is_set():
                    log.warning("microphone lost: %s", error)
                    self.on_lost()
                return
            samples = data[:, 0]
            rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0
            self.level_db = 20 * math.log10(max(rms, 1e-6))
            read += samples.size
            fed_until = None
            if self.clock is not None:
                # Capture times count samples from an anchor on the stream clock: audio
                # queued upstream (a reader that fell behind) is older than the clock
                # says when read. The anchor is set again when input was lost.
                now = self.clock()
                if anchor is None or overflowed:
                    anchor = (now - self._stream.read_available / RECOGNIZER_RATE, read)
                captured = min(anchor[0] + (read - anchor[1]) / RECOGNIZER_RATE,
                               now - self._stream.read_available / RECOGNIZER_RATE)
                self.mic.write(samples, captured - samples.size / RECOGNIZER_RATE)
                fed_until = captured + time.monotonic() - now
            if self.canceller is not None:
                raw = samples
                samples = self.canceller.clean(samples)
                self.cleaned.write(samples, captured - samples.size / RECOGNIZER_RATE)
                if samples is not raw and trace_log.isEnabledFor(logging.DEBUG):
                    trace("aec", raw=float(np.dot(raw, raw)), left=float(np.dot(samples, samples)))
            if self.record is not None:
                self.record.write(samples)
            for result in self.recognizer.accept(samples):
                heard = self._heard(result, fed_until, offset)
                if self.echo is not None:
                    self._to_judge.put(_Unjudged(heard, result, offset))
                else:
                    self.on_heard(heard)

    def _heard(self, result: CommandHeard, fed_until: float | None, offset: int) -> Heard:
        """The recogniser's command as a :class:`Heard` (not judged yet)."""
        said_end = None
        if fed_until is not None and self.clock is not None:
            to_monotonic = time.monotonic() - self.clock()
            said_end = self.mic.time_at(result.end * RECOGNIZER_RATE + offset) + to_monotonic
        return Heard(command=result.command, text=result.text, source="voice",
                     confidence=result.confidence, engine=result.engine, said_end=said_end,
                     fed_until=fed_until, emitted_at=time.monotonic())

    def _judge(self) -> None:
        """Echo-check worker: commands in, :class:`Heard` out, in the order heard."""
        while (item := self._to_judge.get()) is not None:
            self.on_heard(self._judged(item))

    def _judged(self, item: _Unjudged) -> Heard:
        """The command, echo-checked: ``rejected="echo"`` when the playback explains it."""
        heard, result = item.heard, item.result
        assert self.echo is not None  # only queued with an echo check
        rejected, echo_db = "", None
        try:
            verdict = self.echo.check(result.start, result.end, item.offset,
                                      echo_line(self.recognizer, heard))
        except Exception as error:
            log.warning("echo check failed: %s", error)
        else:
            echo_db = verdict.residual_db
            rejected = "echo" if verdict.echo else ""
            log.info("echo check %s: %.1f dB at lag %.3f s", heard.command,
                     verdict.residual_db, verdict.lag)
        return replace(heard, rejected=rejected, echo_db=echo_db, judged_at=time.monotonic())
