"""Two recognisers on one stream: the command spotter answers first, a grammar engine
catches what it misses.

The spotter (trained on synthetic voices) reacts within a tenth of a second but misses
commands in voices unlike its training speech; PocketSphinx and Vosk (acoustic models
trained on recordings of people) hear natural voices better but answer only after the
utterance. Both hear every chunk. The first to report an utterance decides it; what the
other reports for the same utterance (time spans overlapping, give or take
:data:`SAME_UTTERANCE_SECONDS`) is dropped, even when it names another command.
The spotter runs at a higher threshold here than alone (:data:`HYBRID_SPOTTER_TUNING`):
its doubtful hits are left to the grammar engine, which rarely agrees with a false one.
The grammar engine's reports need a little of the spotter's belief too
(:data:`CORROBORATION`): under continuous music PocketSphinx hears "done" in a kick drum.

A third engine may give a second opinion (:mod:`voicecoach.recognition.whisper`, Whisper): when
PocketSphinx closes an utterance that the spotter did not report but gave some command at
least :data:`CORROBORATION`, Whisper transcribes it; a command it writes down stands
under the same corroboration. With Whisper there, PocketSphinx's own reports never stand:
it only says where utterances end, and Whisper decides each one the spotter let pass.
PocketSphinx's grammar forces short replies onto the nearest command ("Great stuff!" as
stop), which Whisper writes down as they were said. Whisper answers well after the
utterance (benchmarks/README.md, "English hybrid"), so live it runs in its own thread and
the other two keep listening.

With a wake word (``run --wake``) the spotter, which knows single command words, reports a
command only where the grammar engine heard the wake word just before it (whatever it made
of the command); the grammar engine's (and Whisper's) own reports must hold the wake word
too ("coach next").
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from voicecoach.audio import RECOGNIZER_RATE, as_mono_float
from voicecoach.commands import Command, CommandVocabulary
from voicecoach.extras import install_hint
from voicecoach.recognition.base import (
    LATE_SECONDS,
    CommandHeard,
    CommandRecognizer,
    Tuning,
)
from voicecoach.recognition.spotter import SPOTTER_TUNING, SpotterRecognizer, create_spotter
from voicecoach.recognition.whisper import Transcript, WhisperTranscriber

logger = logging.getLogger(__name__)

HYBRID_SPOTTER_TUNING = Tuning(threshold=0.7, settle=None, dither=SPOTTER_TUNING.dither)
CORROBORATION = 0.02
"""A grammar engine's report stands only if the spotter gave its command at least this
probability in some frame since the report's start. Under continuous music PocketSphinx
reports a kick drum as "done", which the spotter all but rules out, while every real
command gets far more than this from it, fired or not. (Tuned in benchmarks/README.md,
"English hybrid", "Continuous music and the corroboration".)"""
CONFIRMATION = 0.2
"""With a wake word, a grammar engine's report ("coach next") stands only if the spotter
believed its command at least this much: the spotter decides the command where the
grammar engine may only have made out the wake word. (Tuned in benchmarks/README.md,
"English hybrid", "Voices outside the benchmark".)"""
SECOND_OPINION_FLOOR = 0.5
"""The second opinion's transcripts less sure than this (mean token probability) are no
command. Prompted with the command words, Whisper writes "Pause." at ~0.4 over music
with no one speaking, and over short replies it did not make out; the commands it heard
right came at 0.6-0.98 (benchmarks/README.md, False alarms)."""
SAME_UTTERANCE_SECONDS = 0.3
"""Reports whose spans come this close are one utterance (the spotter's span is an
estimate: the 0.6 s before it fired)."""
LONGEST_ASKED_SECONDS = 5.0
"""Longer utterances get no second opinion: commands are short, and a transcript has no
word times, so a command in a long stretch of speech would be placed late and loosely."""
WAKE_REACH_SECONDS = (1.5, 0.15)
"""With a wake word, a spotter's command stands when the grammar engine heard the wake
word end between this long before the command's end and this long before it."""
WAKE_WAIT_SECONDS = 0.8
"""How long a spotter's command waits for the grammar engine to decode the wake word
before it (PocketSphinx reports words only when the utterance ends)."""
CONTEXT_SECONDS = 0.2
"""Audio either side of the utterance that the second opinion hears (the endpointer's
edges can clip a soft first or last sound)."""


class HybridRecognizer:
    """``fast`` (the spotter) and ``thorough`` (a grammar engine) on the same audio; each
    utterance is reported once, by whichever heard it first."""

    engine = "hybrid"

    def __init__(self, fast: SpotterRecognizer, thorough: CommandRecognizer,
                 second: WhisperTranscriber | None = None, *, threaded: bool | None = None
                 ) -> None:
        """``second``: the second opinion on utterances the other two let pass; it needs
        a ``thorough`` engine that says where utterances end (PocketSphinx). When the
        vocabulary needs a wake word the spotter only corroborates."""
        self.vocabulary, self.live = fast.vocabulary, fast.live
        self.fast_reports = fast.vocabulary.wake is None
        self.threaded = fast.live if threaded is None else threaded
        """Whether the second opinion runs in its own thread (a live stream keeps its
        pace) or inline (a recording replayed: the same answers on every run)."""
        self.fast, self.thorough, self.second = fast, thorough, second
        self._emitted: list[CommandHeard] = []
        self._heard = np.zeros(0, np.float32)  # the latest input, for the second opinion
        self._asked: list[tuple[float, float, Future[tuple[Command, Transcript] | None]]] = []
        self._worker: ThreadPoolExecutor | None = None
        self._unwoken: list[CommandHeard] = []  # spotter reports waiting for the wake word

    @property
    def fallback_engines(self) -> frozenset[str]:
        """The engines of the reports the spotter let pass: the session's echo check holds
        them to a stricter line (:data:`voicecoach.recognition.echo.FALLBACK_ECHO_THRESHOLD_DB`)."""
        second = {self.second.engine} if self.second is not None else set()
        return frozenset({self.thorough.engine} | second)

    @property
    def position(self) -> float:
        return self.fast.position

    def accept(self, samples: np.ndarray) -> list[CommandHeard]:
        self._remember(samples)
        fast = self.fast.accept(samples)  # first: its frames of this chunk corroborate
        thorough = self._confirmed(self.thorough.accept(samples))
        heard = self._first_reports(self._woken(fast) + thorough)
        self._ask()
        return heard + self._first_reports(self._corroborated(self._answers(wait=False)))

    def calibrate(self, samples: np.ndarray) -> None:
        self.fast.calibrate(samples)
        self.thorough.calibrate(samples)

    def flush(self) -> list[CommandHeard]:
        fast = self.fast.flush()
        thorough = self._confirmed(self.thorough.flush())
        heard = self._first_reports(self._woken(fast, final=True) + thorough)
        self._ask()
        return heard + self._first_reports(self._corroborated(self._answers(wait=True)))

    def _woken(self, reports: list[CommandHeard], final: bool = False) -> list[CommandHeard]:
        """The spotter's reports that stand: all of them, or with a wake word those the
        grammar engine heard it before (the others wait a little, then are dropped)."""
        if self.fast_reports:
            return reports
        reach, gap = WAKE_REACH_SECONDS
        woken, waiting = [], []
        for heard in self._unwoken + reports:
            if self.thorough.heard_wake(heard.end - reach, heard.end - gap):
                woken.append(heard)
            elif not final and self.fast.position - heard.end < WAKE_WAIT_SECONDS:
                waiting.append(heard)
            else:
                logger.info("ignored %s at %.2f s: no wake word before it", heard.command,
                            heard.end)
        self._unwoken = waiting
        return woken

    # -- the second opinion -----------------------------------------------------------
    def _remember(self, samples: np.ndarray) -> None:
        if self.second is None:
            return
        keep = int((LONGEST_ASKED_SECONDS + 2 * CONTEXT_SECONDS + 1.0) * RECOGNIZER_RATE)
        chunk = as_mono_float(samples)
        self._heard = np.concatenate((self._heard, chunk))[-keep:]

    def _ask(self) -> None:
        """Put the utterances nobody reported, but the spotter half-heard, to Whisper."""
        if self.second is None:
            return
        for start, end in self.thorough.take_utterances():
            if end - start > LONGEST_ASKED_SECONDS or self._reported(start, end):
                continue
            if max(self.fast.peak(name, start) for name in self.vocabulary.commands) \
                    < CORROBORATION:
                continue
            newest = self.fast.position
            first = int((start - CONTEXT_SECONDS - newest) * RECOGNIZER_RATE)
            last = min(int((end + CONTEXT_SECONDS - newest) * RECOGNIZER_RATE), 0)
            audio = self._heard[max(first, -self._heard.size):last or None].copy()
            if self.threaded:
                if self._worker is None:
                    self._worker = ThreadPoolExecutor(1, thread_name_prefix="voicecoach-whisper")
                answer = self._worker.submit(self.second.command_in, audio)
            else:
                answer = Future()
                answer.set_result(self.second.command_in(audio))
            self._asked.append((start, end, answer))

    def _answers(self, wait: bool) -> list[CommandHeard]:
        """The second opinion's commands that are ready (all of them when ``wait``)."""
        reports, pending = [], []
        for start, end, answer in self._asked:
            if not (wait or answer.done()):
                pending.append((start, end, answer))
                continue
            found = answer.result()
            if found is None or (self.live and self.fast.position - end > LATE_SECONDS):
                continue
            command, transcript = found
            if transcript.confidence < SECOND_OPINION_FLOOR:
                logger.info("ignored %s (%r): the second opinion was unsure (%.2f)",
                            command, transcript.text, transcript.confidence)
                continue
            reports.append(CommandHeard(command=command, text=transcript.text,
                                        start=round(start, 3), end=round(end, 3),
                                        confidence=round(transcript.confidence, 3),
                                        engine=self.second.engine if self.second else ""))
        self._asked = pending
        return reports

    def _reported(self, start: float, end: float) -> bool:
        return any(start < earlier.end + SAME_UTTERANCE_SECONDS
                   and end > earlier.start - SAME_UTTERANCE_SECONDS
                   for earlier in self._emitted[-8:])

    def _confirmed(self, reports: list[CommandHeard]) -> list[CommandHeard]:
        """The grammar engine's reports that stand on their own. With the second opinion
        there, none but those of a wake word: their utterances are left unreported, so
        :meth:`_ask` puts them to it (benchmarks/README.md, False alarms: PocketSphinx's
        reports on short replies were half the false commands)."""
        if self.fast_reports:
            return [] if self.second is not None else self._corroborated(reports)
        return self._corroborated(reports, CONFIRMATION)

    def _corroborated(self, reports: list[CommandHeard],
                      level: float = CORROBORATION) -> list[CommandHeard]:
        return [heard for heard in reports if self.fast.peak(heard.command, heard.start) >= level]

    def _first_reports(self, reports: list[CommandHeard]) -> list[CommandHeard]:
        fresh = []
        for heard in sorted(reports, key=lambda report: report.end):
            if self._reported(heard.start, heard.end):
                continue
            self._emitted.append(heard)
            fresh.append(heard)
        return fresh

    def reset(self) -> None:
        """Forget all audio and state, in every engine; the stream clock restarts."""
        self._emitted.clear()
        self._unwoken.clear()
        self.fast.reset()
        self.thorough.reset()
        self._heard = np.zeros(0, np.float32)
        for _, _, answer in self._asked:
            answer.cancel()
        self._asked = []


def create_hybrid(language: str, vocabulary: CommandVocabulary, thorough: CommandRecognizer,
                  live: bool = True, threaded: bool | None = None) -> HybridRecognizer:
    """The language's spotter, at the hybrid's threshold, in front of ``thorough``; for
    English behind PocketSphinx, with Whisper's second opinion where its model is
    installed."""
    from voicecoach.recognition.whisper import find_whisper_model

    fast = create_spotter(language, vocabulary, tuning=HYBRID_SPOTTER_TUNING, live=live)
    # Whisper hears the utterances the grammar engine closes: PocketSphinx says where
    # they end, Vosk does not, so with Vosk the model is not even loaded.
    asks = language == "en" and thorough.closes_utterances
    model = find_whisper_model() if asks else None
    if asks and model is None:
        logger.warning("Whisper is not installed: the English hybrid runs without its "
                       "second opinion (%s)", install_hint("whisper"))
    second = WhisperTranscriber(vocabulary, model) if model is not None else None
    return HybridRecognizer(fast, thorough, second, threaded=threaded)
