"""Offline spoken-command recognition: 16 kHz audio chunks -> :class:`CommandHeard` events.

Both engines decode with a grammar restricted to the command phrases plus "filler"
words (the vocabulary's ``filler`` list, and Vosk's ``[unk]`` where the model has it):
speech that is not a command has somewhere else to go, so it is not forced onto the
nearest command. Every word the engine hits carries stream times and a confidence; the
shared base class turns words into commands, applies the confidence threshold and drops
duplicates. Whether a command is the coach's own voice is not decided here: the session
cancels the coach's playback from the microphone before the recogniser hears it, and
judges every command heard against what was played (voicecoach.recognition.echo).

Latency: where the engine's partial hypotheses are reliable (Vosk), a command fires from
a *stable* partial (the same command word, ended at least ``settle`` seconds before the
newest audio, seen in two consecutive partials) instead of waiting for the engine's
end-of-utterance silence.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from voicecoach.audio import PCM16_SCALE, RECOGNIZER_RATE, as_mono_float
from voicecoach.commands import Command, CommandVocabulary, words_of

logger = logging.getLogger(__name__)

REPEAT_SECONDS = 1.0
"""The same command heard again within this many seconds is one command said twice."""
LATE_SECONDS = 2.0
"""A live recogniser drops a command it would report this long after the command's end:
by then the session may have moved on, and a late "next" would skip the step after the
one meant. PocketSphinx, whose endpointer seldom closes an utterance under continuous
music, reported some commands seconds late there, while in speech it reports well within
this (benchmarks/README.md, "English hybrid")."""
SAME_WAKE_SECONDS = 0.15
"""Wake words decoded this close (a partial result, then the final one) are one."""
WAKE_MEMORY_SECONDS = 10.0
"""How long :meth:`CommandRecognizer.heard_wake` remembers a wake word."""


@dataclass(frozen=True)
class CommandHeard:
    """One command heard: canonical name, the words said, where in the stream, how sure,
    and which engine heard it (inside the hybrid: the spotter or the grammar engine)."""

    command: Command
    text: str
    start: float
    end: float
    confidence: float
    engine: str = ""


@dataclass(frozen=True)
class Word:
    """One word the engine hit, with stream times (seconds) and a confidence in [0, 1]."""

    text: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Tuning:
    """Decision thresholds of a recogniser (benchmarks tune these)."""

    threshold: float = 0.5
    """Minimum word confidence of a command."""
    settle: float | None = 0.12
    """Seconds a command word must lie behind the newest audio before a partial fires;
    None: commands come from final results only (an engine whose partials are unreliable)."""
    dither: float = 0.0
    """Standard deviation (int16 steps) of the noise added to the input; 0: none."""
    min_span: float = 0.0
    """Shortest time (seconds) a command's words may take: a shorter one is a thump or a
    click the engine forced into a word, not speech."""


def add_dither(samples: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """``samples`` plus Gaussian noise of ``level`` 16-bit steps (none at 0)."""
    if not level:
        return samples
    noise = rng.normal(0.0, level / PCM16_SCALE, samples.size).astype(np.float32)
    return np.clip(samples + noise, -1.0, 1.0)


class Recognizer(Protocol):
    """What the session, ``listen`` and the benchmarks need of a recogniser: feed 16 kHz
    float32 chunks, get the commands they completed."""

    @property
    def engine(self) -> str:
        """The engine's name, as logged with each command it reports."""

    @property
    def vocabulary(self) -> CommandVocabulary: ...

    @property
    def live(self) -> bool:
        """Streaming decisions (a microphone), not the look at a whole recording."""

    @property
    def position(self) -> float:
        """Seconds of audio accepted since creation or the last :meth:`reset`."""

    @property
    def fallback_engines(self) -> frozenset[str]:
        """Engines whose reports the session's echo check holds to its stricter line."""

    def accept(self, samples: np.ndarray) -> list[CommandHeard]: ...

    def calibrate(self, samples: np.ndarray) -> None: ...

    def flush(self) -> list[CommandHeard]: ...

    def reset(self) -> None: ...


class CommandRecognizer(ABC):
    """Streaming command recogniser: feed chunks with :meth:`accept`, end with :meth:`flush`.

    Subclasses implement the engine: :meth:`_feed` (new PCM -> newly *final* words and
    the current partial words) and :meth:`_finish` (end of stream -> final words).
    """

    engine = "base"
    closes_utterances = False
    """Whether :meth:`take_utterances` says where utterances end (PocketSphinx does)."""

    def __init__(self, vocabulary: CommandVocabulary, tuning: Tuning | None = None,
                 live: bool = True) -> None:
        self.vocabulary = vocabulary
        self.tuning = tuning or Tuning()
        self.live = live
        self._samples = 0
        self._emitted: list[CommandHeard] = []
        self._candidates: dict[tuple[str, int], int] = {}
        self._rng = np.random.default_rng(0)
        self._wake_ends: list[float] = []

    # -- public API -----------------------------------------------------------------
    @property
    def fallback_engines(self) -> frozenset[str]:
        """None: a single engine's reports all meet the same echo line."""
        return frozenset()

    def take_utterances(self) -> list[tuple[float, float]]:
        """(start, end) of the utterances that ended since the last call, for engines
        with an endpointer (:attr:`closes_utterances`); others: none."""
        return []

    @property
    def position(self) -> float:
        """Seconds of audio accepted since creation or the last :meth:`reset`."""
        return self._samples / RECOGNIZER_RATE

    def accept(self, samples: np.ndarray) -> list[CommandHeard]:
        """Decode a chunk of 16 kHz mono audio; returns the commands it completed."""
        audio = self._dither(as_mono_float(samples))
        self._samples += audio.size
        final, partial = self._feed(audio)
        self._note_wake(final + partial)
        # Only a chunk that ended an utterance clears the partial candidates: clearing on
        # every chunk meant no command ever "settled" in two partials in a row.
        events = self._commands(final, final=bool(final))
        if self.live and self.tuning.settle is not None:
            events += self._stable(partial)
        return events

    def calibrate(self, samples: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Adapt to a whole recording before decoding it (file mode); default: nothing."""

    def _dither(self, samples: np.ndarray) -> np.ndarray:
        """Add faint noise: digital silence (exact zeros, common in synthetic or gated
        recordings) derails both engines' features and Vosk's endpointer."""
        return add_dither(samples, self.tuning.dither, self._rng)

    def flush(self) -> list[CommandHeard]:
        """End of the stream: commands still pending in the engine."""
        words = self._finish()
        self._note_wake(words)
        events = self._commands(words, final=True)
        self._candidates.clear()
        return events

    def heard_wake(self, earliest: float, latest: float) -> bool:
        """Whether the vocabulary's wake word ended between ``earliest`` and ``latest``
        (stream seconds) in what this engine decoded, final or partial, whatever it made
        of the words after it."""
        return any(earliest <= end <= latest for end in self._wake_ends)

    def _note_wake(self, words: list[Word]) -> None:
        if self.vocabulary.wake is None:
            return
        wake = words_of(self.vocabulary.wake)
        texts = [w.text for w in words]
        for first in range(len(words) - len(wake) + 1):
            if tuple(texts[first:first + len(wake)]) == wake:
                end = words[first + len(wake) - 1].end
                if not any(abs(end - known) < SAME_WAKE_SECONDS for known in self._wake_ends):
                    self._wake_ends.append(end)
        self._wake_ends = [end for end in self._wake_ends
                           if end > self.position - WAKE_MEMORY_SECONDS]

    def reset(self) -> None:
        """Forget all audio and state; the stream clock restarts at zero."""
        self._restart()
        self._samples = 0
        self._rng = np.random.default_rng(0)
        self._emitted.clear()
        self._candidates.clear()
        self._wake_ends.clear()

    # -- engine hooks -----------------------------------------------------------------
    @abstractmethod
    def _feed(self, samples: np.ndarray) -> tuple[list[Word], list[Word]]:
        """Decode float32 audio; (words of utterances that just ended, words of the partial one)."""

    @abstractmethod
    def _finish(self) -> list[Word]:
        """Final words of the utterance in progress at end of stream."""

    @abstractmethod
    def _restart(self) -> None:
        """Drop the engine's decoding state."""

    # -- shared decision logic ------------------------------------------------------
    def _commands(self, words: list[Word], final: bool) -> list[CommandHeard]:
        events = []
        previous = ("", -1)
        for name, first, last in self.vocabulary.find([w.text for w in words]):
            repeated = previous == (name, first)  # "stop stop" in one breath is one stop
            previous = (name, last)
            if repeated:
                continue
            said = words[first:last]
            heard = CommandHeard(command=name, text=" ".join(w.text for w in said),
                                 start=round(said[0].start, 3), end=round(said[-1].end, 3),
                                 confidence=round(min(w.confidence for w in said), 3),
                                 engine=self.engine)
            if self._accepted(heard):
                self._emitted.append(heard)
                events.append(heard)
        if final:
            self._candidates.clear()
        return events

    def _stable(self, partial: list[Word]) -> list[CommandHeard]:
        """Commands in the partial hypothesis that have settled (see module doc)."""
        ready: list[Word] = []
        seen: dict[tuple[str, int], int] = {}
        for name, first, last in self.vocabulary.find([w.text for w in partial]):
            said = partial[first:last]
            if said[-1].end > self.position - (self.tuning.settle or 0.0):
                continue
            key = (name, int(round(said[0].start * 10)))
            seen[key] = self._candidates.get(key, 0) + 1
            if seen[key] >= 2:
                ready.extend(said)
        self._candidates = seen
        return self._commands(ready, final=False) if ready else []

    def _accepted(self, heard: CommandHeard) -> bool:
        for earlier in self._emitted[-8:]:
            if earlier.command == heard.command and heard.start < earlier.end + REPEAT_SECONDS \
                    and heard.end > earlier.start + 0.05:
                return False  # the same utterance (reported from a partial), or said twice
        if self.live and self.position - heard.end > LATE_SECONDS:
            logger.info("dropped %s: reported %.1f s after it was said", heard.command,
                        self.position - heard.end)
            return False
        return heard.confidence >= self.tuning.threshold \
            and heard.end - heard.start >= self.tuning.min_span


def recognize_samples(recognizer: Recognizer, samples: np.ndarray,
                      chunk_seconds: float = 0.5) -> list[CommandHeard]:
    """Every command in a whole 16 kHz recording, fed in chunks then flushed. A live
    recogniser hears it as it would a microphone (no look at the whole recording first)."""
    recognizer.reset()
    if not recognizer.live:
        recognizer.calibrate(samples)
    step = int(chunk_seconds * RECOGNIZER_RATE)
    heard: list[CommandHeard] = []
    for start in range(0, len(samples), step):
        heard += recognizer.accept(samples[start:start + step])
    heard += recognizer.flush()
    return heard

