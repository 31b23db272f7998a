"""One live session, wired up: plan, player, microphone, keyboard, log and live view.

The library half of ``voicecoach run``. Start-up is ordered for a quick first sound: the
output opens and the opening earcon plays at once while the phrases are voiced and the
timeline compiled; the recogniser loads in a background thread and listening starts
when it is ready (keys work from the first moment).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voicecoach.audio import RECOGNIZER_RATE, WavRecorder
from voicecoach.devices import resolve_device
from voicecoach.errors import OutputError, VoicecoachError
from voicecoach.planning.phrases import Phrases
from voicecoach.planning.plan import PlanRequest, make_plan
from voicecoach.planning.timeline import Cue, CueKind, Position, Timeline
from voicecoach.playback.earcons import load_earcon
from voicecoach.playback.live import LivePlayer
from voicecoach.recognition.base import Recognizer
from voicecoach.recognition.factory import (
    create_recognizer,
    hybrid_backs_with_vosk,
    resolve_engine,
)
from voicecoach.records.history import EventKind, plan_fingerprint
from voicecoach.records.training_log import TrainingLog
from voicecoach.session.coach import CoachSession, Outcome
from voicecoach.session.display import LiveView
from voicecoach.session.keyboard import KeyboardListener
from voicecoach.session.messages import Heard
from voicecoach.session.microphone import Listener

logger = logging.getLogger(__name__)

INTRO_EARCON = "start"
DEFAULT_LATENCY = 0.1
"""Output latency (seconds) of the session's player; see
:class:`~voicecoach.playback.live.LivePlayer` (soaked in benchmarks/README.md, "Soak")."""
GRAMMAR_ENGINE_LATENCY = 0.2
"""With Vosk or PocketSphinx alone, whose decoding loads the machine enough for a 0.1 s
buffer to run dry now and then, and with a hybrid that runs Vosk behind the spotter. The
spotter and the PocketSphinx hybrid keep the default: their reactions come from the
spotter, and an extra 0.1 s is an extra 0.1 s before the coach reacts (benchmarks/README.md,
"Soak" and "Command latency")."""
INTRO_PREROLL = 0.05
"""Silence before the opening earcon: short, so the first sound comes quickly."""


@dataclass(frozen=True)
class SessionOptions:
    """What ``voicecoach run`` was asked for."""

    request: PlanRequest
    engine: str = "auto"
    model: Path | None = None
    input_device: str | None = None
    output_device: str | None = None
    output_latency: float | None = None
    record_mic: Path | None = None
    keys_only: bool = False
    confirm: bool = True
    """Ask before a spoken stop, or done mid-set, takes effect (CoachSession)."""
    db: Path | None = None
    resume: bool = False


@dataclass(frozen=True)
class SessionResult:
    """How a session ended, and its id in the training log."""

    session_id: int
    outcome: Outcome | None
    """None: interrupted (Ctrl-C or SIGTERM) before it finished or was stopped."""


@dataclass(frozen=True)
class StartPoint:
    """Where a session starts: a new or resumed log entry, the first cue, what to say."""

    session_id: int
    cue_index: int
    opening: tuple[str, ...] = ()


@dataclass
class RecognizerLoader:
    """Loads the recogniser in a background thread (a model load takes seconds)."""

    options: SessionOptions
    ready: threading.Event = field(default_factory=threading.Event)
    recognizer: Recognizer | None = None
    error: str = ""

    def start(self) -> None:
        threading.Thread(target=self._load, name="voicecoach-recognizer-load",
                         daemon=True).start()

    def _load(self) -> None:
        try:
            resolve_device(self.options.input_device, "input")  # no microphone: no model
        except VoicecoachError as error:
            self.error = f"no microphone ({error})"
            self.ready.set()
            return
        try:
            self.recognizer = create_recognizer(self.options.request.language,
                                                engine=self.options.engine,
                                                model=self.options.model,
                                                wake=self.options.request.wake)
        except VoicecoachError as error:
            self.error = str(error)
        except Exception as error:
            logger.exception("the speech recogniser failed to start")
            self.error = f"speech recogniser failed to start: {error}"
        finally:
            self.ready.set()


def output_latency(options: SessionOptions) -> float:
    """The requested output latency, else the default for the engine that will listen."""
    if options.output_latency:
        return float(options.output_latency)
    if options.keys_only:
        return DEFAULT_LATENCY
    try:
        engine = resolve_engine(options.request.language, options.engine, options.model,
                                wake=options.request.wake is not None)
    except VoicecoachError:  # no engine: the session runs on keys, and says why
        return DEFAULT_LATENCY
    heavy = engine in ("vosk", "pocketsphinx") or (
        engine == "hybrid" and hybrid_backs_with_vosk(options.request.language, options.model))
    return GRAMMAR_ENGINE_LATENCY if heavy else DEFAULT_LATENCY


def open_mic_recording(path: Path | None) -> WavRecorder | None:
    """The ``--record-mic`` file, opened for writing (None without the option)."""
    if path is None:
        return None
    try:
        return WavRecorder(path, RECOGNIZER_RATE)
    except OSError as error:
        raise OutputError(f"--record-mic {path}: cannot write there ({error.strerror}); "
                          "choose another file") from error


def resume_phrase(phrases: Phrases, position: Position | None) -> str:
    """What the coach says when carrying on: the side and rep, or the exercise."""
    if position is not None and position.rep > 0 and position.side:
        return phrases.say("resuming_at_rep", side=phrases.side(position.side),
                           n=position.rep, total=position.reps)
    name = position.exercise_name if position is not None else ""
    return phrases.say("resuming_at", exercise=name)


def start_point(training_log: TrainingLog, timeline: Timeline, phrases: Phrases,
                workout_name: str, source: str, language: str, resume: bool,
                notify: Callable[[str], None]) -> StartPoint:
    """A new log entry at the first spoken cue, or (``resume``) the most recent
    unfinished session of ``source`` at its first unfinished step, side and rep."""
    first_speech = next((i for i, c in enumerate(timeline.cues) if c.kind is CueKind.SPEECH), 0)
    if resume:
        previous = training_log.unfinished_session(source)
        if previous is None:
            notify(f"no unfinished session of {source} to resume; starting afresh")
        else:
            point = training_log.resume_point(previous.id, timeline)
            if point.complete:
                notify(f"session {previous.id} has nothing left to do; starting afresh")
            else:
                training_log.record(previous.id, EventKind.RESUMED_SESSION, point.position,
                                    {"cue_index": point.cue_index})
                return StartPoint(previous.id, max(point.cue_index, 0),
                                  (resume_phrase(phrases, point.position),))
    session_id = training_log.start_session(workout_name, source, language,
                                            plan_fingerprint(timeline))
    return StartPoint(session_id, first_speech)


def run_session(options: SessionOptions, notify: Callable[[str], None]) -> SessionResult:
    """Coach one live session to its end; ``notify`` gets one-line messages for the user.

    Raises :class:`VoicecoachError` for what the user can fix (a bad workout, no output
    device...); Ctrl-C (KeyboardInterrupt) ends it as interrupted, logged.
    """
    intro = LivePlayer(Timeline("intro", options.request.language,
                                (Cue(0.0, CueKind.EARCON, INTRO_EARCON),)),
                       {}, load_earcon, device=options.output_device, preroll=INTRO_PREROLL)
    intro.start()
    record: WavRecorder | None = None
    loader = RecognizerLoader(options)
    try:
        record = open_mic_recording(options.record_mic)
        if not options.keys_only:
            loader.start()
        plan = make_plan(options.request)
        clips = plan.speech.render_all(plan.timeline.speech_texts())
        training_log = TrainingLog(options.db)
        start = start_point(training_log, plan.timeline, plan.phrases, plan.workout.name,
                            str(plan.workout.source), options.request.language,
                            options.resume, notify)
    except BaseException:
        intro.close()
        if record is not None:
            record.discard()
        raise
    intro.wait_finished(timeout=3)
    intro.close()
    return _coach(options, plan.timeline, plan.phrases, clips, plan.speech.render,
                  training_log, start, loader, record, notify)


def _coach(options: SessionOptions, timeline: Timeline, phrases: Phrases,
           clips: Mapping[str, np.ndarray], speak: Callable[[str], np.ndarray],
           training_log: TrainingLog,
           start: StartPoint, loader: RecognizerLoader, record: WavRecorder | None,
           notify: Callable[[str], None]) -> SessionResult:
    """The session proper, once the plan is voiced and the log entry exists."""
    player = LivePlayer(timeline, clips, load_earcon,
                        device=options.output_device, latency=output_latency(options))
    listener: list[Listener] = []  # set once the microphone opens
    view = LiveView()
    session = CoachSession(timeline, phrases, player, speak,
                           log=training_log, session_id=start.session_id, view=view,
                           mic_level=lambda: listener[0].level_db if listener else None,
                           confirm=options.confirm)
    if start.cue_index:
        player.seek(start.cue_index)
    if start.opening:
        session.announce(*start.opening)
    keys = KeyboardListener(lambda command: session.heard(Heard(command, source="keys")))
    outcome: Outcome | None = None
    try:
        player.start()
        keys.start()
        if not options.keys_only:
            threading.Thread(target=_start_listening,
                             args=(options, session, player, loader, record, listener, notify),
                             name="voicecoach-mic-start", daemon=True).start()
        with view:
            outcome = session.run()
    except KeyboardInterrupt:
        player.pause()
        training_log.record(start.session_id, EventKind.STOPPED, session.position,
                            {"reason": "interrupted"})
    finally:
        keys.close()
        if listener:
            listener[0].close()
        if record is not None:
            record.close()  # kept even when the microphone never opened
        if outcome is Outcome.FINISHED:
            player.wait_finished(timeout=5)
        player.close()
        training_log.close()
    return SessionResult(start.session_id, outcome)


def _start_listening(options: SessionOptions, session: CoachSession, player: LivePlayer,
                     loader: RecognizerLoader, record: WavRecorder | None,
                     opened: list[Listener], notify: Callable[[str], None]) -> None:
    """Background: once the recogniser is loaded, open the microphone and listen."""
    loader.ready.wait()
    if loader.recognizer is None:
        notify(f"{loader.error}; using the keyboard")
        session.on_keys_only("no_mic")
        return
    try:
        device = resolve_device(options.input_device, "input").index
        listener = Listener(loader.recognizer, session.heard,
                            lambda: session.on_keys_only("mic_lost"), device=device,
                            played=player.played, clock=lambda: player.time, record=record)
        listener.start()
    except Exception as error:
        logger.warning("the microphone did not open: %s", error)
        notify(f"no microphone ({error}); using the keyboard")
        session.on_keys_only("no_mic")
        return
    opened.append(listener)
