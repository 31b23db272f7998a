"""The coaching loop: spoken (or typed) commands -> live player actions, and the log.

One thread owns the session: :meth:`CoachSession.run` takes the player's events and
the commands heard (microphone worker, keyboard thread) off queues, decides, and calls
the player, the training log and the live view. Nothing here runs in an audio callback.

Semantics (what each command does, by where the workout is):

* setup step (the coach reads a step, then waits at its gate): ``next`` goes on to the
  following step; said while the step is still being read, it goes on as soon as the
  reading ends. Nothing else moves a gate.
* rest: ``next`` skips the rest of the rest.
* set (reps on tempo): ``next`` is ignored; the set keeps its own tempo.
* ``pause``: the plan clock stops at once (sounds fade out mid-word) and the coach says
  *paused*; works anywhere, also at a gate. ``resume``: the coach says *resumed*, then
  the plan continues from exactly where it stopped.
* ``repeat``: says the last instruction again: the current setup step or the last
  announcement (never a count); the plan is not moved.
* ``done``: during a set, ends the current side/set early: the coach says
  *finishing_early* and carries on after that side (side switch, rest or next
  exercise). In the last set of the workout (or after it) it finishes the workout.
  Outside a set, with sets still to come, it is ignored.
* ``stop``: the coach says *stopping* and the session ends; what was done is logged,
  so ``run --resume`` carries on from there.
* Spoken ``stop``, and spoken ``done`` that would cut a set short, are confirmed first
  (unless the session was made with ``confirm=False``): the plan pauses at once and the
  coach asks (*confirm_stop*, *confirm_done*); the same command said again within
  :data:`CONFIRM_SECONDS` of the question does it, ``resume`` carries on, and after the
  window the session simply stays paused. A word heard in someone else's sentence then
  costs a pause, never the set or the session. Keys act at once: a key press is meant.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

from voicecoach.audio import PLAYBACK_RATE
from voicecoach.commands import Command
from voicecoach.errors import DeviceError
from voicecoach.planning.phrases import Phrases, PromptMode
from voicecoach.planning.timeline import BREATH, Cue, CueKind, MarkKind, Position, Timeline
from voicecoach.playback.live import EventKind as PlayerEventKind
from voicecoach.playback.live import LivePlayer, PlayerEvent
from voicecoach.records.history import EventKind
from voicecoach.session.display import LiveView, ViewState
from voicecoach.session.keyboard import HELP as KEYS_HELP
from voicecoach.session.messages import Heard
from voicecoach.session.trace import trace, trace_log

log = logging.getLogger(__name__)


REMINDER_SECONDS = 45.0
"""Wall-clock seconds at a gate before the coach reminds the user to say "next"."""
VIEW_INTERVAL = 0.1
LOOP_TICK = 0.01
PACE_WINDOW_SECONDS = 3.0
PACE_LIMIT = 1.5
"""An output that takes more than this many seconds of audio per second of wall clock
(over PACE_WINDOW_SECONDS) is no sound card but a null or file device: the workout
would rush by unheard and be logged as done. A real device's first buffer adds < 0.3 s."""
CONFIRM_SECONDS = 8.0
"""How long after the coach's question (*confirm_stop*, *confirm_done*) the command said
again still confirms it."""
ALLOW_UNPACED_ENV = "VOICECOACH_ALLOW_UNPACED_OUTPUT"
"""Set (to anything) by the test rigs, whose unpaced output the tests use on purpose."""


@dataclass(frozen=True)
class _Notice:
    """Say one of the live phrases now (e.g. ``mic_lost``)."""

    phrase_key: str
    keys_from_now: bool = False
    """The microphone is gone: from now on ask for keys ("press p"), not words."""


@dataclass(frozen=True)
class _Question:
    """A spoken command the coach asked about, and until when saying it again confirms it."""

    command: Command
    until: float


@dataclass(frozen=True)
class _Interrupt:
    """End the session at once, without speaking (Ctrl-C)."""


_INTERRUPT = _Interrupt()
_Message = Heard | _Notice | _Interrupt
"""What other threads put in the session's inbox."""


class Outcome(StrEnum):
    """How a session ended."""

    FINISHED = "finished"
    STOPPED = "stopped"


def _engine(heard: Heard) -> dict[str, Any]:
    """The log's ``engine`` field: set for voice commands only."""
    return {"engine": heard.engine} if heard.engine else {}


class TrainingLogLike(Protocol):
    def record(self, session_id: int, event: EventKind, position: Position | None = None,
               detail: dict[str, Any] | None = None) -> int: ...


# ------------------------------------------------------------------ the loop
@dataclass
class _Span:
    """A MARK being played: which cue, and where it ends on the plan clock."""

    index: int
    cue: Cue

    @property
    def end(self) -> float:
        return self.cue.time + self.cue.duration


class CoachSession:
    """Runs one live session of ``timeline`` on ``player``; see the module doc.

    ``speak(text)`` renders a phrase to a clip (a SpeechRenderer's ``render``). ``log``
    and ``session_id`` may be None (nothing logged). Thread-safe entry points:
    :meth:`heard`, :meth:`notice`, :meth:`interrupt`.
    """

    def __init__(self, timeline: Timeline, phrases: Phrases, player: LivePlayer,
                 speak: Callable[[str], np.ndarray], *, log: TrainingLogLike | None = None,
                 session_id: int | None = None, view: LiveView | None = None,
                 mic_level: Callable[[], float | None] | None = None,
                 on_event: Callable[[PlayerEvent], None] | None = None,
                 confirm: bool = True):
        self.timeline, self.phrases, self.player, self.speak = timeline, phrases, player, speak
        self.log, self.session_id = log, session_id
        self.view = view
        self.mic_level = mic_level or (lambda: None)
        self.on_event = on_event  # observer of every player event, in the run thread
        self.confirm = confirm  # spoken stop, and done mid-set, are asked about first
        self._inbox: queue.SimpleQueue[_Message] = queue.SimpleQueue()
        cues = timeline.cues
        # State built from the player's events (only the run thread touches it).
        self.position = Position()
        self.last_instruction = ""
        self.last_said = ""  # the last thing the coach said, counts included (the view)
        self.last_heard = ""
        self.status = "starting"
        self._rep: _Span | None = None
        self._hold: _Span | None = None
        self._rest: _Span | None = None
        self._side: _Span | None = None
        self._phase: _Span | None = None
        self._waiting_gate = -1
        self._next_pending = False  # "next" said during a setup step, before its gate
        self._paused = False
        self._resume_at: float | None = None  # monotonic time to resume the plan
        self._stop_at: float | None = None  # monotonic time the session ends (stop)
        self._asking: _Question | None = None  # a stop or done waiting to be confirmed
        self._gate_since = 0.0
        self._reminded = False
        self._finished = False
        self._interrupted = False
        self._last_view = 0.0
        self._pace: tuple[float, int] | None = None  # (wall, samples played) of the window
        self._unit_marks = [i for i, c in enumerate(cues) if c.kind is CueKind.MARK
                            and c.mark in (MarkKind.REP, MarkKind.HOLD)]
        self.handled: list[tuple[Command, str]] = []  # (command, what it did), for tests
        self._handlers: dict[Command, Callable[[Heard], str]] = {
            Command.NEXT: self._on_next, Command.PAUSE: self._on_pause,
            Command.RESUME: self._on_resume, Command.REPEAT: self._on_repeat,
            Command.DONE: self._on_done, Command.STOP: self._on_stop,
        }

    # -------------------------------------------------------- thread-safe input
    def heard(self, heard: Heard) -> None:
        """A command arrived (any thread)."""
        self._inbox.put(heard)

    def notice(self, phrase_key: str) -> None:
        """Say one of the live phrases now, e.g. ``mic_lost`` (any thread)."""
        self._inbox.put(_Notice(phrase_key))

    def on_keys_only(self, phrase_key: str) -> None:
        """The microphone is gone or never opened: say ``phrase_key`` and from now on ask
        for keys, not words (any thread)."""
        self._inbox.put(_Notice(phrase_key, keys_from_now=True))

    def interrupt(self) -> None:
        """End the session as if "stop" was said, without speaking (Ctrl-C)."""
        self._inbox.put(_INTERRUPT)

    # -------------------------------------------------------- actions
    def say_now(self, text: str, *, interrupt: bool = False) -> float:
        """Say ``text`` over the plan; returns its length in seconds."""
        clip = self.speak(text)
        self.player.say_now(clip, interrupt=interrupt)
        self.last_said = text
        return clip.size / PLAYBACK_RATE

    def say_phrase(self, key: str, *, interrupt: bool = False, **values: object) -> float:
        return self.say_now(self.phrases.say(key, **values), interrupt=interrupt)

    def record(self, event: EventKind, position: Position | None = None,
               **detail: Any) -> None:
        if self.log is None or self.session_id is None:
            return
        self.log.record(self.session_id, event,
                        self.position if position is None else position, detail or None)

    # -------------------------------------------------------- the loop
    def run(self) -> Outcome:
        """Play the session to its end (finished) or until stopped."""
        while True:
            # Each player event is followed by the commands that arrived meanwhile, so a
            # command acts where it was given even when events come in bursts.
            while (event := self.player.get_event(timeout=0)) is not None:
                self._on_player_event(event)
                self._drain_inbox()
            try:
                self._take(self._inbox.get(timeout=LOOP_TICK))
            except queue.Empty:
                pass
            now = time.monotonic()
            if self._interrupted:
                self.player.pause()
                self.record(EventKind.STOPPED, reason="interrupted")
                return self._ended(Outcome.STOPPED)
            if self._resume_at is not None and now >= self._resume_at:
                self._resume_at = None
                self._paused = False
                self.player.resume()
            if self._stop_at is not None and now >= self._stop_at:
                return self._ended(Outcome.STOPPED)
            if self._finished and self._stop_at is None:
                self.record(EventKind.FINISHED)
                return self._ended(Outcome.FINISHED)
            self._remind(now)
            self._refresh_view(now)
            self._check_pace(now)

    def _ended(self, outcome: Outcome) -> Outcome:
        """The last frame of the view says how the session ended (it stayed on
        "counting" after the last rep)."""
        self.status = outcome.value
        self._rep = self._hold = self._rest = self._phase = None
        if self.view is not None and self.view.enabled:
            self.view.update(self.view_state())
        return outcome

    def _drain_inbox(self) -> None:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            self._take(item)

    def _take(self, message: _Message) -> None:
        match message:
            case Heard():
                self._handle(message)
            case _Notice(phrase_key=key, keys_from_now=keys):
                if keys:
                    self.phrases = self.phrases.for_mode(PromptMode.KEYS)
                self.announce(self.phrases.say(key))
            case _Interrupt():
                self._interrupted = True

    # -------------------------------------------------------- player events
    def _on_player_event(self, event: PlayerEvent) -> None:
        if trace_log.isEnabledFor(logging.DEBUG):
            trace("player", kind=event.kind.value, cue=event.cue_index, wall=event.wall,
                  heard_at=event.dac_time + time.monotonic() - self.player.time)
        self._track(event)
        if self.on_event is not None:
            self.on_event(event)

    def _track(self, event: PlayerEvent) -> None:
        kind = event.kind
        if kind is PlayerEventKind.CUE:
            self._on_cue(event.cue_index, event)
        elif kind is PlayerEventKind.GATE_WAITING:
            self._waiting_gate = event.cue_index
            self._gate_since, self._reminded = time.monotonic(), False
            self.status = "waiting for next"
            if self._next_pending:
                self._next_pending = False
                self._release_gate()
        elif kind is PlayerEventKind.GATE_RELEASED:
            self._waiting_gate = -1
            self.status = "playing"
        elif kind is PlayerEventKind.FINISHED:
            self._close_units(math.inf)
            self._finished = True
            self.status = "finished"

    def _on_cue(self, index: int, event: PlayerEvent) -> None:
        cue = self.timeline.cues[index]
        self._close_units(cue.time)
        self.position = cue.position
        if self._side is None and cue.position.set:
            self._side = self._enclosing_side(index)  # started (resumed) inside a side
        if cue.kind is CueKind.SPEECH:
            self.last_said = cue.text
            if not cue.counted and cue.position.rep == 0:
                self.last_instruction = cue.text
        elif cue.kind is CueKind.MARK:
            span = _Span(index, cue)
            if cue.mark is MarkKind.REP:
                self._rep = span
                self.status = "counting"
            elif cue.mark is MarkKind.HOLD:
                self._hold = span
                self.status = "holding"
            elif cue.mark is MarkKind.SIDE:
                self._side = span
            elif cue.mark is MarkKind.PHASE:
                self._phase = span
            elif cue.mark is MarkKind.REST:
                self._rest = span
                self.status = "resting"
            elif cue.mark is MarkKind.STEP:
                self.status = "setup"

    def _close_units(self, now: float) -> None:
        """Log the rep, hold and side that ended by plan time ``now``."""
        eps = 1e-6
        if self._rep is not None and now >= self._rep.end - eps:
            self.record(EventKind.REP_COMPLETED, self._rep.cue.position,
                        side=self._rep.cue.position.side)
            self._rep = None
        if self._hold is not None and now >= self._hold.end - eps:
            self.record(EventKind.HOLD_COMPLETED, self._hold.cue.position)
            self._hold = None
        if self._side is not None and now >= self._side.end - eps:
            self.record(EventKind.SIDE_FINISHED, self._side.cue.position)
            self._side = None
            self._phase = None

    # -------------------------------------------------------- commands
    def _handle(self, heard: Heard) -> None:
        trace("command", **asdict(heard))
        if heard.rejected:
            self.record(EventKind.COMMAND_HEARD, command=heard.command, text=heard.text,
                        source=heard.source, confidence=heard.confidence,
                        echo_db=heard.echo_db, result=heard.rejected, **_engine(heard))
            return
        command = heard.command
        if command is Command.PAUSE_OR_RESUME:
            command = Command.RESUME if self._paused else Command.PAUSE
        self.last_heard = f"{command} ({heard.source}: {heard.text})" if heard.text else command
        if self._stop_at is not None or self._finished:
            return
        asked, self._asking = self._asking, None
        if asked is not None and (asked.command is not command
                                  or time.monotonic() > asked.until):
            asked = None  # another command, or too late: the question lapses
        result = self._handlers[command](heard) if asked is None else self._confirmed(asked)
        self.handled.append((command, result))
        self.last_heard += f" -> {result}"  # an ignored command must not look obeyed
        detail: dict[str, Any] = _engine(heard)
        if heard.echo_db is not None:
            detail["echo_db"] = heard.echo_db
        self.record(EventKind.COMMAND_HEARD, command=command, text=heard.text,
                    source=heard.source, confidence=heard.confidence, result=result,
                    **detail)

    def _on_next(self, heard: Heard) -> str:
        if self._paused:
            return "ignored: paused"
        state = self.player.state()
        if self._waiting_gate >= 0 or state.waiting_at_gate:
            self._release_gate()
            return "step confirmed"
        if state.in_rest:
            self.player.skip_rest()
            self.record(EventKind.REST_SKIPPED)
            return "rest skipped"
        if self.position.step > 0 and self._rep is None:
            self._next_pending = True
            return "step confirmed at its end"
        return "ignored: set runs on tempo"

    def _release_gate(self) -> None:
        gate = self._waiting_gate
        position = self.timeline.cues[gate].position if gate >= 0 else self.position
        self.player.release_gate()
        self._waiting_gate = -1
        self.record(EventKind.STEP_CONFIRMED, position)

    def _on_pause(self, heard: Heard) -> str:
        if self._paused and self._resume_at is None:
            return "ignored: already paused"
        self._hold_plan("paused", "paused")
        return "paused"

    def _hold_plan(self, phrase_key: str, status: str, **detail: Any) -> float:
        """Stop the plan clock until "resume", saying ``phrase_key``; its length in s."""
        self._paused, self._resume_at = True, None
        self.player.pause()
        seconds = self.say_phrase(phrase_key)
        self.status = status
        self.record(EventKind.PAUSED, **detail)
        return seconds

    def _on_resume(self, heard: Heard) -> str:
        if not self._paused or self._resume_at is not None:
            return "ignored: not paused"
        seconds = self.say_phrase("resumed")
        self._resume_at = time.monotonic() + seconds + 0.2
        self.status = "playing"
        self.record(EventKind.RESUMED)
        return "resumed"

    def _on_repeat(self, heard: Heard) -> str:
        if not self.last_instruction:
            return "ignored: nothing said yet"
        self.say_now(self.last_instruction, interrupt=True)
        return "repeated"

    def _on_done(self, heard: Heard) -> str:
        state = self.player.state()
        if self._side is not None and (self._rep is not None or self._hold is not None
                                       or state.plan_time < self._side.end):
            if self._needs_confirmation(heard):
                return self._ask(heard.command, "confirm_done")
            target = self._index_after(self._side)
            early = self._side.cue.position
            self._rep = self._hold = self._phase = None
            self._side = None
            self.status = "playing"
            self.record(EventKind.SIDE_FINISHED, early, early=True)
            self._jump_with_phrase(target, "finishing_early")
            return "set finished early"
        if not self._units_after(state.cue_index):
            finish = self._finish_index()
            if finish is not None and finish > state.cue_index:
                self._jump_with_phrase(finish, None)
            return "finishing"
        return "ignored: no set running"

    def _on_stop(self, heard: Heard) -> str:
        if self._needs_confirmation(heard):
            return self._ask(heard.command, "confirm_stop")
        self.player.pause()
        seconds = self.say_phrase("stopping")
        self._stop_at = time.monotonic() + seconds + 0.3
        self.status = "stopping"
        self.record(EventKind.STOPPED)
        return "stopped"

    # -------------------------------------------------------- confirmation
    def _needs_confirmation(self, heard: Heard) -> bool:
        return self.confirm and heard.source == "voice"

    def _ask(self, command: Command, phrase_key: str) -> str:
        """Pause the plan and ask whether ``command`` was meant; see the module doc."""
        seconds = self._hold_plan(phrase_key, f"{command}? (say it again, or resume)",
                                  asking=command.value)
        self._asking = _Question(command, time.monotonic() + seconds + CONFIRM_SECONDS)
        return "asked to confirm"

    def _confirmed(self, question: _Question) -> str:
        """The command asked about, said again: do it, as from where the plan paused."""
        self._paused = False
        result = self._handlers[question.command](Heard(question.command, source="confirmed"))
        if not self._paused and self._stop_at is None:
            self.player.resume()  # nothing else holds the plan now
        return result

    # -------------------------------------------------------- helpers
    def announce(self, *texts: str) -> None:
        """Say ``texts`` one after another while the plan holds, then carry on.

        Call before :meth:`run` or from its thread (other threads use :meth:`notice`).
        """
        gap = np.zeros(int(BREATH * PLAYBACK_RATE), dtype=np.float32)
        parts: list[np.ndarray] = []
        for text in texts:
            parts += [self.speak(text), gap]
        clip = np.concatenate(parts) if parts else gap
        self.player.pause()
        self.player.say_now(clip, interrupt=True)
        hold_until = time.monotonic() + clip.size / PLAYBACK_RATE + 0.2
        if not self._paused or self._resume_at is not None:
            self._paused = True
            self._resume_at = max(self._resume_at or 0.0, hold_until)

    def _jump_with_phrase(self, target: int, phrase_key: str | None) -> None:
        """Continue at cue ``target``, first saying a phrase while the plan holds."""
        self.player.seek(min(target, len(self.timeline.cues) - 1))
        if phrase_key is not None:
            self.announce(self.phrases.say(phrase_key))

    def _index_after(self, span: _Span) -> int:
        """The first cue at or after the end of a MARK's span."""
        cues = self.timeline.cues
        for j in range(span.index + 1, len(cues)):
            if cues[j].time >= span.end - 1e-9:
                return j
        return len(cues) - 1

    def _enclosing_side(self, index: int) -> _Span | None:
        """The SIDE mark whose span holds cue ``index``: a session that starts at a rep
        (``run --resume``) never plays its side's mark, yet is inside that side."""
        cues = self.timeline.cues
        time_ = cues[index].time
        for j in range(index - 1, -1, -1):
            cue = cues[j]
            if cue.kind is CueKind.MARK and cue.mark in (MarkKind.SIDE, MarkKind.EXERCISE):
                if cue.mark is MarkKind.SIDE and cue.time <= time_ < cue.time + cue.duration:
                    return _Span(j, cue)
                return None
        return None

    def _units_after(self, index: int) -> bool:
        return any(i > index for i in self._unit_marks)

    def _finish_index(self) -> int | None:
        """The closing "finish" earcon of the workout (what "done" jumps to at the end)."""
        cues = self.timeline.cues
        for j in range(len(cues) - 1, -1, -1):
            if cues[j].kind is CueKind.EARCON and cues[j].text == "finish":
                return j
        return None

    def _check_pace(self, now: float) -> None:
        """Stop (DeviceError, the session logged as stopped) when the output plays
        faster than real time: see :data:`PACE_LIMIT`."""
        played = self.player.samples_played
        if self._pace is None:
            self._pace = (now, played)
            return
        since, before = self._pace
        if now - since < PACE_WINDOW_SECONDS:
            return
        self._pace = (now, played)
        ratio = (played - before) / self.player.rate / (now - since)
        if ratio <= PACE_LIMIT or os.environ.get(ALLOW_UNPACED_ENV):
            return
        self.player.pause()
        self.record(EventKind.STOPPED, reason="unpaced output", speed=round(ratio, 1))
        name = self.player.device.name
        raise DeviceError(
            f"audio output {name!r} plays {ratio:.0f}x faster than real time: it is no "
            "sound card (a null or file device?), so nobody hears the coach; session "
            "stopped (run --resume carries on). Pick a real one with --output (see "
            "`voicecoach devices`), or make an audio file with `voicecoach export`")

    def _remind(self, now: float) -> None:
        if (self._waiting_gate >= 0 and not self._paused and not self._reminded
                and now - self._gate_since > REMINDER_SECONDS):
            self._reminded = True
            self.say_phrase("waiting")

    def _refresh_view(self, now: float) -> None:
        if self.view is None or not self.view.enabled or now - self._last_view < VIEW_INTERVAL:
            return
        self._last_view = now
        self.view.update(self.view_state())

    def view_state(self) -> ViewState:
        """A snapshot for the live view.

        The rep shows only while a rep runs (after "done" the position is past the
        side's last rep, which read as "6/6"); a rest or hold shows its countdown; a
        status whose unit has ended reads "playing", not "counting" or "resting".
        """
        p = self.position
        plan = self.player.state().plan_time
        progress, phase = 0.0, p.phase if self._rep is not None else ""
        if self._phase is not None and self._phase.cue.duration > 0:
            progress = (plan - self._phase.cue.time) / self._phase.cue.duration
        status = self.status
        timed = {"resting": self._rest, "holding": self._hold}.get(status)
        if status in ("resting", "holding"):
            if timed is not None and plan < timed.end:
                status = f"{status}, {math.ceil(timed.end - plan - 1e-6):d} s left"
                phase = "rest" if status.startswith("resting") else "hold"
                progress = (plan - timed.cue.time) / max(timed.cue.duration, 1e-9)
            else:
                status = "playing"
        elif status == "counting" and self._rep is None:
            status = "playing"
        elif status == "playing" and (self._rep is not None or self._hold is not None):
            status = "counting" if self._rep is not None else "holding"  # resumed mid-set
        return ViewState(
            workout=self.timeline.title, exercise=p.exercise_name,
            step_text=self.last_said or self.last_instruction,
            side=self.phrases.side(p.side) if p.side else "",
            rep=p.rep if self._rep is not None else 0,
            reps=p.reps if self._rep is not None else 0,
            phase=phase, phase_progress=progress,
            status=status, last_command=self.last_heard,
            mic_level_db=self.mic_level(), hint=KEYS_HELP)
