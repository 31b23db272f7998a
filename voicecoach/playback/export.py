"""Exporting a workout: compile, voice, mix and encode it into one audio file.

The library half of ``voicecoach export`` (and of ``history --export``): the same
timeline the live player plays, rendered by sample index and encoded by
:func:`voicecoach.playback.encode.export_audio`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voicecoach.audio import PLAYBACK_RATE
from voicecoach.errors import InputError
from voicecoach.planning.phrases import Phrases, PromptMode
from voicecoach.planning.plan import PlanRequest, load_plan_workout
from voicecoach.planning.timeline import Timeline, compile_timeline
from voicecoach.planning.workout import Workout
from voicecoach.playback.earcons import load_earcon
from voicecoach.playback.encode import (
    check_bitrate,
    check_output,
    check_writable,
    export_audio,
    supports_chapters,
    write_timeline_json,
)
from voicecoach.playback.render import CHUNK_SAMPLES, plan_mix, render_chunks
from voicecoach.playback.speech import SpeechRenderer, default_voice

APP_TAG = "voicecoach"
"""Album and artist tag of every export."""


@dataclass
class ExportSummary:
    """What an export wrote, and how long each stage took (seconds)."""

    path: Path
    seconds: float
    chapters: int
    phrases: int
    synthesised: int
    stage_seconds: dict[str, float] = field(default_factory=dict)


class Stages:
    """Progress of the export stages; the default shows nothing."""

    def phrases(self, done: int, total: int) -> None:
        """``done`` of ``total`` distinct phrases are rendered."""

    def mixing(self, chunks: Iterable[np.ndarray], total: int) -> Iterator[np.ndarray]:
        """Pass through the ``total`` chunks being mixed and encoded, counting them."""
        yield from chunks


def spoken_texts(workout: Workout, phrases: Phrases) -> list[str]:
    """Every phrase the workout will say, found before any speech is rendered.

    What is said does not depend on how long it takes to say, so compiling with a
    stand-in length gives the full list up front, for an honest n/N progress bar.
    """
    return compile_timeline(workout, phrases, lambda text: 1.0).speech_texts()


def export_workout(request: PlanRequest, output: Path, *, gap: float = 3.0,
                   bitrate: str | None = None, timeline_path: Path | None = None,
                   cache_dir: Path | None = None, stages: Stages | None = None,
                   transform: Callable[[Timeline], Timeline] | None = None,
                   title: str | None = None) -> ExportSummary:
    """Compile, voice, mix and encode ``request`` into ``output``.

    ``transform`` may cut or check the compiled timeline before it is rendered (a
    session export keeps only what was done); ``title`` replaces the workout's name.
    """
    stages = stages or Stages()
    if not (math.isfinite(gap) and gap >= 0):
        raise InputError(f"--gap {gap:g}: give zero or more seconds")
    check_output(output)  # fail on a bad path before any slow work
    if timeline_path is not None:
        check_writable(timeline_path)
    if bitrate:
        check_bitrate(bitrate)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    # An exported file answers nothing: the coach asks for no word or key.
    workout, phrases = load_plan_workout(dataclasses.replace(request, mode=PromptMode.EXPORT))
    speech = SpeechRenderer(request.voice or default_voice(request.language), request.rate,
                            cache_dir=cache_dir, pronounce=phrases.pronounce)
    speech.render_all(spoken_texts(workout, phrases), progress=stages.phrases)
    timeline = compile_timeline(workout, phrases, speech.duration)
    if transform is not None:
        timeline = transform(timeline)
    clips = speech.render_all(timeline.speech_texts())  # from memory; catches any stragglers
    timings["speech"] = time.perf_counter() - started

    mark = time.perf_counter()
    mix = plan_mix(timeline, clips, gap, load_earcon)
    chapters = timeline.chapters(gap)
    chunks = render_chunks(mix)
    export_audio(stages.mixing(chunks, -(-mix.length // CHUNK_SAMPLES)), output,
                 title=title or timeline.title, album=APP_TAG, artist=APP_TAG, chapters=chapters,
                 bitrate=bitrate)
    if timeline_path is not None:
        write_timeline_json(timeline, gap, timeline_path)
    timings["mix+encode"] = time.perf_counter() - mark
    return ExportSummary(output, mix.length / PLAYBACK_RATE,
                         len(chapters) if supports_chapters(output) else 0, len(clips),
                         speech.synthesised, timings)
