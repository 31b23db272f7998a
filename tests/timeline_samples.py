"""Hand-built timelines for the log, history and plot tests.

Built straight from the dataclasses in voicecoach.planning.timeline, the way the compiler lays
them out: WORKOUT mark, per exercise EXERCISE mark, setup STEPs (speech then gate),
per set and side a SIDE mark, REPs made of PHASE marks with counted speech on the
lowering, RESTs between sides, timed HOLDs, an END mark.
"""

from __future__ import annotations

from dataclasses import dataclass

from voicecoach.planning.timeline import Cue, CueKind, MarkKind, Position, Timeline

PHASES = (("drive up", "concentric", 1.0), ("top pause", "isometric", 1.0),
          ("lower", "eccentric", 3.0))
COUNTS = ("one", "two", "three", "four", "five", "six")


@dataclass(frozen=True)
class Plan:
    """One exercise of a sample workout."""

    name: str
    sides: tuple[str, ...] = ("",)
    sets: int = 1
    reps: int = 3
    steps: int = 1
    hold: float = 0.0  # > 0: a timed hold per side instead of reps
    rest: float = 20.0


class _Builder:
    def __init__(self) -> None:
        self.t = 0.0
        self.cues: list[Cue] = []

    def mark(self, mark: MarkKind, text: str, duration: float, position: Position) -> int:
        self.cues.append(Cue(self.t, CueKind.MARK, text, duration, mark, position))
        return len(self.cues) - 1

    def say(self, text: str, position: Position, seconds: float = 1.0,
            counted: bool = False, advance: bool = True) -> None:
        self.cues.append(Cue(self.t, CueKind.SPEECH, text, seconds, None, position,
                             counted))
        if advance:
            self.t += seconds

    def gate(self, position: Position) -> None:
        self.cues.append(Cue(self.t, CueKind.GATE, "next", 0.0, None, position))

    def close(self, index: int) -> None:
        """Set the duration of the MARK at ``index`` to end now."""
        cue = self.cues[index]
        self.cues[index] = Cue(cue.time, cue.kind, cue.text, self.t - cue.time, cue.mark,
                               cue.position, cue.counted)


def build(plans: tuple[Plan, ...], title: str = "Sample workout") -> Timeline:
    """A compiled-looking timeline of ``plans``."""
    b = _Builder()
    workout = b.mark(MarkKind.WORKOUT, title, 0.0, Position())
    b.say(f"Let's begin: {title}.", Position(), 2.0)
    for ex, plan in enumerate(plans):
        base = Position(exercise=ex, exercise_name=plan.name)
        exercise = b.mark(MarkKind.EXERCISE, plan.name, 0.0, base)
        b.say(f"{plan.name}.", base, 1.0)
        for step in range(1, plan.steps + 1):
            pos = Position(exercise=ex, exercise_name=plan.name, step=step)
            mark = b.mark(MarkKind.STEP, f"step {step}", 0.0, pos)
            b.say(f"Setup step {step} of {plan.name}.", pos, 2.0)
            b.close(mark)
            b.gate(pos)
        sides = [(s, side) for s in range(1, plan.sets + 1) for side in plan.sides]
        for n, (set_no, side) in enumerate(sides):
            spos = Position(exercise=ex, exercise_name=plan.name, set=set_no, side=side,
                            reps=0 if plan.hold else plan.reps)
            title_side = f"{plan.name}: {side} side" if side else plan.name
            side_mark = b.mark(MarkKind.SIDE, title_side, 0.0, spos)
            b.say(f"{side or 'Both'} side.", spos, 1.5)
            if plan.hold:
                hpos = Position(exercise=ex, exercise_name=plan.name, set=set_no,
                                side=side, rep=1, reps=1, phase="hold",
                                phase_kind="isometric")
                hold = b.mark(MarkKind.HOLD, "hold", plan.hold, hpos)
                b.say("Hold. Go.", hpos, 1.0, advance=False)
                b.t += plan.hold
                b.close(hold)
            for rep in range(1, (0 if plan.hold else plan.reps) + 1):
                rpos = Position(exercise=ex, exercise_name=plan.name, set=set_no,
                                side=side, rep=rep, reps=plan.reps)
                rep_mark = b.mark(MarkKind.REP, f"rep {rep}", 0.0, rpos)
                for phase, kind, seconds in PHASES:
                    ppos = Position(exercise=ex, exercise_name=plan.name, set=set_no,
                                    side=side, rep=rep, reps=plan.reps, phase=phase,
                                    phase_kind=kind)
                    start = b.t
                    b.mark(MarkKind.PHASE, phase, seconds, ppos)
                    if kind == "concentric":
                        b.say(f"Rep {COUNTS[rep - 1]}, up.", ppos, 0.6, advance=False)
                    if kind == "eccentric":
                        for beat in range(int(seconds)):
                            b.t = start + beat
                            b.say(COUNTS[beat], ppos, 0.4, counted=True, advance=False)
                    b.t = start + seconds
                b.close(rep_mark)
            b.close(side_mark)
            if n + 1 < len(sides):
                rest = b.mark(MarkKind.REST, "rest", plan.rest, spos)
                b.say(f"Rest, {plan.rest:g} seconds.", spos, 1.5, advance=False)
                b.t += plan.rest
                b.close(rest)
                b.say("Get ready.", spos, 1.0)
        b.close(exercise)
    b.mark(MarkKind.END, "end", 0.0, Position())
    b.say("Workout complete.", Position(), 1.5)
    b.close(workout)
    return Timeline(title=title, language="en", cues=tuple(b.cues))


SMALL = (Plan("Bench press", sets=2, reps=3, steps=2),
         Plan("Single-arm row", sides=("left", "right"), reps=3),
         Plan("Side plank", sides=("left", "right"), hold=15.0, steps=0))


def small() -> Timeline:
    """Three exercises: sets, sides, setup steps, rests and holds."""
    return build(SMALL)
