"""Offline spoken-command recognition: 16 kHz audio chunks -> :class:`CommandHeard` events.

Both engines decode with a grammar restricted to the command phrases plus "filler"
words (the vocabulary's ``filler`` list, and Vosk's ``[unk]`` where the model has it):
speech that is not a command has somewhere else to go, so it is not forced onto the
nearest command. Every word the engine hits carries stream times and a confidence; the
shared base class turns words into commands, applies the confidence threshold and drops
duplicates. Whether a command is the coach's own voice is not decided here: the session
cancels the coach's playback from the microphone before the recogniser hears it, and
judges every command heard against what was played (voicecoach.echo).

Latency: where the engine's partial hypotheses are reliable (Vosk), a command fires from
a *stable* partial (the same command word, ended at least ``settle`` seconds before the
newest audio, seen in two consecutive partials) instead of waiting for the engine's
end-of-utterance silence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.commands import CommandVocabulary, load_vocabulary
from voicecoach.errors import InputError, MissingDependencyError

SAMPLE_RATE = 16000
"""Rate of the audio every recogniser accepts (mono)."""

ENGINES = ("auto", "hybrid", "spotter", "vosk", "pocketsphinx")
ENGINE_HELP = ("recogniser (default auto: Vosk when --model or VOICECOACH_VOSK_MODEL names "
               "a model, else the command spotter backed by a grammar engine and Whisper "
               "(hybrid) for English, the spotter alone for Korean, else an installed Vosk "
               "model, else PocketSphinx for English)")


REPEAT_SECONDS = 1.0
"""The same command heard again within this many seconds is one command said twice."""
LATE_SECONDS = 2.0
"""A live recogniser drops a command it would report this long after the command's end:
by then the session may have moved on, and a late "next" would skip the step after the
one meant. PocketSphinx, whose endpointer seldom closes an utterance under continuous
music, reported some 2.6-10.6 s late; in speech, within a second (0.35 s at p90)."""


@dataclass(frozen=True)
class CommandHeard:
    """One command heard: canonical name, the words said, where in the stream, how sure,
    and which engine heard it (inside the hybrid: the spotter or the grammar engine)."""

    command: str
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


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Mono int16 PCM from int16 or float (in [-1, 1]) samples; 2-D input is averaged."""
    data = np.asarray(samples)
    if data.ndim == 2:
        data = data.mean(axis=1) if data.dtype.kind == "f" else data.mean(axis=1).astype(np.int16)
    if data.dtype == np.int16:
        return data
    if data.dtype.kind in "iu":
        return np.clip(data, -32768, 32767).astype(np.int16)
    return (np.clip(data, -1.0, 1.0) * 32767.0).astype(np.int16)


def add_dither(pcm: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """16-bit ``pcm`` plus Gaussian noise of ``level`` steps (none at 0)."""
    if not level:
        return pcm
    noise = rng.normal(0.0, level, pcm.size)
    return np.clip(pcm + noise, -32768, 32767).astype(np.int16)


class CommandRecognizer(ABC):
    """Streaming command recogniser: feed chunks with :meth:`accept`, end with :meth:`flush`.

    Subclasses implement the engine: :meth:`_feed` (new PCM -> newly *final* words and
    the current partial words) and :meth:`_finish` (end of stream -> final words).
    """

    engine = "base"

    def __init__(self, vocabulary: CommandVocabulary, tuning: Tuning | None = None,
                 live: bool = True) -> None:
        self.vocabulary = vocabulary
        self.tuning = tuning or Tuning()
        self.live = live
        self._samples = 0
        self._emitted: list[CommandHeard] = []
        self._candidates: dict[tuple[str, int], int] = {}
        self._rng = np.random.default_rng(0)

    # -- public API -----------------------------------------------------------------
    @property
    def position(self) -> float:
        """Seconds of audio accepted since creation or the last :meth:`reset`."""
        return self._samples / SAMPLE_RATE

    def accept(self, samples: np.ndarray) -> list[CommandHeard]:
        """Decode a chunk of 16 kHz mono audio; returns the commands it completed."""
        pcm = self._dither(to_pcm16(samples))
        self._samples += pcm.size
        final, partial = self._feed(pcm.tobytes())
        # Only a chunk that ended an utterance clears the partial candidates: clearing on
        # every chunk meant no command ever "settled" in two partials in a row.
        events = self._commands(final, final=bool(final))
        if self.live and self.tuning.settle is not None:
            events += self._stable(partial)
        return events

    def calibrate(self, samples: np.ndarray) -> None:
        """Adapt to a whole recording before decoding it (file mode); default: nothing."""

    def _dither(self, pcm: np.ndarray) -> np.ndarray:
        """Add faint noise: digital silence (exact zeros, common in synthetic or gated
        recordings) derails both engines' features and Vosk's endpointer."""
        return add_dither(pcm, self.tuning.dither, self._rng)

    def flush(self) -> list[CommandHeard]:
        """End of the stream: commands still pending in the engine."""
        events = self._commands(self._finish(), final=True)
        self._candidates.clear()
        return events

    def reset(self) -> None:
        """Forget all audio and state; the stream clock restarts at zero."""
        self._restart()
        self._samples = 0
        self._rng = np.random.default_rng(0)
        self._emitted.clear()
        self._candidates.clear()

    # -- engine hooks -----------------------------------------------------------------
    @abstractmethod
    def _feed(self, pcm: bytes) -> tuple[list[Word], list[Word]]:
        """Decode PCM; (words of utterances that just ended, words of the partial one)."""

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
            return False
        return heard.confidence >= self.tuning.threshold \
            and heard.end - heard.start >= self.tuning.min_span


def resolve_engine(language: str, engine: str = "auto", model: Path | None = None) -> str:
    """The engine ``engine`` means for ``language``: itself, or what ``auto`` picks.

    ``auto`` picks Vosk when a model was named (``model`` or the environment). Else, where
    the command spotter has a model: for English the hybrid (the spotter answers first,
    PocketSphinx or an installed Vosk model catches what it misses, Whisper gives a second
    opinion where it is installed: on natural-sounding
    voices the spotter alone misses a quarter of the commands), for Korean the spotter
    alone (it meets the accuracy targets). Else Vosk when a model is found (an installed
    vosk-model-* package, Vosk's cache), else PocketSphinx for English, else a
    MissingDependencyError saying what to install.
    """
    import os

    from voicecoach.models import ENV_VAR, has_vosk_model, install_hint
    from voicecoach.spotter import has_spotter_model

    if engine not in ENGINES:
        raise InputError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine != "auto":
        return engine
    if model is not None or os.environ.get(ENV_VAR):
        return "vosk"
    if has_spotter_model(language):
        return "hybrid" if language == "en" else "spotter"
    if has_vosk_model(language):
        return "vosk"
    if language == "en":
        return "pocketsphinx"
    raise MissingDependencyError(install_hint(language))


def create_recognizer(language: str, engine: str = "auto", model: Path | None = None,
                      *, tuning: Tuning | None = None, live: bool = True) -> CommandRecognizer:
    """A recogniser for ``language`` with the engine :func:`resolve_engine` picks;
    ``tuning`` replaces the engine's own (the hybrid's: its grammar engine's)."""
    vocabulary = load_vocabulary(language)  # first: an unknown language is an InputError
    engine = resolve_engine(language, engine, model)
    if engine == "spotter":
        from voicecoach.spotter import create_spotter

        return create_spotter(language, vocabulary, tuning=tuning, live=live)
    if engine == "hybrid":
        from voicecoach.hybrid import create_hybrid

        thorough = _grammar_recognizer(language, vocabulary, None, model, tuning, live)
        return create_hybrid(language, vocabulary, thorough, live)
    return _grammar_recognizer(language, vocabulary, engine, model, tuning, live)


def _grammar_recognizer(language: str, vocabulary: CommandVocabulary, engine: str | None,
                        model: Path | None, tuning: Tuning | None, live: bool
                        ) -> CommandRecognizer:
    """Vosk or PocketSphinx; ``engine`` None: Vosk when it has a model for the language
    without a download, else PocketSphinx."""
    from voicecoach.models import find_vosk_model, has_vosk_model

    if engine == "vosk" or (engine is None and (model is not None
                                                or has_vosk_model(language))):
        from voicecoach.vosk_recognizer import VOSK_TUNING, VoskRecognizer

        path = find_vosk_model(language, model, download=engine == "vosk")
        return VoskRecognizer(vocabulary, path, tuning=tuning or VOSK_TUNING, live=live)
    if language != "en" and engine is None:
        raise InputError(f"--engine hybrid: no Vosk model for {language!r} to back the "
                         f"spotter (PocketSphinx has only English); install one or use "
                         f"--engine spotter")
    if language != "en":
        raise InputError(f"--engine pocketsphinx: only English is available offline, "
                         f"not {language!r}; use --engine vosk")
    from voicecoach.sphinx_recognizer import SPHINX_TUNING, PocketSphinxRecognizer

    return PocketSphinxRecognizer(vocabulary, tuning=tuning or SPHINX_TUNING, live=live)


def recognize_samples(recognizer: CommandRecognizer, samples: np.ndarray,
                      chunk_seconds: float = 0.5) -> list[CommandHeard]:
    """Every command in a whole 16 kHz recording, fed in chunks then flushed."""
    recognizer.reset()
    recognizer.calibrate(samples)
    step = int(chunk_seconds * SAMPLE_RATE)
    heard: list[CommandHeard] = []
    for start in range(0, len(samples), step):
        heard += recognizer.accept(samples[start:start + step])
    heard += recognizer.flush()
    return heard

