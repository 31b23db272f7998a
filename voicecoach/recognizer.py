"""Offline spoken-command recognition: 16 kHz audio chunks -> :class:`CommandHeard` events.

Both engines decode with a grammar restricted to the command phrases plus "filler"
words (the vocabulary's ``filler`` list, and Vosk's ``[unk]`` where the model has it):
speech that is not a command has somewhere else to go, so it is not forced onto the
nearest command. Every word the engine hits carries stream times and a confidence; the
shared base class turns words into commands, applies the confidence threshold, drops
duplicates, and rejects self-triggers (the coach hearing its own voice).

Latency: a command fires from a *stable* partial hypothesis (the same command word,
ended at least ``settle`` seconds before the newest audio, seen in two consecutive
partials) instead of waiting for the engine's end-of-utterance silence.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.commands import CommandVocabulary, load_vocabulary, words_of
from voicecoach.errors import InputError, MissingDependencyError

SAMPLE_RATE = 16000
"""Rate of the audio every recogniser accepts (mono)."""

ENGINES = ("auto", "vosk", "pocketsphinx")


REPEAT_SECONDS = 1.0
"""The same command heard again within this many seconds is one command said twice."""


@dataclass(frozen=True)
class CommandHeard:
    """One command heard: canonical name, the words said, where in the stream, how sure."""

    command: str
    text: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Word:
    """One word the engine hit, with stream times (seconds) and a confidence in [0, 1]."""

    text: str
    start: float
    end: float
    confidence: float


@dataclass
class _Playback:
    """One stretch of the coach speaking, on the input stream clock."""

    start: float
    end: float | None
    words: frozenset[str]


@dataclass(frozen=True)
class Tuning:
    """Decision thresholds of a recogniser (benchmarks tune these)."""

    threshold: float = 0.5
    """Minimum word confidence of a command."""
    playback_threshold: float = 0.85
    """Minimum confidence while the coach is speaking."""
    settle: float = 0.12
    """Seconds a command word must lie behind the newest audio before a partial fires."""
    dither: float = 0.0
    """Standard deviation (int16 steps) of the noise added to the input; 0: none."""


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
        self._playback: list[_Playback] = []
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
        events = self._commands(final, final=True)
        if self.live:
            events += self._stable(partial)
        return events

    def calibrate(self, samples: np.ndarray) -> None:
        """Adapt to a whole recording before decoding it (file mode); default: nothing."""

    def _dither(self, pcm: np.ndarray) -> np.ndarray:
        """Add faint noise: digital silence (exact zeros, common in synthetic or gated
        recordings) derails both engines' features and Vosk's endpointer."""
        if not self.tuning.dither:
            return pcm
        noise = self._rng.normal(0.0, self.tuning.dither, pcm.size)
        return np.clip(pcm + noise, -32768, 32767).astype(np.int16)

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
        self._playback.clear()

    def set_playback(self, active: bool, texts: Sequence[str] = ()) -> None:
        """Tell the recogniser whether the coach is speaking now, and what it is saying.

        Commands heard while the coach speaks need ``playback_threshold`` confidence,
        and are rejected outright when their words are part of what is being said
        (the coach hearing its own "next set" is not the user saying "next").
        Intervals are kept on the input clock, so late results are judged correctly.
        """
        now = self.position
        if self._playback and self._playback[-1].end is None:
            self._playback[-1].end = now
        if active:
            spoken = frozenset(w for text in texts for w in words_of(text))
            self._playback.append(_Playback(now, None, spoken))
        # Intervals far in the past can no longer matter.
        self._playback = [p for p in self._playback if p.end is None or p.end > now - 30]

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
                                 confidence=round(min(w.confidence for w in said), 3))
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
            if said[-1].end > self.position - self.tuning.settle:
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
        threshold = self.tuning.threshold
        for playing in self._playback:
            if playing.start < heard.end and (playing.end is None or playing.end > heard.start):
                if set(words_of(heard.text)) <= playing.words:
                    return False
                threshold = max(threshold, self.tuning.playback_threshold)
        return heard.confidence >= threshold


class VoskRecognizer(CommandRecognizer):
    """Vosk (Kaldi) decoding with a grammar of command phrases + filler + ``[unk]``."""

    engine = "vosk"

    def __init__(self, vocabulary: CommandVocabulary, model_path: Path,
                 tuning: Tuning | None = None, live: bool = True, unk: bool = True,
                 filler: bool = True, model: object | None = None) -> None:
        super().__init__(vocabulary, tuning, live)
        import vosk

        from voicecoach.models import quiet_vosk

        quiet_vosk()
        if model is None:
            from voicecoach.models import low_latency_model

            model = load_vosk_model(low_latency_model(model_path) if live else model_path)
        self.model = model
        grammar = vocabulary.phrases() + (list(vocabulary.filler) if filler else [])
        if unk:
            grammar.append("[unk]")
        self.grammar = json.dumps(grammar, ensure_ascii=False)
        self._vosk = vosk
        self._recognizer = self._new_recognizer()
        self._offset = 0.0

    def _new_recognizer(self) -> object:
        recognizer = self._vosk.KaldiRecognizer(self.model, SAMPLE_RATE, self.grammar)
        recognizer.SetWords(True)
        recognizer.SetPartialWords(True)
        return recognizer

    def _words(self, items: list[dict]) -> list[Word]:
        return [Word(item["word"], self._offset + float(item["start"]),
                     self._offset + float(item["end"]), float(item.get("conf", 1.0)))
                for item in items if item.get("word") not in (None, "[unk]")]

    def _feed(self, pcm: bytes) -> tuple[list[Word], list[Word]]:
        if self._recognizer.AcceptWaveform(pcm):
            return self._words(json.loads(self._recognizer.Result()).get("result", [])), []
        if not self.live:
            return [], []
        partial = json.loads(self._recognizer.PartialResult()).get("partial_result", [])
        return [], self._words(partial)

    def _finish(self) -> list[Word]:
        words = self._words(json.loads(self._recognizer.FinalResult()).get("result", []))
        return words

    def _restart(self) -> None:
        self._recognizer = self._new_recognizer()


_VOSK_MODELS: dict[Path, object] = {}


def load_vosk_model(path: Path) -> object:
    """A loaded ``vosk.Model`` (cached per folder: loading takes seconds)."""
    import vosk

    from voicecoach.models import quiet_vosk

    key = Path(path).resolve()
    if key not in _VOSK_MODELS:
        quiet_vosk()
        try:
            _VOSK_MODELS[key] = vosk.Model(str(key))
        except Exception as error:  # vosk raises a bare Exception on a bad folder
            raise InputError(f"{path}: Vosk could not load this model ({error})") from None
    return _VOSK_MODELS[key]


class PocketSphinxRecognizer(CommandRecognizer):
    """PocketSphinx 5 JSGF decoding: a loop over command phrases and filler words.

    Speech/silence segmentation uses PocketSphinx's own Endpointer, so the decoder sees
    one utterance per stretch of speech.
    """

    engine = "pocketsphinx"

    def __init__(self, vocabulary: CommandVocabulary, tuning: Tuning | None = None,
                 live: bool = True, hmm: Path | None = None, dictionary: Path | None = None
                 ) -> None:
        super().__init__(vocabulary, tuning, live)
        import pocketsphinx

        self._ps = pocketsphinx
        config = pocketsphinx.Config(loglevel="FATAL")
        if hmm is not None:
            config["hmm"] = str(hmm)
        if dictionary is not None:
            config["dict"] = str(dictionary)
        config["lm"] = None
        config["dither"] = True  # digital silence otherwise skews the cepstral mean
        config["seed"] = 1  # dither from a fixed seed: the same audio decodes the same way
        # The lattice best-path pass costs seconds on a long utterance and holds the GIL,
        # starving the live player's audio callback; a command grammar gains nothing from it.
        config["bestpath"] = False
        self.decoder = pocketsphinx.Decoder(config)
        missing = [w for w in vocabulary.words() if self.decoder.lookup_word(w) is None]
        if missing:
            raise InputError(f"{vocabulary.source}: word(s) {', '.join(missing)} are not in "
                             "the PocketSphinx dictionary; use other aliases")
        filler = [w for phrase in vocabulary.filler for w in words_of(phrase)
                  if self.decoder.lookup_word(w) is not None]
        for word, phone in NOISE_WORDS.items():
            self.decoder.add_word(word, phone, False)
        self.decoder.add_jsgf_string("commands", jsgf_grammar(vocabulary.phrases(), filler,
                                                              list(NOISE_WORDS)))
        self.decoder.activate_search("commands")
        self._endpointer = pocketsphinx.Endpointer(window=0.3, ratio=0.6)
        self._frame_bytes = self._endpointer.frame_bytes
        self._pending = b""
        self._in_utterance = False
        self._utt_start = 0.0
        self._consumed = 0
        self._frame_rate = float(self.decoder.config["frate"])
        self._initial_cmn = self.decoder.get_cmn()

    def _words(self) -> list[Word]:
        words = []
        for seg in self.decoder.seg() or []:
            text = seg.word.split("(")[0]
            if text.startswith("<") or text.startswith("[") or text in NOISE_WORDS:
                continue
            try:
                confidence = float(self.decoder.logmath.exp(seg.prob))
            except Exception:  # noqa: BLE001 - older bindings: no posterior available
                confidence = 1.0
            words.append(Word(text, self._utt_start + seg.start_frame / self._frame_rate,
                              self._utt_start + (seg.end_frame + 1) / self._frame_rate,
                              min(1.0, confidence)))
        return words

    def _feed(self, pcm: bytes) -> tuple[list[Word], list[Word]]:
        self._pending += pcm
        final: list[Word] = []
        partial: list[Word] = []
        while len(self._pending) >= self._frame_bytes:
            frame, self._pending = (self._pending[:self._frame_bytes],
                                    self._pending[self._frame_bytes:])
            self._consumed += len(frame) // 2
            speech = self._endpointer.process(frame)
            final += self._step(speech)
        if self._in_utterance and self.live:
            partial = self._words()
        return final, partial

    def _step(self, speech: bytes | None) -> list[Word]:
        """Advance the decoder by one endpointer frame; final words when speech ended."""
        if not speech:
            return []
        if not self._in_utterance:
            self._utt_start = self._endpointer.speech_start
            self.decoder.start_utt()
            self._in_utterance = True
        self.decoder.process_raw(speech, False, False)
        if not self._endpointer.in_speech:
            return self._end_utterance()
        return []

    def _end_utterance(self) -> list[Word]:
        self.decoder.end_utt()
        self._in_utterance = False
        return self._words()

    def _finish(self) -> list[Word]:
        tail = self._endpointer.end_stream(self._pending) if self._pending else None
        self._pending = b""
        words: list[Word] = []
        if tail:  # None, or b"" when the stream ended exactly on a frame
            if not self._in_utterance:
                self._utt_start = self._endpointer.speech_start
                self.decoder.start_utt()
                self._in_utterance = True
            self.decoder.process_raw(tail, False, False)
        if self._in_utterance:
            words = self._end_utterance()
        self._endpointer = self._ps.Endpointer(window=0.3, ratio=0.6)
        return words

    def calibrate(self, samples: np.ndarray) -> None:
        """Batch cepstral mean normalisation: decode the recording twice, discarding the
        results, so the running cepstral mean is the mean of this recording's speech (the
        model's default mean fits synthetic and far-field speech poorly, and a mean left
        over from an earlier recording would make results depend on file order)."""
        self.decoder.set_cmn(self._initial_cmn)
        step = SAMPLE_RATE // 2
        live, self.live = self.live, False
        try:
            for _ in range(2):
                self._restart()
                self._rng = np.random.default_rng(0)
                for start in range(0, len(samples), step):
                    self._feed(self._dither(to_pcm16(samples[start:start + step])).tobytes())
                self._finish()
        finally:
            self.live = live
            self._restart()
            self._rng = np.random.default_rng(0)

    def _restart(self) -> None:
        if self._in_utterance:
            self.decoder.end_utt()
            self._in_utterance = False

        self._pending = b""
        self._endpointer = self._ps.Endpointer(window=0.3, ratio=0.6)


NOISE_WORDS = {"noise_": "+NSN+", "speech_": "+SPN+", "silence_": "SIL"}
"""Grammar words made of the acoustic model's noise units. Every stretch the endpointer
passes on must decode to at least one grammar word: without these, background music or
noise alone became a command ("done" on a music bed); measured: music 12 dB commands
45 -> 60 %, non-commands 50 -> 70 %."""


def jsgf_grammar(phrases: Sequence[str], filler: Sequence[str],
                 noise: Sequence[str] = ()) -> str:
    """A JSGF grammar: any sequence of command phrases, filler and noise words.

    (PocketSphinx 5 ignores JSGF alternative weights, so commands can't be favoured here.)
    """
    commands = list(dict.fromkeys(" ".join(words_of(p)) for p in phrases))
    body = " | ".join(commands + sorted(set(filler) - set(commands)) + list(noise))
    return f"#JSGF V1.0;\ngrammar commands;\npublic <any> = ( {body} )+ ;\n"


def create_recognizer(language: str, engine: str = "auto", model: Path | None = None,
                      *, tuning: Tuning | None = None, live: bool = True) -> CommandRecognizer:
    """A recogniser for ``language``.

    ``auto`` picks Vosk when a Vosk model for the language is found (``model``, the
    environment, an installed vosk-model-* package, Vosk's cache), else PocketSphinx
    for English, else a MissingDependencyError saying which model to install.
    """
    from voicecoach.models import find_vosk_model, has_vosk_model, install_hint

    if engine not in ENGINES:
        raise InputError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    vocabulary = load_vocabulary(language)
    if engine == "auto":
        if model is not None or has_vosk_model(language):
            engine = "vosk"
        elif language == "en":
            engine = "pocketsphinx"
        else:
            raise MissingDependencyError(install_hint(language))
    if engine == "vosk":
        path = find_vosk_model(language, model, download=True)
        return VoskRecognizer(vocabulary, path, tuning=tuning or VOSK_TUNING, live=live)
    if language != "en":
        raise InputError(f"--engine pocketsphinx: only English is available offline, "
                         f"not {language!r}; use --engine vosk")
    return PocketSphinxRecognizer(vocabulary, tuning=tuning or SPHINX_TUNING, live=live)


VOSK_TUNING = Tuning(threshold=0.5, playback_threshold=0.85, settle=0.12)
SPHINX_TUNING = Tuning(threshold=0.0, playback_threshold=0.5, settle=0.15, dither=100.0)


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

