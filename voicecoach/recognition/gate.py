"""A command is obeyed only when it is said as its own short utterance.

Words that name commands come up in ordinary speech all the time ("keep your ribs
down, well done", "next week", "is the weight okay?"), and a recogniser that hears the
word cannot tell. Where the word sits in the speech around it can: a user giving a
command says it on its own, or after a word or two ("okay, next"), and then stops.
:class:`UtteranceGate` wraps any recogniser, finds the utterance each report sits in
with a voice-activity detector, and passes the report on only if

* little speech comes before it in the same utterance (``lead``), and
* the utterance ends soon after it (``tail``), with a silence of ``settle`` seconds.

Reports wait until that silence has been heard (or the utterance has gone on too long),
so the same code decides live and on recordings. The thresholds and what they cost in
reaction time are measured in benchmarks/README.md (False alarms).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

import numpy as np

from voicecoach.audio import as_mono_float
from voicecoach.commands import CommandVocabulary
from voicecoach.recognition.base import CommandHeard, Recognizer
from voicecoach.recognition.vad import FRAME_SECONDS, SpeechDetector

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateTuning:
    """Where an utterance begins and ends, and how much of it a command may share."""

    speech: float = 0.5
    """A frame is speech when the detector's probability reaches this."""
    pause: float = 0.3
    """Silence (seconds) that separates two utterances."""
    lead: float = 1.5
    """Speech (seconds) allowed before the command's end in its utterance ("okay, next")."""
    tail: float = 0.9
    """Speech (seconds) allowed after the command's end in its utterance ("next please")."""
    settle: float = 0.2
    """Silence (seconds) after the utterance before the command is passed on."""
    quiet_db: float = 25.0
    """After the command, a frame this far below the utterance's loudest is silence
    already (the level falls as a word ends; the speech probability lags)."""


ENDS_EARLY_SECONDS = 0.1
"""How long before its reported end a command's word may have ended (the spotter fires a
frame or two after the word)."""


class Verdict(Enum):
    """What the gate makes of a report, so far."""

    PASS = "pass"
    WAIT = "wait"
    INSIDE_SPEECH = "inside speech"
    """Too much speech before the command in the same utterance."""
    SPEECH_GOES_ON = "speech goes on"
    """The utterance went on after the command."""


class UtteranceGate:
    """``inner`` with every report held back until its utterance shows it was a
    command said on its own (see the module doc); implements ``Recognizer``."""

    def __init__(self, inner: Recognizer, detector: SpeechDetector | None = None,
                 tuning: GateTuning | None = None) -> None:
        self.inner = inner
        self.detector = detector or SpeechDetector()
        self.tuning = tuning or GateTuning()
        self._pending: list[CommandHeard] = []

    @property
    def engine(self) -> str:
        return self.inner.engine

    @property
    def vocabulary(self) -> CommandVocabulary:
        return self.inner.vocabulary

    @property
    def live(self) -> bool:
        return self.inner.live

    @property
    def position(self) -> float:
        return self.inner.position

    @property
    def fallback_engines(self) -> frozenset[str]:
        return self.inner.fallback_engines

    def accept(self, samples: np.ndarray) -> list[CommandHeard]:
        audio = as_mono_float(samples)
        self.detector.push(audio)
        self._pending += self.inner.accept(audio)
        return self._decide(end_of_stream=False)

    def calibrate(self, samples: np.ndarray) -> None:
        self.inner.calibrate(samples)

    def flush(self) -> list[CommandHeard]:
        self._pending += self.inner.flush()
        return self._decide(end_of_stream=True)

    def reset(self) -> None:
        self.inner.reset()
        self.detector.reset()
        self._pending.clear()

    # -- deciding -----------------------------------------------------------------
    def _decide(self, end_of_stream: bool) -> list[CommandHeard]:
        passed, waiting = [], []
        for heard in self._pending:
            verdict = self.verdict(heard, end_of_stream)
            if verdict is Verdict.PASS:
                passed.append(heard)
            elif verdict is Verdict.WAIT:
                waiting.append(heard)
            else:
                logger.info("ignored %s (%r, %s) at %.2f s: %s", heard.command, heard.text,
                            heard.engine, heard.end, verdict.value)
        self._pending = waiting
        return passed

    def verdict(self, heard: CommandHeard, end_of_stream: bool = False) -> Verdict:
        """Whether ``heard`` stands alone, given the speech heard so far."""
        tuning = self.tuning
        # Before: the utterance must have begun at most ``lead`` seconds before the end.
        before = self._speech(heard.end - tuning.lead - tuning.pause, heard.end)
        if _speech_run_before(before, _frames(tuning.pause)) > tuning.lead:
            return Verdict.INSIDE_SPEECH
        # After: a silence of ``settle`` must follow within ``tail`` of the end. It may
        # begin a little before the reported end (an engine reports a word after it ended).
        settle, back = _frames(tuning.settle), _frames(ENDS_EARLY_SECONDS)
        span = (heard.end - back * FRAME_SECONDS, heard.end + tuning.tail + tuning.settle)
        levels = self.detector.levels(*span)
        loudest = float(self.detector.levels(heard.end - tuning.lead, span[1]).max())
        after = self._speech(*span) & (levels > loudest - tuning.quiet_db)
        quiet = 0
        for index, speaking in enumerate(after):
            quiet = 0 if speaking else quiet + 1
            if quiet >= settle and index >= back:
                return Verdict.PASS
            if speaking and index >= back + _frames(tuning.tail):
                return Verdict.SPEECH_GOES_ON
        decided = self.detector.decided_until >= heard.end + tuning.tail + tuning.settle
        if end_of_stream or decided:
            return Verdict.PASS if not after.size or not after[-1] else Verdict.SPEECH_GOES_ON
        return Verdict.WAIT

    def _speech(self, start: float, end: float) -> np.ndarray:
        """Speech (True) or not, per decided frame of [start, end)."""
        return self.detector.probabilities(max(start, 0.0), end) >= self.tuning.speech


def _frames(seconds: float) -> int:
    return max(1, int(round(seconds / FRAME_SECONDS)))


def _speech_run_before(speech: np.ndarray, pause: int) -> float:
    """Seconds from the end of ``speech`` back to the last silence of ``pause`` frames
    (the start of the utterance it ends in); all of it if there is none."""
    quiet = 0
    for back, speaking in enumerate(speech[::-1]):
        quiet = 0 if speaking else quiet + 1
        if quiet >= pause:
            return (back + 1 - quiet) * FRAME_SECONDS
    return speech.size * FRAME_SECONDS
