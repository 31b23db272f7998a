"""``export``: render a guided workout to an audio file with tags and chapters."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from voicecoach.cli._options import add_workout_arguments, plan_request
from voicecoach.playback.encode import supported_extensions, supports_chapters
from voicecoach.playback.export import Stages, export_workout


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


class RichStages(Stages):
    """Progress bars on stderr, so stdout carries only the result line.

    The display starts with the first stage, so an early error prints alone.
    """

    def __init__(self, progress: Progress):
        self.progress = progress
        self.phrase_task: TaskID | None = None

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
