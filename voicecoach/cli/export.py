"""``export``: render a guided workout to an audio file with tags and chapters."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from voicecoach.audio import SAMPLE_RATE
from voicecoach.cli._options import add_workout_arguments, plan_request
from voicecoach.earcons import load_earcon
from voicecoach.errors import InputError
from voicecoach.export import (check_bitrate, check_output, export_audio, supported_extensions,
                               supports_chapters, write_timeline_json)
from voicecoach.phrases import Phrases
from voicecoach.plan import PlanRequest, load_plan_workout
from voicecoach.render import CHUNK_SAMPLES, plan_mix, render_chunks
from voicecoach.speech import SpeechRenderer, default_voice
from voicecoach.timeline import compile_timeline
from voicecoach.workout import Workout

APP_TAG = "voicecoach"
"""Album and artist tag of every export."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="render a guided workout to an audio file",
        description="Render a guided workout to an audio file with tags and one chapter per "
                    f"exercise side. Formats by extension: {', '.join(supported_extensions())} "
                    "(.wav and raw .aac cannot hold chapters; use .m4a for AAC with chapters).")
    add_workout_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the audio file to write; its extension picks the format")
    parser.add_argument("--gap", type=float, default=3.0, metavar="SECONDS",
                        help="pause at each wait for 'next' (default 3)")
    parser.add_argument("--bitrate", metavar="RATE",
                        help="lossy bitrate, e.g. 64k (the default) or 128k")
    parser.add_argument("--timeline", type=Path, metavar="FILE.json",
                        help="also write the cue list with scheduled times as JSON")
    parser.set_defaults(handler=run_export)


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


class RichStages(Stages):
    """Progress bars on stderr, so stdout carries only the result line.

    The display starts with the first stage, so an early error prints alone.
    """

    def __init__(self, progress: Progress):
        self.progress = progress
        self.phrase_task: int | None = None

    def phrases(self, done: int, total: int) -> None:
        if self.phrase_task is None:
            self.progress.start()  # first stage: from here on there is a display to stop
            self.phrase_task = self.progress.add_task("synthesising phrases", total=total)
        self.progress.update(self.phrase_task, completed=done, total=total)

    def close(self) -> None:
        """Stop the display, if a stage started it (stopping an unstarted one prints)."""
        if self.phrase_task is not None:
            self.progress.stop()

    def mixing(self, chunks: Iterable[np.ndarray], total: int) -> Iterator[np.ndarray]:
        task = self.progress.add_task("mixing and encoding", total=total)
        for chunk in chunks:
            yield chunk
            self.progress.advance(task)


def spoken_texts(workout: Workout, phrases: Phrases) -> list[str]:
    """Every phrase the workout will say, found before any speech is rendered.

    What is said does not depend on how long it takes to say, so compiling with a
    stand-in length gives the full list up front, for an honest n/N progress bar.
    """
    return compile_timeline(workout, phrases, lambda text: 1.0).speech_texts()


def export_workout(request: PlanRequest, output: Path, *, gap: float = 3.0,
                   bitrate: str | None = None, timeline_path: Path | None = None,
                   cache_dir: Path | None = None, stages: Stages | None = None) -> ExportSummary:
    """Compile, voice, mix and encode ``request`` into ``output``; the ``export`` command."""
    stages = stages or Stages()
    if not (math.isfinite(gap) and gap >= 0):
        raise InputError(f"--gap {gap:g}: give zero or more seconds")
    check_output(output)  # fail on a bad path before any slow work
    if bitrate:
        check_bitrate(bitrate)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    workout, phrases = load_plan_workout(request)
    speech = SpeechRenderer(request.voice or default_voice(request.language), request.rate,
                            cache_dir=cache_dir)
    speech.render_all(spoken_texts(workout, phrases), progress=stages.phrases)
    timeline = compile_timeline(workout, phrases, speech.duration)
    clips = speech.render_all(timeline.speech_texts())  # from memory; catches any stragglers
    timings["speech"] = time.perf_counter() - started

    mark = time.perf_counter()
    mix = plan_mix(timeline, clips, gap, load_earcon)
    chapters = timeline.chapters(gap)
    chunks = render_chunks(mix)
    export_audio(stages.mixing(chunks, -(-mix.length // CHUNK_SAMPLES)), output,
                 title=timeline.title, album=APP_TAG, artist=APP_TAG, chapters=chapters,
                 bitrate=bitrate)
    if timeline_path is not None:
        write_timeline_json(timeline, gap, timeline_path)
    timings["mix+encode"] = time.perf_counter() - mark
    return ExportSummary(output, mix.length / SAMPLE_RATE,
                         len(chapters) if supports_chapters(output) else 0, len(clips),
                         speech.synthesised, timings)


def run_export(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    stages = RichStages(Progress(*columns, console=console, transient=False))
    try:
        summary = export_workout(plan_request(args), args.output, gap=args.gap,
                                 bitrate=args.bitrate, timeline_path=args.timeline,
                                 stages=stages)
    finally:
        stages.close()
    minutes, seconds = divmod(round(summary.seconds), 60)
    chapters = (f"{summary.chapters} chapters" if supports_chapters(summary.path)
                else f"no chapters ({summary.path.suffix} cannot hold them)")
    print(f"wrote {summary.path}: {minutes}:{seconds:02d}, {chapters}", file=sys.stdout)
    return 0
