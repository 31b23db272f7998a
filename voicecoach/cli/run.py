"""``voicecoach run WORKOUT``: a live, hands-free session with voice commands.

Start-up is ordered for a quick first sound: the output device opens and the opening
earcon plays at once, while the phrases are voiced and the timeline compiled; the
recogniser's model loads in a background thread and listening starts when it is ready
(keys work from the first moment).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicecoach.cli._options import add_workout_arguments, plan_request
from voicecoach.errors import VoicecoachError
from voicecoach.recognizer import ENGINE_HELP, ENGINES
INTRO_EARCON = "start"
DEFAULT_LATENCY = 0.1
"""Output latency (seconds) of the session's player; see :class:`voicecoach.live.LivePlayer`.
Soaked under load with the command spotter and with the hybrid (benchmarks/README.md,
Soak): no dropouts, but for one hybrid run during a memory-hungry model fit."""
GRAMMAR_ENGINE_LATENCY = 0.2
"""With Vosk or PocketSphinx alone, whose decoding loads the machine enough for a 0.1 s
buffer to run dry now and then. The hybrid keeps the default: its reactions come from
the spotter, which the extra 0.1 s would push past the 0.3 s target."""
TRACE_ENV = "VOICECOACH_TRACE"
"""A file to append the latency trace and the echo checks to (benchmarks/latency.py)."""
INTRO_PREROLL = 0.05
"""Silence before the opening earcon: short, so the first sound comes quickly (the
player's usual preroll guards speech against a stream's shaky first moments)."""


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
    parser.add_argument("--keys-only", action="store_true",
                        help="do not listen; use the keyboard (Enter, p, r, d, q)")
    parser.add_argument("--db", type=Path, metavar="PATH",
                        help="training log file (default: VOICECOACH_DB or the user data "
                             "folder)")
    parser.add_argument("--resume", action="store_true",
                        help="carry on the most recent unfinished session of this workout")
    parser.set_defaults(handler=run)


@dataclass
class _Mic:
    """The microphone side, set up in the background."""

    listener: Any = None
    error: str = ""
    record: Any = None
    """A :class:`voicecoach.audio.WavRecorder` for ``--record-mic``, or None."""


def run(args: argparse.Namespace) -> int:
    from voicecoach.earcons import load_earcon
    from voicecoach.live import LivePlayer
    from voicecoach.timeline import Cue, CueKind, Timeline

    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    _start_trace(os.environ.get(TRACE_ENV))
    # 1. Sound first: a one-cue player for the opening earcon, before anything slow.
    intro = LivePlayer(Timeline("intro", args.lang, (Cue(0.0, CueKind.EARCON, INTRO_EARCON),)),
                       {}, load_earcon, device=args.output, preroll=INTRO_PREROLL)
    intro.start()
    try:
        return _session(args, intro)
    finally:
        signal.signal(signal.SIGTERM, previous_term)


def _start_trace(path: str | None) -> None:
    """Send the latency trace (voicecoach.trace) and echo checks to ``path``, if given."""
    if not path:
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name, level in (("voicecoach.trace", logging.DEBUG), ("voicecoach.session", logging.INFO)):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _session(args: argparse.Namespace, intro: Any) -> int:
    from voicecoach.display import LiveView
    from voicecoach.earcons import load_earcon
    from voicecoach.history import EventKind, plan_fingerprint
    from voicecoach.keyboard import KeyboardListener
    from voicecoach.live import LivePlayer
    from voicecoach.log import TrainingLog
    from voicecoach.plan import load_plan_workout
    from voicecoach.session import CoachSession, Heard, Outcome
    from voicecoach.speech import SpeechRenderer, default_voice
    from voicecoach.timeline import CueKind, compile_timeline

    request = plan_request(args)
    mic = _Mic()
    try:
        workout, phrases = load_plan_workout(request)
        mic.record = _open_recording(args.record_mic)
        mic_ready = threading.Event()
        recognizer_box: dict[str, Any] = {}
        if not args.keys_only:
            threading.Thread(target=_load_recognizer, args=(args, recognizer_box, mic_ready),
                             name="voicecoach-recognizer-load", daemon=True).start()
        speech = SpeechRenderer(request.voice or default_voice(request.language), request.rate,
                                pronounce=phrases.pronounce)
        timeline = compile_timeline(workout, phrases, speech.duration)
        clips = speech.render_all(timeline.speech_texts())
        training_log = TrainingLog(args.db)
        source = str(workout.source)
        start_index = next((i for i, c in enumerate(timeline.cues)
                            if c.kind is CueKind.SPEECH), 0)
        opening: list[str] = []
        session_id: int | None = None
        if args.resume:
            previous = training_log.unfinished_session(source)
            if previous is None:
                print(f"no unfinished session of {source} to resume; starting afresh",
                      file=sys.stderr)
            else:
                point = training_log.resume_point(previous.id, timeline)
                if point.complete:
                    print(f"session {previous.id} has nothing left to do; starting afresh",
                          file=sys.stderr)
                else:
                    session_id = previous.id
                    start_index = max(point.cue_index, 0)
                    opening.append(_resume_phrase(phrases, point.position))
                    training_log.record(session_id, EventKind.RESUMED_SESSION, point.position,
                                        {"cue_index": point.cue_index})
        if session_id is None:
            session_id = training_log.start_session(workout.name, source, request.language,
                                                    plan_fingerprint(timeline))
    except BaseException:
        intro.close()
        if mic.record is not None:
            mic.record.discard()
        raise

    intro.wait_finished(timeout=3)
    intro.close()
    player = LivePlayer(timeline, clips, load_earcon, device=args.output,
                        latency=_output_latency(args))
    view = LiveView()
    session = CoachSession(timeline, phrases, player, speech.render, log=training_log,
                           session_id=session_id, view=view,
                           mic_level=lambda: mic.listener.level_db if mic.listener else None)
    if start_index:
        player.seek(start_index)
    if opening:
        session.announce(*opening)
    keys = KeyboardListener(lambda command: session.heard(Heard(command, source="keys")))
    outcome: Outcome | None = None
    try:
        player.start()
        keys.start()
        if not args.keys_only:
            threading.Thread(target=_start_listening,
                             args=(args, session, player, recognizer_box, mic_ready, mic),
                             name="voicecoach-mic-start", daemon=True).start()
        with view:
            outcome = session.run()
    except KeyboardInterrupt:
        player.pause()
        training_log.record(session_id, EventKind.STOPPED, session.position,
                            {"reason": "interrupted"})
        outcome = Outcome.STOPPED
        print(f"session {session_id} interrupted; {_resume_hint(args)}", file=sys.stderr)
        return 130
    finally:
        keys.close()
        if mic.listener is not None:
            mic.listener.close()
        if mic.record is not None:
            mic.record.close()  # kept even when the microphone never opened
        if outcome is Outcome.FINISHED:
            player.wait_finished(timeout=5)
        player.close()
        training_log.close()
    hint = f"; {_resume_hint(args)}" if outcome is not Outcome.FINISHED else ""
    print(f"session {session_id} {outcome.value if outcome else 'ended'}{hint}")
    return 0


def _resume_hint(args: argparse.Namespace) -> str:
    """How to carry on a session that did not finish: the same command with --resume."""
    import shlex

    words = ["voicecoach", "run", args.workout]
    if args.lang != "en":
        words += ["--lang", args.lang]
    for override in args.phase_seconds:
        words += ["--phase-seconds", override]
    if args.db is not None:
        words += ["--db", str(args.db)]
    return "carry on with: " + shlex.join(words + ["--resume"])


def _output_latency(args: argparse.Namespace) -> float:
    """``--output-latency``, else the default for the engine the session will listen with."""
    if args.output_latency:
        return float(args.output_latency)
    if args.keys_only:
        return DEFAULT_LATENCY
    from voicecoach.recognizer import resolve_engine

    try:
        engine = resolve_engine(args.lang, args.engine, args.model)
    except VoicecoachError:  # no engine: the session runs on keys, and says why
        return DEFAULT_LATENCY
    return GRAMMAR_ENGINE_LATENCY if engine in ("vosk", "pocketsphinx") else DEFAULT_LATENCY


def _open_recording(path: Path | None) -> Any:
    """The ``--record-mic`` file, opened for writing (None without the option)."""
    if path is None:
        return None
    from voicecoach.audio import WavRecorder
    from voicecoach.errors import OutputError
    from voicecoach.session import MIC_RATE

    try:
        return WavRecorder(path, MIC_RATE)
    except OSError as error:
        raise OutputError(f"--record-mic {path}: cannot write there ({error.strerror}); "
                          "choose another file") from error


def _resume_phrase(phrases: Any, position: Any) -> str:
    """What the coach says when carrying on: the side and rep, or the exercise."""
    if position is not None and position.rep > 0 and position.side:
        return phrases.say("resuming_at_rep", side=phrases.side(position.side),
                           n=position.rep, total=position.reps)
    name = position.exercise_name if position is not None else ""
    return phrases.say("resuming_at", exercise=name)


def _load_recognizer(args: argparse.Namespace, box: dict[str, Any],
                     ready: threading.Event) -> None:
    """Background: load the recogniser (a Vosk model load takes seconds)."""
    from voicecoach.devices import resolve_device

    try:
        resolve_device(args.input, "input")  # no microphone: no model to load
    except VoicecoachError as error:
        box["error"] = f"no microphone ({error})"
        ready.set()
        return
    try:
        from voicecoach.recognizer import create_recognizer

        box["recognizer"] = create_recognizer(args.lang, engine=args.engine, model=args.model)
    except VoicecoachError as error:
        box["error"] = str(error)
    except Exception as error:  # noqa: BLE001 - reported, the session goes on with keys
        box["error"] = f"speech recogniser failed to start: {error}"
    finally:
        ready.set()


def _start_listening(args: argparse.Namespace, session: Any, player: Any,
                     box: dict[str, Any], ready: threading.Event, mic: _Mic) -> None:
    """Background: once the recogniser is loaded, open the microphone and listen."""
    from voicecoach.devices import resolve_device
    from voicecoach.session import Listener

    ready.wait()
    if "error" in box:
        print(f"voicecoach: {box['error']}; using the keyboard", file=sys.stderr)
        _on_keys(session, "no_mic")
        return
    try:
        device = resolve_device(args.input, "input").index
        listener = Listener(box["recognizer"], session.heard,
                            lambda: _on_keys(session, "mic_lost"), device=device,
                            played=player.played,
                            clock=lambda: player.time, record=mic.record)
        listener.start()
    except Exception as error:  # noqa: BLE001 - no microphone: coach on keys
        print(f"voicecoach: no microphone ({error}); using the keyboard", file=sys.stderr)
        _on_keys(session, "no_mic")
        return
    mic.listener = listener


def _on_keys(session: Any, notice: str) -> None:
    """The session goes on on keys only: say so, and from now on ask for keys, not words
    ("press p to carry on", not "say resume")."""
    from voicecoach.phrases import PromptMode

    session.phrases = session.phrases.for_mode(PromptMode.KEYS)
    session.notice(notice)
