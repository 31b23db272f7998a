"""``list``, ``show`` and ``validate``: look at workouts before doing them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from voicecoach.cli._options import add_workout_arguments, plan_request
from voicecoach.extras import import_plots
from voicecoach.planning.phrases import load_phrases
from voicecoach.planning.plan import Plan, make_plan
from voicecoach.planning.timeline import CueKind, MarkKind
from voicecoach.planning.workout import (
    Exercise,
    WorkoutError,
    builtin_workouts,
    load_workout,
    parse_workout,
    resolve_workout,
)
from voicecoach.tomlfile import read_toml


def register(subparsers: argparse._SubParsersAction) -> None:
    listing = subparsers.add_parser("list", help="list the built-in workouts")
    listing.add_argument("--lang", default="en", help="language (en, ko)")
    listing.set_defaults(handler=run_list)

    show = subparsers.add_parser("show", help="show a workout's plan, phases and total time")
    add_workout_arguments(show)
    show.add_argument("--gap", type=float, default=3.0,
                      help="seconds an export pauses at each wait for 'next' (default 3)")
    show.add_argument("--plot", type=Path, metavar="FILE.png",
                      help="also draw the timeline to a PNG or SVG file")
    show.set_defaults(handler=run_show)

    validate = subparsers.add_parser("validate", help="check a workout file and report problems")
    validate.add_argument("file", type=Path, metavar="FILE")
    validate.add_argument("--lang", default="en", help="language of the coach's phrases")
    validate.set_defaults(handler=run_validate)


def clock(seconds: float) -> str:
    """``m:ss`` for a length of time."""
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def run_list(args: argparse.Namespace) -> int:
    load_phrases(args.lang)  # an unknown language fails here with the languages there are
    table = Table(title=f"Built-in workouts ({args.lang})")
    for column in ("name", "title", "exercises", "description"):
        table.add_column(column)
    for name in builtin_workouts(args.lang):
        workout = load_workout(name, args.lang)
        table.add_row(name, workout.name, str(len(workout.exercises)), workout.description)
    Console().print(table)
    return 0


def describe_exercise(exercise: Exercise) -> str:
    """One line saying how an exercise is done."""
    sides = " + ".join(exercise.sides) if exercise.sides else "no sides"
    if exercise.is_hold:
        work = f"hold {exercise.hold_seconds:g} s"
    else:
        work = f"{exercise.reps} reps x {exercise.rep_seconds:g} s"
    rests = [f"{label} {value:g} s" for label, value in (
        ("between sides", exercise.rest_between_sides),
        ("between sets", exercise.rest_between_sets), ("after", exercise.rest_after)) if value]
    rest = f"; rest {', '.join(rests)}" if rests else ""
    return (f"{exercise.sets} set(s), {sides}, {work}, {len(exercise.setup)} setup step(s)"
            f"{rest}")


def print_plan(plan: Plan, gap: float, console: Console) -> None:
    workout, timeline = plan.workout, plan.timeline
    console.print(f"[bold]{workout.name}[/bold]  ({workout.source})")
    if workout.description:
        console.print(workout.description)
    if workout.rounds > 1:
        console.print(f"{workout.rounds} rounds, {workout.rest_between_rounds:g} s rest between")
    for number, exercise in enumerate(workout.exercises, start=1):
        console.print(f"\n[bold]{number}. {exercise.name}[/bold]: {describe_exercise(exercise)}")
        for step, text in enumerate(exercise.setup, start=1):
            console.print(f"   step {step}: {text}")
        if exercise.phases:
            table = Table(box=None, padding=(0, 2), show_header=True)
            for column in ("phase", "kind", "seconds", "counted", "says"):
                table.add_column(column)
            for phase in exercise.phases:
                counted = (f"{phase.count.value}, every {phase.count_every:g} s"
                           if phase.beats else "-")
                table.add_row(phase.name, phase.kind.value, f"{phase.seconds:g}", counted,
                              " | ".join((phase.say, *phase.say_next)))
            console.print(table)
    sides = [c for c in timeline.cues if c.kind is CueKind.MARK and c.mark is MarkKind.SIDE]
    console.print(f"\nTotal: {clock(timeline.duration)} of coaching, plus {timeline.gates} "
                  f"wait(s) for 'next' (an export with --gap {gap:g} lasts "
                  f"{clock(timeline.total_seconds(gap))}); {len(sides)} side/set block(s), "
                  f"{len(timeline.speech_texts())} distinct phrases.")
    for first, second in timeline.crowded_speech():
        console.print(f"[yellow]warning:[/yellow] at {first.time:.1f} s, '{first.text}' "
                      f"({first.duration:.1f} s) is still speaking when '{second.text}' starts "
                      f"at {second.time:.1f} s; shorten the text or lengthen the phase")


def run_show(args: argparse.Namespace) -> int:
    # Before the plan is printed: a missing extra says so first.
    plots = import_plots() if args.plot else None
    plan = make_plan(plan_request(args))
    print_plan(plan, args.gap, Console())
    if plots is not None:
        plots.plot_timeline(plan.timeline, args.plot)
        print(f"timeline drawn to {args.plot}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    load_phrases(args.lang)
    path = resolve_workout(str(args.file), args.lang)
    try:
        workout = parse_workout(read_toml(path), path)
    except WorkoutError as error:  # one line per problem, as the README promises
        for problem in error.problems:
            print(f"voicecoach: error: {problem}", file=sys.stderr)
        return error.exit_code
    reps = sum(e.reps * e.sets * max(1, len(e.sides)) for e in workout.exercises)
    print(f"{path}: OK: '{workout.name}', {len(workout.exercises)} exercise(s), "
          f"{reps} reps in all, {workout.rounds} round(s)")
    return 0
