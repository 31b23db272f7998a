"""``voicecoach run WORKOUT``: a live, hands-free session with voice commands.

A thin layer over :mod:`voicecoach.session.runner`: options in, one line out.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

from voicecoach.cli._options import add_wake_argument, add_workout_arguments, plan_request
from voicecoach.recognition.factory import ENGINE_HELP, ENGINES
from voicecoach.session.runner import DEFAULT_LATENCY, GRAMMAR_ENGINE_LATENCY

TRACE_ENV = "VOICECOACH_TRACE"
"""A file to append the latency trace and the echo checks to (benchmarks/latency.py)."""
EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C or SIGTERM, as a shell reports an interrupted program."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="coach a workout live, listening for voice commands",
        description="Coach a workout live: the coach reads each setup step and waits for "
                    "\"next\", counts the reps on tempo, and listens for next, pause, "
                    "resume, repeat, done and stop (keys: Enter, p, r, d, q).")
    add_workout_arguments(parser)
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help=ENGINE_HELP)
    parser.add_argument("--model", type=Path, metavar="PATH", help="a Vosk model folder")
    parser.add_argument("--input", metavar="DEV", help="microphone (index or name; see "
                        "`voicecoach devices`)")
    parser.add_argument("--output", metavar="DEV", help="speaker (index or name)")
    parser.add_argument("--output-latency", type=float, metavar="SECONDS", default=None,
                        help="output buffer: lower reacts to commands sooner, too low "
                             f"crackles (default {DEFAULT_LATENCY}, or "
                             f"{GRAMMAR_ENGINE_LATENCY} with Vosk or PocketSphinx alone)")
    parser.add_argument("--record-mic", type=Path, metavar="FILE.wav",
                        help="save what the recogniser hears (the microphone, the coach's "
                             "voice taken out) as a 16 kHz WAV: replay it with `listen "
                             "--file`, or attach it to a bug report")
    add_wake_argument(parser)
    parser.add_argument("--keys-only", action="store_true",
                        help="do not listen; use the keyboard (Enter, p, r, d, q)")
    parser.add_argument("--no-confirm", dest="confirm", action="store_false",
                        help="act on a spoken stop, or done mid-set, at once instead of "
                             "pausing to ask (for a quiet room: in company, talk can "
                             "sound like a command)")
    parser.add_argument("--db", type=Path, metavar="PATH",
                        help="training log file (default: VOICECOACH_DB or the user data "
                             "folder)")
    parser.add_argument("--resume", action="store_true",
                        help="carry on the most recent unfinished session of this workout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from voicecoach.session.coach import Outcome
    from voicecoach.session.runner import SessionOptions, run_session

    options = SessionOptions(
        request=plan_request(args), engine=args.engine, model=args.model,
        input_device=args.input, output_device=args.output,
        output_latency=args.output_latency, record_mic=args.record_mic,
        keys_only=args.keys_only, confirm=args.confirm, db=args.db, resume=args.resume)
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    _start_trace(os.environ.get(TRACE_ENV))
    try:
        result = run_session(options, notify=_notify)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
    if result.outcome is None:
        _notify(f"session {result.session_id} interrupted; {resume_hint(args)}")
        return EXIT_INTERRUPTED
    hint = f"; {resume_hint(args)}" if result.outcome is not Outcome.FINISHED else ""
    print(f"session {result.session_id} {result.outcome.value}{hint}")
    return 0


def resume_hint(args: argparse.Namespace) -> str:
    """How to carry on a session that did not finish: the same command with --resume."""
    words = ["voicecoach", "run", args.workout]
    if args.lang != "en":
        words += ["--lang", args.lang]
    for override in args.phase_seconds:
        words += ["--phase-seconds", override]
    if args.db is not None:
        words += ["--db", str(args.db)]
    return "carry on with: " + shlex.join(words + ["--resume"])


def _notify(message: str) -> None:
    print(f"voicecoach: {message}", file=sys.stderr)


def _start_trace(path: str | None) -> None:
    """Send the latency trace (voicecoach.trace) and echo checks to ``path``, if given."""
    if not path:
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name, level in (("voicecoach.trace", logging.DEBUG),
                        ("voicecoach.session.microphone", logging.INFO)):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
