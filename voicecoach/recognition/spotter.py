"""Command spotting: a small classifier over a general-purpose speech embedding.

The grammar engines (Vosk, PocketSphinx) must first decode words and then wait for the
end of the utterance; a spotter answers one question every 80 ms, "did a command just
end?", so it reacts within about a tenth of a second. Its front end is frozen and was
trained on real speech by others: openWakeWord's ONNX port of a log-mel front end and of
Google's speech-embedding model (one 96-dim vector per 80 ms of 16 kHz audio), taken from
the ``openwakeword`` 0.5.1 wheel and shipped in ``voicecoach/data/`` (Apache-2.0, see
NOTICE), pinned by sha256. On top of it, per language, a one-hidden-layer network
(``voicecoach/data/spotter-<lang>.npz``, trained by ``scripts/spotter/train.py`` on
synthetic speech) maps the last :data:`WINDOW_FRAMES` embeddings (1.28 s) to "none" or
one of the six commands. A command fires when its probability passes the threshold in
two frames in a row, or at once when one frame is at least :data:`CONFIDENT`; it must
fall below the threshold again before it can fire again.
"""

from __future__ import annotations

import importlib.util
from collections import deque
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from voicecoach.audio import RECOGNIZER_RATE, to_int16
from voicecoach.checksums import verify_files
from voicecoach.commands import Command, CommandVocabulary, words_of
from voicecoach.errors import InputError, MissingDependencyError
from voicecoach.paths import package_data_dir
from voicecoach.recognition.base import CommandRecognizer, Tuning, Word

DATA_DIR = package_data_dir()
FEATURE_DIR = DATA_DIR
FEATURE_MODELS = {
    "melspectrogram.onnx": "ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f",
    "embedding_model.onnx": "70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f",
}
"""openWakeWord 0.5.1's feature models (from its wheel's resources/models), by sha256."""
FEATURE_HINT = "reinstall voicecoach (pip install --force-reinstall voicecoach)"

MEL_HOP = 160
"""Samples per log-mel frame (10 ms)."""
MEL_SPAN = 640
"""Samples one log-mel frame looks at: a new block needs this much minus a hop of the
audio before it."""
EMBEDDING_MELS = 76
"""Log-mel frames one embedding looks at (0.76 s)."""
EMBEDDING_STEP = 8
"""Log-mel frames between embeddings."""
FRAME_SAMPLES = MEL_HOP * EMBEDDING_STEP
"""Audio per embedding: 1280 samples, 80 ms."""
WINDOW_FRAMES = 16
"""Embeddings the classifier sees at once (1.28 s)."""
EMBEDDING_SIZE = 96
CONSECUTIVE = 2
"""Frames in a row above the threshold before a command fires."""
CONFIDENT = 0.9
"""A frame at least this sure (and above the threshold) fires without waiting for the
next, one frame sooner at no cost in accuracy (benchmarks/README.md, "Command latency",
"One sure frame")."""
REFRACTORY_SECONDS = 1.0
"""After a command fires, nothing fires for this long."""
WORD_SECONDS = 0.6
"""Span reported before the first frame that heard a command (command words are about
this long): where ``listen`` says it was, and where the echo check looks."""
SPOTTER_TUNING = Tuning(threshold=0.5, settle=None, dither=2.0)
LANGUAGE_TUNING: dict[str, Tuning] = {"ko": replace(SPOTTER_TUNING, threshold=0.35)}
"""Where a language's spotter, used alone, runs at another threshold. Korean (the
spotter alone is its default) runs lower so commands inside phrases ("자 계속", "좋아 다음")
by voices outside the benchmark are heard, with no non-command heard; the coach's own
phrases that it then hears are left to the echo check. (Tuned in benchmarks/README.md,
"Command spotter", "Korean at threshold 0.35".)"""
MEMORY_SECONDS = 60.0
"""How far back a live spotter keeps its frames' probabilities for :meth:`peak` (a
whole recording keeps them all)."""


def _feature_models() -> tuple[Path, Path]:
    """The two shipped feature models, checked against their pinned sha256."""
    verify_files(FEATURE_DIR, FEATURE_MODELS, FEATURE_HINT)
    return FEATURE_DIR / "melspectrogram.onnx", FEATURE_DIR / "embedding_model.onnx"


class SpeechEmbedder:
    """16 kHz mono audio -> one 96-dim speech embedding per 80 ms (single-threaded ONNX)."""

    def __init__(self) -> None:
        try:
            import onnxruntime
        except ImportError as error:
            raise MissingDependencyError(f"the command spotter needs onnxruntime: "
                                         f"{FEATURE_HINT}") from error
        mel_path, embedding_path = _feature_models()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        self._mel = onnxruntime.InferenceSession(str(mel_path), options, providers=providers)
        self._embedding = onnxruntime.InferenceSession(str(embedding_path), options,
                                                       providers=providers)
        self._mel_input = self._mel.get_inputs()[0].name
        self._embedding_input = self._embedding.get_inputs()[0].name

    def mel(self, samples: np.ndarray) -> np.ndarray:
        """Log-mel frames (n, 32) of float samples in [-1, 1], scaled as the embedding
        model expects."""
        pcm = to_int16(samples).astype(np.float32)  # the mel model takes 16-bit steps
        output = self._mel.run(None, {self._mel_input: pcm[None, :]})[0]
        spectrum = np.asarray(output).reshape(-1, 32)
        return spectrum / 10.0 + 2.0

    def embed_mels(self, windows: np.ndarray) -> np.ndarray:
        """Embeddings (n, 96) of log-mel windows (n, 76, 32)."""
        out = self._embedding.run(None, {self._embedding_input: windows[..., None]})[0]
        return np.asarray(out, dtype=np.float32).reshape(-1, EMBEDDING_SIZE)


@lru_cache(maxsize=1)
def shared_embedder() -> SpeechEmbedder:
    return SpeechEmbedder()


class StreamingFeatures:
    """Embeddings of a stream, one per 80 ms block, computed block by block exactly as the
    live recogniser hears it (training uses it too, so both see the same features).

    Block-wise is not the same as embedding a whole recording at once: the log-mel model
    floors each call 80 dB below that call's loudest frame. The stream starts after a
    silent lead-in, so the windows are full from the first block.
    """

    def __init__(self, embedder: SpeechEmbedder) -> None:
        self.embedder = embedder
        self._tail = np.zeros(MEL_SPAN - MEL_HOP, np.float32)
        silence = np.zeros(MEL_SPAN + (EMBEDDING_MELS - 1) * MEL_HOP, np.float32)
        self._mels = embedder.mel(silence)[-EMBEDDING_MELS:].astype(np.float32)
        self.lead_in = embedder.embed_mels(self._mels[None])[0]
        """The embedding of silence, which the stream is taken to start after."""

    def push(self, block: np.ndarray) -> np.ndarray:
        """The embedding (96,) after one block of FRAME_SAMPLES samples."""
        audio = np.concatenate((self._tail, block))
        self._tail = audio[-self._tail.size:]
        self._mels = np.concatenate((self._mels, self.embedder.mel(audio)))[-EMBEDDING_MELS:]
        return self.embedder.embed_mels(self._mels[None].astype(np.float32))[0]


def embed_stream(samples: np.ndarray, embedder: SpeechEmbedder | None = None) -> np.ndarray:
    """Embeddings (n, 96) of whole blocks of ``samples``, as the live recogniser computes
    them; embedding j has heard ``(j + 1) * FRAME_SAMPLES`` samples."""
    features = StreamingFeatures(embedder or shared_embedder())
    count = samples.size // FRAME_SAMPLES
    out = np.empty((count, EMBEDDING_SIZE), np.float32)
    for j in range(count):
        out[j] = features.push(samples[j * FRAME_SAMPLES:(j + 1) * FRAME_SAMPLES])
    return out


@dataclass(frozen=True)
class SpotterModel:
    """The per-language classifier: standardise, one ReLU layer, softmax over
    ``classes`` ("none" first, then canonical command names)."""

    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    classes: tuple[str, ...]
    frames: int

    @classmethod
    def load(cls, path: Path) -> SpotterModel:
        try:
            with np.load(path) as data:
                arrays = {k: data[k].astype(np.float32)
                          for k in ("mean", "scale", "w1", "b1", "w2", "b2")}
                classes = tuple(str(c) for c in data["classes"])
                frames = int(data["frames"])
        except (OSError, KeyError, ValueError) as error:
            raise InputError(f"{path}: not a spotter model ({error}); retrain it with "
                             f"scripts/spotter/train.py") from error
        if arrays["w1"].shape[0] != frames * EMBEDDING_SIZE or classes[0] != "none" \
                or arrays["w2"].shape[1] != len(classes):
            raise InputError(f"{path}: its layer sizes do not match {frames} frames of "
                             f"{EMBEDDING_SIZE} and {len(classes)} classes")
        return cls(classes=classes, frames=frames, **arrays)

    def probabilities(self, window: np.ndarray) -> np.ndarray:
        """Class probabilities of the embeddings ``window`` (frames, 96), or of a batch
        of windows (n, frames, 96) -> (n, classes)."""
        x = window.reshape(-1, self.frames * EMBEDDING_SIZE)
        hidden = np.maximum((x - self.mean) / self.scale @ self.w1 + self.b1, 0.0)
        logits = hidden @ self.w2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        result = odds / odds.sum(axis=1, keepdims=True)
        return result[0] if window.ndim == 2 else result


def spotter_model_path(language: str) -> Path:
    return DATA_DIR / f"spotter-{language}.npz"


def has_spotter_model(language: str) -> bool:
    return spotter_model_path(language).is_file() \
        and all((FEATURE_DIR / name).is_file() for name in FEATURE_MODELS) \
        and importlib.util.find_spec("onnxruntime") is not None


class SpotterRecognizer(CommandRecognizer):
    """Streaming command spotter with the :class:`CommandRecognizer` interface: every
    80 ms of audio gives one embedding, one classification and one decision."""

    engine = "spotter"

    def __init__(self, vocabulary: CommandVocabulary, model: SpotterModel,
                 tuning: Tuning | None = None, live: bool = True,
                 embedder: SpeechEmbedder | None = None) -> None:
        super().__init__(vocabulary, tuning or SPOTTER_TUNING, live)
        unknown = set(model.classes[1:]) - set(vocabulary.commands)
        if unknown:
            raise InputError(f"the {vocabulary.language} spotter model knows commands the "
                             f"vocabulary lacks: {', '.join(sorted(unknown))}")
        self.model = model
        self.embedder = embedder or shared_embedder()
        self._restart()

    def _restart(self) -> None:
        self._pending = np.zeros(0, np.float32)
        # As if the stream began after silence: a command in its first two seconds
        # (before a full window of real audio) is still heard.
        self._features = StreamingFeatures(self.embedder)
        self._embeddings = np.repeat(self._features.lead_in[None], self.model.frames, axis=0)
        self._heard = 0  # samples turned into frames
        self._run = np.zeros(len(self.model.classes), dtype=int)
        self._first_above = np.zeros(len(self.model.classes))
        self._quiet_until = -1.0
        self._armed_after = 0  # class that fired last, until it falls below threshold
        frames = int(MEMORY_SECONDS * RECOGNIZER_RATE / FRAME_SAMPLES) if self.live else None
        self._recent: deque[tuple[float, np.ndarray]] = deque(maxlen=frames)

    def peak(self, command: str, since: float) -> float:
        """The highest probability any frame ending at or after stream time ``since``
        gave ``command``, whether or not it fired (0 for a command it does not know)."""
        if command not in self.model.classes:
            return 0.0
        column = list(self.model.classes).index(command)
        return max((float(p[column]) for t, p in self._recent if t >= since), default=0.0)

    def _feed(self, samples: np.ndarray) -> tuple[list[Word], list[Word]]:
        self._pending = np.concatenate((self._pending, samples))
        words: list[Word] = []
        while self._pending.size >= FRAME_SAMPLES:
            block, self._pending = (self._pending[:FRAME_SAMPLES],
                                    self._pending[FRAME_SAMPLES:])
            words += self._frame(block)
        return words, []

    def _frame(self, block: np.ndarray) -> list[Word]:
        self._heard += block.size
        embedding = self._features.push(block)
        self._embeddings = np.concatenate((self._embeddings, embedding[None]))[-self.model.frames:]
        probabilities = self.model.probabilities(self._embeddings)
        now = self._heard / RECOGNIZER_RATE
        self._recent.append((now, probabilities))
        return self._decide(probabilities, now)

    def _decide(self, probabilities: np.ndarray, now: float) -> list[Word]:
        threshold = self.tuning.threshold
        above = probabilities >= threshold
        above[0] = False
        self._first_above = np.where(above & (self._run == 0), now, self._first_above)
        self._run = np.where(above, self._run + 1, 0)
        if self._armed_after and not above[self._armed_after]:
            self._armed_after = 0
        if now < self._quiet_until or self._armed_after:
            return []
        ready = np.where((self._run >= CONSECUTIVE) | (above & (probabilities >= CONFIDENT)),
                         probabilities, -1.0)
        best = int(np.argmax(ready))
        if ready[best] < 0:
            return []
        self._quiet_until, self._armed_after = now + REFRACTORY_SECONDS, best
        # The first frame that heard the command is soon after the word's end.
        end = float(self._first_above[best])
        self._run[:] = 0
        alias = self.vocabulary.commands[Command(self.model.classes[best])][0]
        return [Word(word, max(0.0, end - WORD_SECONDS), end, float(probabilities[best]))
                for word in words_of(alias)]

    def _finish(self) -> list[Word]:
        # Frames need 80 ms of audio: pad the stream's end with silence so a command
        # said right at the end of a recording is still decided on.
        tail: list[Word] = []
        padding = np.zeros(FRAME_SAMPLES * CONSECUTIVE, np.float32)
        for first in range(0, padding.size, FRAME_SAMPLES):
            if self._pending.size:
                block = np.concatenate((self._pending, padding))[:FRAME_SAMPLES]
                self._pending = np.zeros(0, np.float32)
            else:
                block = padding[first:first + FRAME_SAMPLES]
            tail += self._frame(block)
        return tail


def create_spotter(language: str, vocabulary: CommandVocabulary,
                   tuning: Tuning | None = None, live: bool = True) -> SpotterRecognizer:
    path = spotter_model_path(language)
    if not path.is_file():
        raise MissingDependencyError(f"no command spotter model for {language!r} "
                                     f"({path}); train one with scripts/spotter/train.py "
                                     f"or use --engine vosk")
    return SpotterRecognizer(vocabulary, SpotterModel.load(path),
                             tuning or LANGUAGE_TUNING.get(language), live)
