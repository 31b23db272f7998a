"""Command-line options shared by the subcommands that compile a workout."""

from __future__ import annotations

import argparse

from voicecoach.commands import resolve_wake
from voicecoach.planning.phrases import PromptMode
from voicecoach.planning.plan import PlanRequest


def add_workout_arguments(parser: argparse.ArgumentParser, *, voice: bool = True) -> None:
    """WORKOUT plus --lang, --phase-seconds and (for spoken output) --voice and --rate."""
    parser.add_argument("workout", metavar="WORKOUT",
                        help="a built-in workout name (see `voicecoach list`) or a .toml path")
    parser.add_argument("--lang", default="en", help="language of phrases and workouts (en, ko)")
    parser.add_argument("--phase-seconds", action="append", default=[], metavar="NAME=SECONDS",
                        help="change a phase's length within its allowed range, e.g. lower=2")
    if voice:
        parser.add_argument("--voice", help="speech voice (see `voicecoach voices`)")
        parser.add_argument("--rate", type=int, default=165, help="speech rate, words per minute")


def add_wake_argument(parser: argparse.ArgumentParser) -> None:
    """--wake [WORD]: commands count only after the wake word (a shared room)."""
    parser.add_argument("--wake", nargs="?", const="", metavar="WORD",
                        help="hear only commands said after a wake word (\"coach, next\"), "
                             "for a room shared with a trainer, friends or a TV; default "
                             "word: the language's (coach, 코치). Listens with PocketSphinx "
                             "(English) or Vosk")


def plan_request(args: argparse.Namespace) -> PlanRequest:
    """The PlanRequest described by parsed workout arguments (``--keys-only``: keys mode,
    ``--wake``: commands after the wake word)."""
    wake = resolve_wake(args.lang, getattr(args, "wake", None))
    mode = PromptMode.KEYS if getattr(args, "keys_only", False) else \
        PromptMode.WAKE if wake else PromptMode.VOICE
    return PlanRequest(workout=args.workout, language=args.lang,
                       voice=getattr(args, "voice", None), rate=getattr(args, "rate", 165),
                       phase_seconds=tuple(args.phase_seconds), mode=mode, wake=wake)
