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
"""

from __future__ import annotations

import numpy as np

from voicecoach.commands import CommandVocabulary
from voicecoach.recognizer import CommandHeard, CommandRecognizer, Tuning, Word
from voicecoach.spotter import SPOTTER_TUNING, SpotterRecognizer, create_spotter

HYBRID_SPOTTER_TUNING = Tuning(threshold=0.7, settle=None, dither=SPOTTER_TUNING.dither)
CORROBORATION = 0.02
"""A grammar engine's report stands only if the spotter gave its command at least this
probability in some frame since the report's start. Under continuous music at 6-12 dB
below the voice PocketSphinx reported a kick drum as "done" every 10-20 s; the spotter's
"done" stayed at or below 0.003 there. Every command of the benchmark, the held-out Piper
voice's too, got at least 0.09 from it, fired or not."""
SAME_UTTERANCE_SECONDS = 0.3
"""Reports whose spans come this close are one utterance (the spotter's span is an
estimate: the 0.6 s before it fired)."""


class HybridRecognizer(CommandRecognizer):
    """``fast`` (the spotter) and ``thorough`` (a grammar engine) on the same audio; each
    utterance is reported once, by whichever heard it first."""

    engine = "hybrid"

    def __init__(self, fast: SpotterRecognizer, thorough: CommandRecognizer) -> None:
        super().__init__(fast.vocabulary, fast.tuning, fast.live)
        self.fast, self.thorough = fast, thorough

    @property
    def fallback_engine(self) -> str:
        """The engine of the reports the spotter let pass: the session's echo check holds
        them to a stricter line (:data:`voicecoach.echo.FALLBACK_ECHO_THRESHOLD_DB`)."""
        return self.thorough.engine

    @property
    def position(self) -> float:
        return self.fast.position

    def accept(self, samples: np.ndarray) -> list[CommandHeard]:
        fast = self.fast.accept(samples)  # first: its frames of this chunk corroborate
        return self._first_reports(fast + self._corroborated(self.thorough.accept(samples)))

    def calibrate(self, samples: np.ndarray) -> None:
        self.fast.calibrate(samples)
        self.thorough.calibrate(samples)

    def flush(self) -> list[CommandHeard]:
        fast = self.fast.flush()
        return self._first_reports(fast + self._corroborated(self.thorough.flush()))

    def _corroborated(self, reports: list[CommandHeard]) -> list[CommandHeard]:
        return [heard for heard in reports
                if self.fast.peak(heard.command, heard.start) >= CORROBORATION]

    def _first_reports(self, reports: list[CommandHeard]) -> list[CommandHeard]:
        fresh = []
        for heard in sorted(reports, key=lambda report: report.end):
            if any(heard.start < earlier.end + SAME_UTTERANCE_SECONDS
                   and heard.end > earlier.start - SAME_UTTERANCE_SECONDS
                   for earlier in self._emitted[-8:]):
                continue
            self._emitted.append(heard)
            fresh.append(heard)
        return fresh

    def _restart(self) -> None:
        self.fast.reset()
        self.thorough.reset()

    def _feed(self, pcm: bytes) -> tuple[list[Word], list[Word]]:
        raise NotImplementedError("HybridRecognizer.accept feeds its two recognisers")

    def _finish(self) -> list[Word]:
        raise NotImplementedError("HybridRecognizer.flush flushes its two recognisers")


def create_hybrid(language: str, vocabulary: CommandVocabulary, thorough: CommandRecognizer,
                  live: bool = True) -> HybridRecognizer:
    """The language's spotter, at the hybrid's threshold, in front of ``thorough``."""
    fast = create_spotter(language, vocabulary, tuning=HYBRID_SPOTTER_TUNING, live=live)
    return HybridRecognizer(fast, thorough)
