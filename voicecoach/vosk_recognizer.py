"""Vosk (Kaldi) command recognition: a grammar of command phrases, filler words and ``[unk]``."""

from __future__ import annotations

import json
from pathlib import Path

from voicecoach.commands import CommandVocabulary
from voicecoach.errors import InputError
from voicecoach.recognizer import SAMPLE_RATE, CommandRecognizer, Tuning, Word

VOSK_TUNING = Tuning(threshold=0.5, playback_threshold=0.85, settle=0.12)


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
