"""A workout compiled to an ordered list of timed cues.

The timeline is the single answer to "when does each cue happen". Times are on the
*plan clock*: seconds from the start, with every gate (a wait for "next") taking zero
seconds. The exporter turns each gate into a fixed pause (:meth:`Timeline.scheduled`);
the live player waits at it for the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from voicecoach.planning.phrases import Phrases
from voicecoach.planning.workout import CountStyle, Exercise, Phase, Workout


class CueKind(StrEnum):
    """What a cue does when its time comes."""

    SPEECH = "speech"  # say `text`; `duration` is the rendered speech length
    EARCON = "earcon"  # play the sound named `text` from audio/
    GATE = "gate"  # live: wait for "next"; export: a pause of `--gap` seconds
    MARK = "mark"  # a structural marker (see MarkKind); plays nothing


class MarkKind(StrEnum):
    """What a MARK cue marks the start of; `duration` says how long it lasts."""

    WORKOUT = "workout"
    EXERCISE = "exercise"
    STEP = "step"  # a setup step (spoken, then gated)
    SIDE = "side"  # one side (or the only side) of one set of an exercise
    SET = "set"
    REP = "rep"
    PHASE = "phase"  # one phase of a rep: drive up, top pause, lowering, ...
    HOLD = "hold"  # a timed isometric hold
    REST = "rest"  # may be skipped live with "next"
    END = "end"  # the workout's last moment


@dataclass(frozen=True)
class Position:
    """Where in the workout a cue belongs; used for display, logging, chapters, resume."""

    exercise: int = -1  # index into Workout.exercises, -1 before the first
    exercise_name: str = ""
    round: int = 1  # 1-based round of the whole workout
    set: int = 0  # 1-based set of the exercise, 0 outside sets (setup steps)
    side: str = ""  # "left", "right", or "" for exercises without sides
    rep: int = 0  # 1-based rep within the side, 0 outside reps
    reps: int = 0  # reps in this side/set
    phase: str = ""  # phase name, e.g. "lower"
    phase_kind: str = ""  # concentric | isometric | eccentric | transition
    step: int = 0  # 1-based setup step, 0 outside setup


@dataclass(frozen=True)
class Cue:
    """One timed event of the plan."""

    time: float  # seconds on the plan clock (gates count as zero)
    kind: CueKind
    text: str = ""  # SPEECH: words to say; EARCON: sound name; GATE/MARK: label
    duration: float = 0.0  # SPEECH: speech length; MARK: length of what it marks
    mark: MarkKind | None = None  # only for MARK cues
    position: Position = field(default_factory=Position)
    counted: bool = False  # SPEECH: a tempo count (its onset is the beat)


@dataclass(frozen=True)
class ScheduledCue:
    """A cue with its time on an export's clock, after gates became pauses."""

    time: float
    cue: Cue


@dataclass(frozen=True)
class Chapter:
    """A span of the exported audio, one per exercise side (or exercise)."""

    title: str
    start: float
    end: float


@dataclass(frozen=True)
class Timeline:
    """Ordered cues of one compiled workout, in one language."""

    title: str
    language: str
    cues: tuple[Cue, ...]

    @property
    def duration(self) -> float:
        """Plan-clock length: when the last cue (speech included) has finished."""
        return max((c.time + (c.duration if c.kind is not CueKind.MARK else 0.0)
                    for c in self.cues), default=0.0)

    @property
    def gates(self) -> int:
        """How many times the live session waits for "next"."""
        return sum(1 for c in self.cues if c.kind is CueKind.GATE)

    def speech_texts(self) -> list[str]:
        """Every distinct text spoken, in first-use order (what to synthesise)."""
        return list(dict.fromkeys(c.text for c in self.cues if c.kind is CueKind.SPEECH))

    def scheduled(self, gap: float) -> list[ScheduledCue]:
        """Cue times when every gate becomes a pause of ``gap`` seconds."""
        result: list[ScheduledCue] = []
        shift = 0.0
        for cue in self.cues:
            result.append(ScheduledCue(cue.time + shift, cue))
            if cue.kind is CueKind.GATE:
                shift += gap
        return result

    def total_seconds(self, gap: float) -> float:
        """Length of an export with ``gap``-second pauses at gates."""
        return self.duration + gap * self.gates

    def chapters(self, gap: float) -> list[Chapter]:
        """One chapter per exercise side (per exercise when it has no sides).

        An exercise with setup steps keeps a chapter of its own, named after it, for
        the setup (and, first, the workout's intro), so a side's chapter starts with
        that side; without setup the exercise's chapter becomes its first side's.
        """
        scheduled = self.scheduled(gap)
        end_of_all = self.total_seconds(gap)
        starts: list[tuple[float, str]] = []
        first_side = False  # the next SIDE mark is its exercise's first
        setup = False  # the current exercise read setup steps before its first side
        for item in scheduled:
            cue = item.cue
            if cue.kind is not CueKind.MARK:
                continue
            if cue.mark is MarkKind.EXERCISE:
                starts.append((item.time, cue.text))
                first_side, setup = True, False
            elif cue.mark is MarkKind.STEP and first_side:
                setup = True
            elif cue.mark is MarkKind.SIDE and cue.position.side:
                if first_side and not setup:  # the exercise's chapter becomes the side's
                    starts[-1] = (starts[-1][0], cue.text)
                else:
                    starts.append((item.time, cue.text))
                first_side = False
        merged = starts
        if merged and merged[0][0] > 0:
            merged[0] = (0.0, merged[0][1])
        return [Chapter(title, start, merged[i + 1][0] if i + 1 < len(merged) else end_of_all)
                for i, (start, title) in enumerate(merged)]

    def crowded_speech(self) -> list[tuple[Cue, Cue]]:
        """Pairs of speech cues where the first is still talking when the next begins."""
        speech = [c for c in self.cues if c.kind is CueKind.SPEECH]
        return [(a, b) for a, b in zip(speech, speech[1:]) if a.time + a.duration > b.time + 1e-6]

    def resumed_at(self, index: int) -> Timeline:
        """The timeline from cue ``index`` on, shifted to start at zero."""
        if not self.cues[index:]:
            return replace(self, cues=())
        start = self.cues[index].time
        return replace(self, cues=tuple(replace(c, time=c.time - start)
                                        for c in self.cues[index:]))


BREATH = 0.4
"""Seconds of silence between two sentences spoken one after the other."""
EARCON_LEAD = 0.5
"""Seconds from an earcon to the speech or movement that follows it."""
TICK_LEAD = 0.12
"""Seconds from a rep's tick to its spoken cue, when the first phase is not counted."""
COUNTDOWN = 3
"""Rests and holds end with a spoken countdown of this many seconds."""
GET_READY = 5.0
"""Seconds before a rest ends that the coach says "get ready"."""

SpeechSeconds = Callable[[str], float]


class _Builder:
    """Appends cues on the plan clock; speech advances the clock by its length."""

    def __init__(self, phrases: Phrases, speech_seconds: SpeechSeconds):
        self.phrases, self.speech_seconds = phrases, speech_seconds
        self.cues: list[Cue] = []
        self.now = 0.0
        self.position = Position()

    def mark(self, kind: MarkKind, label: str, duration: float = 0.0, at: float | None = None,
             **position: Any) -> int:
        """Add a MARK (and move the position); returns its index to set its duration later."""
        self.position = replace(self.position, **position)
        self.cues.append(Cue(self.now if at is None else at, CueKind.MARK, label, duration,
                             kind, self.position))
        return len(self.cues) - 1

    def close(self, index: int) -> None:
        """Set a MARK's duration to end now."""
        cue = self.cues[index]
        self.cues[index] = replace(cue, duration=self.now - cue.time)

    def speak(self, text: str, at: float | None = None, counted: bool = False,
              advance: bool = True) -> None:
        """Say ``text`` at ``at`` (default now); sequential speech moves the clock past it."""
        time = self.now if at is None else at
        length = self.speech_seconds(text)
        self.cues.append(Cue(time, CueKind.SPEECH, text, length, None, self.position, counted))
        if advance:
            self.now = max(self.now, time + length + BREATH)

    def say(self, key: str, **values: object) -> None:
        self.speak(self.phrases.say(key, **values))

    def just_introduced(self, name: str) -> bool:
        """Whether the last words spoken already named ``name`` (the workout's title
        often is its one exercise's name: said twice in a row, it sounds like a glitch)."""
        spoken = [c.text for c in self.cues if c.kind is CueKind.SPEECH]
        return bool(spoken) and name.casefold() in spoken[-1].casefold()

    def earcon(self, name: str, at: float | None = None, lead: float = EARCON_LEAD) -> None:
        time = self.now if at is None else at
        self.cues.append(Cue(time, CueKind.EARCON, name, 0.0, None, self.position))
        if at is None:
            self.now += lead

    def gate(self, label: str) -> None:
        self.earcon("ready", lead=0.0)
        self.cues.append(Cue(self.now, CueKind.GATE, label, 0.0, None, self.position))

    def countdown(self, end: float) -> None:
        """Counted "three, two, one" finishing one second before ``end``."""
        for k in range(COUNTDOWN, 0, -1):
            self.speak(self.phrases.count(k), at=end - k, counted=True, advance=False)

    def rest(self, seconds: float) -> None:
        """A rest the live session may skip with "next", with spoken time calls."""
        if seconds <= 0:
            return
        index = self.mark(MarkKind.REST, "rest", rep=0, phase="", phase_kind="")
        start = self.now
        self.speak(self.phrases.say("rest", seconds=_whole(seconds)), advance=False)
        end = max(start + seconds, self.now)
        if seconds >= GET_READY + COUNTDOWN + 3:
            self.speak(self.phrases.say("rest_over"), at=end - GET_READY - 1, advance=False)
            self.countdown(end)
        self.now = end
        self.close(index)

    def reps(self, exercise: Exercise) -> None:
        """Every rep of one side: phases on tempo, counted phases one count per beat."""
        # The rep number rides on the first uncounted phase, so it never crowds a count.
        announce = next((i for i, p in enumerate(exercise.phases)
                         if p.count is CountStyle.NONE), None)
        for rep in range(1, exercise.reps + 1):
            rep_index = self.mark(MarkKind.REP, f"rep {rep}", rep=rep)
            for number, phase in enumerate(exercise.phases):
                start = self.now
                phase_index = self.mark(MarkKind.PHASE, phase.name, phase.seconds,
                                        phase=phase.name, phase_kind=phase.kind.value)
                say = phase.say
                if number == announce:
                    template = "last_rep_cue" if rep == exercise.reps > 1 else "rep_cue"
                    say = self.phrases.say(template, n=rep, count=self.phrases.count(rep),
                                           say=phase.say)
                    self.earcon("tick", lead=0.0)
                    start += TICK_LEAD
                for beat, text in enumerate(self.beat_texts(phase, say)):
                    if text:
                        self.speak(text, at=start + beat * phase.count_every,
                                   counted=phase.count is not CountStyle.NONE, advance=False)
                self.now = self.cues[phase_index].time + phase.seconds
            self.close(rep_index)

    def beat_texts(self, phase: Phase, say: str) -> list[str]:
        """What is said on each beat of a phase (one entry for an uncounted phase)."""
        beats = phase.beats
        if beats == 0:
            return [say]
        if phase.count is CountStyle.UP:
            numbers = range(1, beats + 1)
        else:
            numbers = range(beats, 0, -1)
        words = [self.phrases.count(n) for n in numbers]
        if say:
            words[0] = say
        for beat, text in enumerate(phase.say_next[:beats - 1], start=1):
            words[beat] = text  # the rest of a cue too long for one beat
        return words

    def hold(self, exercise: Exercise) -> None:
        """A timed hold: time calls every ``hold_call_every`` s and a final countdown."""
        self.say("hold_start", seconds=_whole(exercise.hold_seconds))
        self.earcon("start")
        index = self.mark(MarkKind.HOLD, "hold", exercise.hold_seconds, phase="hold",
                          phase_kind="isometric")
        start, seconds = self.now, exercise.hold_seconds
        every = exercise.hold_call_every
        if every > 0:
            left = seconds - every
            while left > COUNTDOWN + 1:
                self.speak(self.phrases.say("hold_remaining", seconds=_whole(left)),
                           at=start + seconds - left, advance=False)
                left -= every
        if seconds > COUNTDOWN:
            self.countdown(start + seconds)
        self.now = start + seconds
        self.close(index)
        self.earcon("finish", lead=0.0)
        self.say("hold_over")


def _whole(seconds: float) -> int | float:
    """Seconds as said aloud: whole numbers without a decimal point."""
    return int(seconds) if float(seconds).is_integer() else round(seconds, 1)


def compile_timeline(workout: Workout, phrases: Phrases,
                     speech_seconds: SpeechSeconds) -> Timeline:
    """Compile a workout into its timeline.

    ``speech_seconds(text)`` gives the length of ``text`` as the speech engine renders
    it: sentences spoken one after another are placed end to end, while tempo counts
    sit on their beats whatever their length.
    """
    b = _Builder(phrases, speech_seconds)
    workout_index = b.mark(MarkKind.WORKOUT, workout.name)
    b.earcon("start")
    b.say("workout_start", workout=workout.name)
    for round_number in range(1, workout.rounds + 1):
        if workout.rounds > 1:
            b.position = replace(b.position, round=round_number)
            b.say("round_start", n=round_number, total=workout.rounds)
        for number, exercise in enumerate(workout.exercises):
            _compile_exercise(b, number, exercise, first_round=round_number == 1)
            last = number == len(workout.exercises) - 1
            if not last:
                b.rest(exercise.rest_after)
        if round_number < workout.rounds:
            b.rest(workout.rest_between_rounds)
    b.earcon("finish")
    b.say("workout_done")
    b.close(workout_index)
    b.mark(MarkKind.END, "end", rep=0, phase="", phase_kind="")
    ordered = sorted(b.cues, key=lambda cue: cue.time)  # stable: same-time cues keep order
    return Timeline(workout.name, phrases.language, tuple(ordered))


def _compile_exercise(b: _Builder, number: int, exercise: Exercise, first_round: bool) -> None:
    exercise_index = b.mark(MarkKind.EXERCISE, exercise.name, exercise=number,
                            exercise_name=exercise.name, set=0, side="", rep=0, reps=0,
                            phase="", phase_kind="", step=0)
    if not (number == 0 and first_round and b.just_introduced(exercise.name)):
        b.say("exercise_start", exercise=exercise.name)
    if first_round:
        tip_after = (len(exercise.setup) if exercise.tip_after_step is None
                     else exercise.tip_after_step)
        for step, text in enumerate(exercise.setup, start=1):
            b.mark(MarkKind.STEP, f"step {step}", step=step)
            if exercise.tip and step - 1 == tip_after:  # leads into the step it precedes
                b.speak(exercise.tip)
            b.speak(text)
            b.gate(f"step {step}")
        if exercise.tip and tip_after == len(exercise.setup):
            b.speak(exercise.tip)
    b.position = replace(b.position, step=0)
    sides = exercise.sides or ("",)
    for set_number in range(1, exercise.sets + 1):
        set_index = b.mark(MarkKind.SET, f"set {set_number}", set=set_number)
        if exercise.sets > 1:
            b.say("set_start", n=set_number, total=exercise.sets)
        for side_number, side in enumerate(sides):
            if side_number > 0:
                b.say("switch_sides")
                b.earcon("switch")
                b.rest(exercise.rest_between_sides)
            _compile_side(b, exercise, side)
        b.close(set_index)
        if set_number < exercise.sets:
            b.rest(exercise.rest_between_sets)
    b.say("exercise_done", exercise=exercise.name)
    b.close(exercise_index)


def _compile_side(b: _Builder, exercise: Exercise, side: str) -> None:
    phrases = b.phrases
    label = (phrases.say("chapter_side", exercise=exercise.name, side=phrases.side(side))
             if side else exercise.name)
    side_index = b.mark(MarkKind.SIDE, label, side=side, rep=0, reps=exercise.reps,
                        phase="", phase_kind="")
    if exercise.is_hold:
        if side:
            b.speak(phrases.side(side))
    else:
        if side:
            b.say("side_start", side=phrases.side(side), reps=exercise.reps)
        else:
            b.say("reps_start", reps=exercise.reps)
    if side and exercise.side_cues and side in exercise.side_cues:
        b.speak(exercise.side_cues[side])
    if exercise.is_hold:
        b.hold(exercise)
    else:
        b.earcon("start")
        b.reps(exercise)
    b.close(side_index)
