"""Vosk (Kaldi) command recognition: a grammar of command phrases, filler words and ``[unk]``.

Live (streaming) decoding is one pass with partial results, so a command fires soon
after it is said. Whole recordings (``live=False``, ``voicecoach listen --file``) are
decoded several times at slightly different speeds (the speed perturbation Kaldi models
are trained with) and a command counts only where most of those decodes agree: the
Korean model's wrong words come with confidence 1.0, but they are unstable, flipping
with a 5 % change of speed, while a command that was really said survives it. That
costs one decode per speed, and the recording is kept in memory until :meth:`flush`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach.audio import RECOGNIZER_RATE, from_int16, resample, to_int16
from voicecoach.commands import Command, CommandVocabulary
from voicecoach.errors import InputError
from voicecoach.recognition.base import CommandHeard, CommandRecognizer, Tuning, Word

VOSK_TUNING = Tuning(threshold=0.5, settle=0.12)


@dataclass(frozen=True)
class Views:
    """How a whole recording is decoded: once per speed factor, then voted."""

    speeds: tuple[float, ...] = (0.9, 0.95, 1.0, 1.05, 1.1)
    """Playback-speed factors of the decodes (1.0: the recording as it is)."""
    votes: int = 4
    """Decodes that must hear the same command at the same place for it to count."""
    overlap: float = 0.2
    """Seconds two decodes' spans of one command may lie apart and still be one."""


VOSK_VIEWS = Views()
"""Tuned with benchmarks/commands.py on the tuning voices and checked on held-out ones
(benchmarks/README.md, "Korean, Vosk"): 4 of 5 trades a few commands for far fewer false
ones (3 of 5 keeps the commands of a single decode and rejects less; more speeds or gain
changes added nothing)."""


@dataclass
class _Vote:
    """One command heard by some of the decodes of a recording."""

    command: Command
    words: list[Word]
    speeds: set[float]

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end


class VoskRecognizer(CommandRecognizer):
    """Vosk (Kaldi) decoding with a grammar of command phrases + filler + ``[unk]``."""

    engine = "vosk"

    def __init__(self, vocabulary: CommandVocabulary, model_path: Path,
                 tuning: Tuning | None = None, live: bool = True, unk: bool = True,
                 filler: bool = True, model: object | None = None,
                 views: Views = VOSK_VIEWS) -> None:
        super().__init__(vocabulary, tuning, live)
        import vosk

        from voicecoach.recognition.vosk_models import quiet_vosk

        quiet_vosk()
        if model is None:
            from voicecoach.recognition.vosk_models import low_latency_model

            model = load_vosk_model(low_latency_model(model_path) if live else model_path)
        self.model = model
        self.views = views
        grammar = vocabulary.phrases() + (list(vocabulary.filler) if filler else [])
        if unk:
            grammar.append("[unk]")
        self.grammar = json.dumps(grammar, ensure_ascii=False)
        self._vosk = vosk
        self._recognizer = self._new_recognizer()
        self._recording: list[bytes] = []

    def _new_recognizer(self) -> Any:
        recognizer = self._vosk.KaldiRecognizer(self.model, RECOGNIZER_RATE, self.grammar)
        recognizer.SetWords(True)
        recognizer.SetPartialWords(True)
        return recognizer

    @staticmethod
    def _words(items: list[dict], scale: float = 1.0) -> list[Word]:
        return [Word(item["word"], scale * float(item["start"]), scale * float(item["end"]),
                     float(item.get("conf", 1.0)))
                for item in items if item.get("word") not in (None, "[unk]")]

    def _feed(self, samples: np.ndarray) -> tuple[list[Word], list[Word]]:
        pcm = to_int16(samples).tobytes()  # Kaldi takes 16-bit PCM bytes
        if not self.live:  # a whole recording: decoded at the end, see _finish
            self._recording.append(pcm)
            return [], []
        if self._recognizer.AcceptWaveform(pcm):
            return self._words(json.loads(self._recognizer.Result()).get("result", [])), []
        partial = json.loads(self._recognizer.PartialResult()).get("partial_result", [])
        return [], self._words(partial)

    def _finish(self) -> list[Word]:
        if self._recording:
            samples = np.frombuffer(b"".join(self._recording), dtype=np.int16)
            self._recording.clear()
            return self._voted(samples)
        return self._words(json.loads(self._recognizer.FinalResult()).get("result", []))

    def _restart(self) -> None:
        self._recognizer = self._new_recognizer()
        self._recording.clear()

    def _commands(self, words: list[Word], final: bool) -> list[CommandHeard]:
        # The base class passes final=True on every chunk, which clears the partial
        # candidates before _stable can see one twice: only a chunk that ended an
        # utterance is final. (Redundant once recognizer.accept passes bool(final).)
        return super()._commands(words, final=final and bool(words))

    # -- whole recordings ---------------------------------------------------------------
    def _decode(self, samples: np.ndarray, speed: float) -> list[Word]:
        """Every word of ``samples`` played at ``speed``, on the recording's own clock."""
        recognizer = self._new_recognizer()
        pcm = resample_speed(samples, speed).tobytes()
        words: list[Word] = []
        step = 2 * RECOGNIZER_RATE  # bytes: one second per call, as a stream would come
        for start in range(0, len(pcm), step):
            if recognizer.AcceptWaveform(pcm[start:start + step]):
                words += self._words(json.loads(recognizer.Result()).get("result", []), speed)
        return words + self._words(json.loads(recognizer.FinalResult()).get("result", []),
                                   speed)

    def _voted(self, samples: np.ndarray) -> list[Word]:
        """Words of the commands that at least ``views.votes`` decodes heard in place;
        each word's confidence is the share of decodes that heard its command."""
        votes: list[_Vote] = []
        for speed in sorted(self.views.speeds, key=lambda s: abs(s - 1.0)):
            words = self._decode(samples, speed)
            for name, first, last in self.vocabulary.find([w.text for w in words]):
                said = words[first:last]
                vote = next((v for v in votes if v.command == name
                             and said[0].start < v.end + self.views.overlap
                             and said[-1].end > v.start - self.views.overlap), None)
                if vote is None:  # the first (least changed) decode places it
                    votes.append(_Vote(name, said, {speed}))
                else:
                    vote.speeds.add(speed)
        kept: list[_Vote] = []
        for vote in sorted(votes, key=lambda v: -len(v.speeds)):
            clash = any(vote.start < k.end and vote.end > k.start for k in kept)
            if len(vote.speeds) >= self.views.votes and not clash:
                kept.append(vote)
        share = len(self.views.speeds)
        return [Word(w.text, w.start, w.end, round(len(v.speeds) / share, 3))
                for v in sorted(kept, key=lambda v: v.start) for w in v.words]


def resample_speed(samples: np.ndarray, speed: float) -> np.ndarray:
    """int16 ``samples`` played ``speed`` times faster."""
    if speed == 1.0:
        return samples
    sped = resample(from_int16(samples), int(round(speed * RECOGNIZER_RATE)), RECOGNIZER_RATE)
    return to_int16(sped)


_VOSK_MODELS: dict[Path, object] = {}


def load_vosk_model(path: Path) -> object:
    """A loaded ``vosk.Model`` (cached per folder: loading takes seconds)."""
    import vosk

    from voicecoach.recognition.vosk_models import quiet_vosk

    key = Path(path).resolve()
    if key not in _VOSK_MODELS:
        quiet_vosk()
        try:
            _VOSK_MODELS[key] = vosk.Model(str(key))
        except Exception as error:  # vosk raises a bare Exception on a bad folder
            raise InputError(f"{path}: Vosk could not load this model ({error})") from None
    return _VOSK_MODELS[key]
