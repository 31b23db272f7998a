"""PocketSphinx command recognition: the zero-download English engine."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach.audio import RECOGNIZER_RATE, as_mono_float, to_int16
from voicecoach.commands import CommandVocabulary, words_of
from voicecoach.errors import InputError
from voicecoach.recognition.base import CommandRecognizer, Tuning, Word
from voicecoach.recognition.denoise import NoiseSuppressor
from voicecoach.recognition.highpass import HighPass

HIGHPASS_HZ = 250.0
"""Input high-pass cutoff: takes out the bass and kick of music that decoded as "done",
leaving speech as it was (tuned in benchmarks/README.md, "English, PocketSphinx")."""

SPHINX_TUNING = Tuning(threshold=0.0, settle=None, min_span=0.15)
"""PocketSphinx's partial hypotheses change their mind too often to act on, so it acts
on final results only (``settle=None``). Under continuous music it decodes a kick drum
as a short "done", shorter than any command it hears right: hence ``min_span``.
(Tuned in benchmarks/README.md, "English, PocketSphinx" and "Continuous music and the
corroboration".)"""
ENDPOINTER_WINDOW = 0.2
"""Seconds of mostly non-speech that end an utterance (PocketSphinx's Endpointer; its
``ratio`` 0.6): commands come from final results, so this is most of the reaction time."""
DITHER = 60.0 / 32768.0
"""Faint noise added after the filters: digital silence (exact zeros, common in synthetic or
gated recordings) skews PocketSphinx's cepstral mean."""


class PocketSphinxRecognizer(CommandRecognizer):
    """PocketSphinx 5 JSGF decoding: a loop over command phrases and filler words.

    Speech/silence segmentation uses PocketSphinx's own Endpointer, so the decoder sees
    one utterance per stretch of speech.
    """

    engine = "pocketsphinx"
    closes_utterances = True

    def __init__(self, vocabulary: CommandVocabulary, tuning: Tuning | None = None,
                 live: bool = True, hmm: Path | None = None, dictionary: Path | None = None,
                 garbage: bool = True) -> None:
        """``garbage=False`` leaves out the filler and noise words (a grammar that can only
        say commands, measured by benchmarks/commands.py to show what they buy)."""
        super().__init__(vocabulary, tuning, live)
        import pocketsphinx

        self._ps = pocketsphinx
        config = pocketsphinx.Config(loglevel="FATAL")
        if hmm is not None:
            config["hmm"] = str(hmm)
        if dictionary is not None:
            config["dict"] = str(dictionary)
        config["lm"] = None
        # No built-in dither: its random state is not this decoder's own, and the same
        # recording came out a frame apart from one run to the next. _front_end dithers
        # instead, from this recogniser's own seeded generator.
        config["dither"] = False
        # The lattice best-path pass costs seconds on a long utterance and holds the GIL,
        # starving the live player's audio callback; a command grammar gains nothing from it.
        config["bestpath"] = False
        self.decoder = pocketsphinx.Decoder(config)
        missing = [w for w in vocabulary.words() if self.decoder.lookup_word(w) is None]
        if missing:
            raise InputError(f"{vocabulary.source}: word(s) {', '.join(missing)} are not in "
                             "the PocketSphinx dictionary; use other aliases")
        filler = [w for phrase in vocabulary.filler for w in words_of(phrase)
                  if garbage and self.decoder.lookup_word(w) is not None]
        noise = NOISE_WORDS if garbage else {}
        for word, phone in noise.items():
            self.decoder.add_word(word, phone, False)
        self.decoder.add_jsgf_string("commands", jsgf_grammar(vocabulary.phrases(), filler,
                                                              list(noise)))
        self.decoder.activate_search("commands")
        self._endpointer = self._new_endpointer()
        self._frame_bytes = self._endpointer.frame_bytes
        self._pending = b""
        self._in_utterance = False
        self._utt_start = 0.0
        self._ended: list[tuple[float, float]] = []
        self._frame_rate = float(self.decoder.config["frate"])
        self._initial_cmn = self.decoder.get_cmn()
        self._highpass = HighPass(HIGHPASS_HZ, RECOGNIZER_RATE)
        self._denoise = NoiseSuppressor(RECOGNIZER_RATE)
        self._lag_samples = self._highpass.delay + self._denoise.delay
        self._lag = self._lag_samples / RECOGNIZER_RATE
        self._noise = np.random.default_rng(0)

    def _new_endpointer(self) -> Any:
        return self._ps.Endpointer(window=ENDPOINTER_WINDOW, ratio=0.6)

    def _words(self) -> list[Word]:
        words = []
        for seg in self.decoder.seg() or []:
            text = seg.word.split("(")[0]
            if text.startswith("<") or text.startswith("[") or text in NOISE_WORDS:
                continue
            try:
                confidence = float(self.decoder.logmath.exp(seg.prob))
            except Exception:
                confidence = 1.0
            start = self._utt_start - self._lag
            words.append(Word(text, start + seg.start_frame / self._frame_rate,
                              start + (seg.end_frame + 1) / self._frame_rate,
                              min(1.0, confidence)))
        return words

    def _front_end(self, samples: np.ndarray) -> bytes:
        """What the decoder hears: noise suppressed, high-passed, then dithered."""
        filtered = self._highpass(self._denoise(samples))
        return to_int16(filtered + self._noise.normal(0.0, DITHER, filtered.size)).tobytes()

    def _feed(self, samples: np.ndarray) -> tuple[list[Word], list[Word]]:
        final = self._frames(self._front_end(samples))
        wanted = self.live and self.tuning.settle is not None
        partial = self._words() if self._in_utterance and wanted else []
        return final, partial

    def _frames(self, pcm: bytes) -> list[Word]:
        """Run whole endpointer frames of filtered PCM; final words of ended utterances."""
        self._pending += pcm
        final: list[Word] = []
        while len(self._pending) >= self._frame_bytes:
            frame, self._pending = (self._pending[:self._frame_bytes],
                                    self._pending[self._frame_bytes:])
            final += self._step(self._endpointer.process(frame))
        return final

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
        start = self._utt_start - self._lag
        self._ended.append((start, start + self.decoder.n_frames() / self._frame_rate))
        return self._words()

    def take_utterances(self) -> list[tuple[float, float]]:
        """Stream spans (start, end in seconds) of the utterances the endpointer closed
        since the last call, commands or not: the hybrid's second opinion hears these."""
        ended, self._ended = self._ended, []
        return ended

    def _finish(self) -> list[Word]:
        # The filters still hold the last few milliseconds of input: push them through.
        words = self._frames(self._front_end(np.zeros(self._lag_samples)))
        tail = self._endpointer.end_stream(self._pending) if self._pending else None
        self._pending = b""
        if tail:  # None, or b"" when the stream ended exactly on a frame
            if not self._in_utterance:
                self._utt_start = self._endpointer.speech_start
                self.decoder.start_utt()
                self._in_utterance = True
            self.decoder.process_raw(tail, False, False)
        if self._in_utterance:
            words += self._end_utterance()
        self._endpointer = self._new_endpointer()
        return words

    def calibrate(self, samples: np.ndarray) -> None:
        """Batch cepstral mean normalisation: decode the recording twice, discarding the
        results, so the running cepstral mean is the mean of this recording's speech (the
        model's default mean fits synthetic and far-field speech poorly, and a mean left
        over from an earlier recording would make results depend on file order)."""
        self.decoder.set_cmn(self._initial_cmn)
        step = RECOGNIZER_RATE // 2
        live, self.live = self.live, False
        try:
            for _ in range(2):
                self._restart()
                self._rng = np.random.default_rng(0)
                for start in range(0, len(samples), step):
                    self._feed(self._dither(as_mono_float(samples[start:start + step])))
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
        self._ended.clear()
        self._endpointer = self._new_endpointer()
        self._highpass.reset()
        self._denoise.reset()
        self._noise = np.random.default_rng(0)


NOISE_WORDS = {"noise_": "+NSN+", "speech_": "+SPN+", "silence_": "SIL"}
"""Grammar words made of the acoustic model's noise units. Every stretch the endpointer
passes on must decode to at least one grammar word: without these, background music or
noise alone became a command ("done" on a music bed). (Measured in benchmarks/README.md,
"English, PocketSphinx".)"""


def jsgf_grammar(phrases: Sequence[str], filler: Sequence[str],
                 noise: Sequence[str] = ()) -> str:
    """A JSGF grammar: any sequence of command phrases, filler and noise words.

    (PocketSphinx 5 ignores JSGF alternative weights, so commands can't be favoured here.)
    """
    commands = list(dict.fromkeys(" ".join(words_of(p)) for p in phrases))
    body = " | ".join(commands + sorted(set(filler) - set(commands)) + list(noise))
    return f"#JSGF V1.0;\ngrammar commands;\npublic <any> = ( {body} )+ ;\n"
