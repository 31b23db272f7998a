"""Workout files (TOML) loaded into validated, immutable dataclasses.

A workout file is data: loading one parses TOML and nothing else, and reads no file
but the one it is given. Every problem is reported as one line naming the file, the
field (1-based, e.g. ``exercise[1].phase[3].seconds``) and what is wrong. Validation
goes on past a problem, so one run reports every problem in the file
(:class:`WorkoutError` holds them all).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from voicecoach.errors import InputError
from voicecoach.paths import prompts_dir
from voicecoach.tomlfile import read_toml

SIDES = ("left", "right")
MAX_SECONDS = 3600.0


class PhaseKind(StrEnum):
    """The muscle action of a rep phase; decides its colour in plots and logs."""

    CONCENTRIC = "concentric"  # the muscle shortens: drive up
    ISOMETRIC = "isometric"  # no movement: pause at the top
    ECCENTRIC = "eccentric"  # the muscle lengthens under load: the slow lowering
    TRANSITION = "transition"  # resetting between reps


class CountStyle(StrEnum):
    """How a phase is counted aloud, one count every ``count_every`` seconds."""

    NONE = "none"
    UP = "up"  # the phase cue, then "two", "three", ...
    DOWN = "down"  # the phase cue, then counting down to "one"


@dataclass(frozen=True)
class Phase:
    """One part of a rep, e.g. the three-second lowering."""

    name: str
    kind: PhaseKind
    seconds: float
    say: str = ""
    count: CountStyle = CountStyle.NONE
    count_every: float = 1.0
    min_seconds: float = 0.0
    max_seconds: float = MAX_SECONDS
    say_next: tuple[str, ...] = ()
    """Counted phases: said on the beats after the first, in place of their counts
    (``say = ["Lower slowly", "foot still up"]``: a cue too long for one beat, split)."""

    @property
    def beats(self) -> int:
        """How many counts are spoken in this phase."""
        if self.count is CountStyle.NONE:
            return 0
        return max(1, math.floor(self.seconds / self.count_every + 1e-9))


@dataclass(frozen=True)
class Exercise:
    """One exercise: setup steps, then sets of reps (or timed holds) per side."""

    name: str
    setup: tuple[str, ...] = ()
    tip: str = ""
    tip_after_step: int | None = None
    """Setup step the tip follows (0: before the first); None: after the last."""
    sides: tuple[str, ...] = ()
    sets: int = 1
    reps: int = 0
    phases: tuple[Phase, ...] = ()
    hold_seconds: float = 0.0
    hold_call_every: float = 10.0
    side_cues: Mapping[str, str] | None = None
    rest_between_sides: float = 0.0
    rest_between_sets: float = 0.0
    rest_after: float = 0.0

    @property
    def is_hold(self) -> bool:
        """True for a timed isometric hold rather than reps."""
        return self.hold_seconds > 0

    @property
    def rep_seconds(self) -> float:
        """Length of one rep: the sum of its phases."""
        return sum(p.seconds for p in self.phases)


@dataclass(frozen=True)
class Workout:
    """A validated workout, ready to compile into a timeline."""

    name: str
    description: str
    exercises: tuple[Exercise, ...]
    source: Path
    slug: str
    rounds: int = 1
    rest_between_rounds: float = 0.0


class WorkoutError(InputError):
    """A workout file with one or more problems, each a line naming file and field.

    ``str()`` is the first problem (plus how many more), so a command that only loads
    the file still prints one line; ``validate`` prints every line of ``problems``.
    """

    def __init__(self, problems: list[str]):
        self.problems = tuple(problems)
        more = len(problems) - 1
        suffix = (f" (and {more} more problem{'s' if more > 1 else ''}: "
                  f"voicecoach validate lists them)") if more else ""
        super().__init__(problems[0] + suffix)


class _Fields:
    """Reads typed fields from one TOML table, naming file and field in every problem.

    A problem is recorded in the shared ``problems`` list (not raised) and the field
    reads as its default, so validation carries on; ``ok()`` tells checks that combine
    fields whether those fields were valid, so one mistake is reported once.
    """

    def __init__(self, path: Path, where: str, table: Any, allowed: tuple[str, ...],
                 problems: list[str]):
        self.path, self.where, self.problems = path, where, problems
        self.bad: set[str] = set()
        self.is_table = isinstance(table, dict)
        if not self.is_table:
            self.fail("", "expected a table")
            table = {}
        self.table: dict[str, Any] = table
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.fail(key, f"unknown field{hint}; allowed: {', '.join(allowed)}")
                self.bad.update(close)  # the misspelt field is not missing as well

    def fail(self, key: str, problem: str) -> None:
        field = ".".join(part for part in (self.where, key) if part)
        self.bad.add(key)
        self.problems.append(f"{self.path}: {field or 'top level'}: {problem}")

    def ok(self, *keys: str) -> bool:
        """True when none of ``keys`` had a problem."""
        return not self.bad.intersection(keys)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            self.fail(key, "missing; add it as text, e.g. " f'{key} = "..."')
            return ""
        if not isinstance(value, str) or (default is None and not value.strip()):
            self.fail(key, f"expected non-empty text, got {value!r}")
            return default or ""
        return value.strip()

    def number(self, key: str, default: float | None = None, *, low: float = 0.0,
               high: float = MAX_SECONDS) -> float:
        value = self.table.get(key, default)
        fallback = low if default is None else default
        if value is None:
            self.fail(key, "missing; add a number of seconds")
            return fallback
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            self.fail(key, f"expected a number, got {value!r}")
            return fallback
        if not low <= value <= high:
            self.fail(key, f"must be between {low:g} and {high:g}, got {value:g}")
            return fallback
        return float(value)

    def integer(self, key: str, default: int, *, low: int, high: int) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected a whole number, got {value!r}")
            return default
        if not low <= value <= high:
            self.fail(key, f"must be between {low} and {high}, got {value}")
            return default
        return value

    def choice(self, key: str, enum: type[StrEnum], default: StrEnum | None = None) -> Any:
        value = self.table.get(key, default)
        names = ", ".join(member.value for member in enum)
        if value is None:
            self.fail(key, f"missing; one of: {names}")
            return next(iter(enum))
        try:
            return enum(value)
        except ValueError:
            self.fail(key, f"must be one of {names}, got {value!r}")
            return default if default is not None else next(iter(enum))

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, "expected a list of non-empty texts")
            return ()
        return tuple(v.strip() for v in value)


PHASE_FIELDS = ("name", "kind", "seconds", "say", "count", "count_every", "min_seconds",
                "max_seconds")
EXERCISE_FIELDS = ("name", "setup", "tip", "tip_after_step", "sides", "sets", "reps", "phase",
                   "hold_seconds", "hold_call_every", "side_cues", "rest_between_sides",
                   "rest_between_sets",
                   "rest_after")
WORKOUT_FIELDS = ("name", "description", "rounds", "rest_between_rounds", "exercise")


def _parse_phase(path: Path, where: str, table: Any, problems: list[str]) -> Phase:
    fields = _Fields(path, where, table, PHASE_FIELDS, problems)
    seconds = fields.number("seconds")
    low = fields.number("min_seconds", seconds)
    high = fields.number("max_seconds", seconds)
    if fields.ok("seconds", "min_seconds", "max_seconds") and not low <= seconds <= high:
        fields.fail("seconds", f"must lie within min_seconds..max_seconds ({low:g}..{high:g})")
    count = fields.choice("count", CountStyle, CountStyle.NONE)
    count_every = fields.number("count_every", 1.0, low=0.25, high=60.0)
    if (fields.ok("seconds", "count", "count_every") and count is not CountStyle.NONE
            and seconds < count_every):
        fields.fail("count", f"a counted phase needs seconds >= count_every ({count_every:g})")
    say, say_next = "", tuple[str, ...]()
    if not isinstance(fields.table.get("say"), list):
        say = fields.text("say", "")
    else:  # one text per beat, from the first
        parts = fields.texts("say")
        fewest = math.floor(low / count_every + 1e-9)
        if not parts:
            if fields.ok("say"):
                fields.fail("say", "an empty list; give text, or one text per beat")
        elif count is CountStyle.NONE:
            fields.fail("say", "a list (one text per beat) needs a counted phase: "
                        'set count = "up" or "down", or give one text')
        elif fields.ok("min_seconds", "count_every") and len(parts) > max(1, fewest):
            fields.fail("say", f"{len(parts)} texts but the phase has {max(1, fewest)} "
                        f"beat(s) at its shortest ({low:g} s); give at most that many")
        else:
            say, say_next = parts[0], parts[1:]
    return Phase(name=fields.text("name"), kind=fields.choice("kind", PhaseKind),
                 seconds=seconds, say=say, count=count,
                 count_every=count_every, min_seconds=low, max_seconds=high,
                 say_next=say_next)


def _parse_exercise(path: Path, where: str, table: Any, problems: list[str]) -> Exercise:
    fields = _Fields(path, where, table, EXERCISE_FIELDS, problems)
    sides = fields.texts("sides")
    for side in sides:
        if side not in SIDES:
            fields.fail("sides", f"unknown side {side!r}; use [] or a list of: left, right")
    if len(set(sides)) != len(sides):
        fields.fail("sides", "a side is listed twice")
    side_cues = fields.table.get("side_cues")
    if side_cues is not None and fields.ok("sides"):
        cue_fields = _Fields(path, f"{where}.side_cues", side_cues, sides, problems)
        side_cues = {side: cue_fields.text(side) for side in cue_fields.table}
    raw_phases = fields.table.get("phase", [])
    if not isinstance(raw_phases, list):
        fields.fail("phase", "expected [[exercise.phase]] tables")
        raw_phases = []
    before = len(problems)
    phases = tuple(_parse_phase(path, f"{where}.phase[{i}]", t, problems)
                   for i, t in enumerate(raw_phases, start=1))
    phases_ok = len(problems) == before
    names = [p.name for p in phases]
    if phases_ok and len(set(names)) != len(names):
        fields.fail("phase", "two phases share a name; names must be unique per exercise")
    hold = fields.number("hold_seconds", 0.0)
    reps = fields.integer("reps", 0, low=0, high=500)
    if hold and (reps or phases):
        fields.fail("hold_seconds", "an exercise is either a timed hold or reps with phases")
    elif not hold and fields.ok("hold_seconds"):
        if not reps:
            if fields.ok("reps"):
                fields.fail("reps", "missing; give reps (with phases) or hold_seconds")
        elif not phases and fields.ok("phase"):
            fields.fail("phase", "an exercise with reps needs at least one [[exercise.phase]]")
        elif phases_ok and phases and sum(p.seconds for p in phases) <= 0:
            fields.fail("phase", "the phases of a rep add up to zero seconds")
    setup, tip = fields.texts("setup"), fields.text("tip", "")
    tip_after_step = None
    if "tip_after_step" in fields.table:
        tip_after_step = fields.integer("tip_after_step", len(setup), low=0, high=len(setup))
        if not tip and fields.ok("tip"):
            fields.fail("tip_after_step", "there is no tip to place; add tip = \"...\"")
    return Exercise(
        name=fields.text("name"), setup=setup, tip=tip, tip_after_step=tip_after_step,
        sides=sides, sets=fields.integer("sets", 1, low=1, high=50), reps=reps,
        phases=phases, hold_seconds=hold,
        hold_call_every=fields.number("hold_call_every", 10.0, low=0.0),
        side_cues=side_cues,
        rest_between_sides=fields.number("rest_between_sides", 0.0),
        rest_between_sets=fields.number("rest_between_sets", 0.0),
        rest_after=fields.number("rest_after", 0.0),
    )


def parse_workout(data: Any, path: Path) -> Workout:
    """Validate parsed TOML ``data`` (from ``path``) into a :class:`Workout`.

    Raises :class:`WorkoutError` listing every problem found, not just the first.
    """
    problems: list[str] = []
    fields = _Fields(path, "", data, WORKOUT_FIELDS, problems)
    raw = fields.table.get("exercise")
    if not isinstance(raw, list) or not raw:
        fields.fail("exercise", "missing; add at least one [[exercise]] table")
        raw = []
    exercises = tuple(_parse_exercise(path, f"exercise[{i}]", t, problems)
                      for i, t in enumerate(raw, start=1))
    workout = Workout(
        name=fields.text("name"), description=fields.text("description", ""),
        exercises=exercises, source=path, slug=path.stem,
        rounds=fields.integer("rounds", 1, low=1, high=50),
        rest_between_rounds=fields.number("rest_between_rounds", 0.0),
    )
    if problems:
        raise WorkoutError(problems)
    return workout


def workouts_dir(language: str) -> Path:
    """Folder of the built-in workouts of one language."""
    return prompts_dir() / language / "workouts"


def builtin_workouts(language: str = "en") -> list[str]:
    """Names of the built-in workouts, e.g. ``hip-thrust``."""
    return sorted(p.stem for p in workouts_dir(language).glob("*.toml"))


def resolve_workout(name_or_path: str, language: str = "en") -> Path:
    """A built-in workout's file, or the path the user named."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.parent != Path("."):
        return path
    builtin = workouts_dir(language) / f"{name_or_path}.toml"
    if builtin.is_file():
        return builtin
    if path.is_file():
        return path
    known = ", ".join(builtin_workouts(language)) or "none"
    raise InputError(f"unknown workout '{name_or_path}' for language '{language}'; "
                     f"built-in workouts: {known} (or give a path to a .toml file)")


def load_workout(name_or_path: str, language: str = "en") -> Workout:
    """Load and validate a built-in workout by name, or a workout file by path."""
    path = resolve_workout(name_or_path, language)
    return parse_workout(read_toml(path), path)


def parse_phase_override(text: str) -> tuple[str, float]:
    """Parse a ``NAME=SECONDS`` command-line phase override."""
    name, sep, value = text.partition("=")
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not sep or not name or math.isnan(seconds):
        raise InputError(f"--phase-seconds {text!r}: expected NAME=SECONDS, e.g. lower=2.5")
    return name.strip(), seconds


def with_phase_seconds(workout: Workout, overrides: Mapping[str, float]) -> Workout:
    """The workout with the named phases set to new lengths, within each phase's range."""
    seen: set[str] = set()

    def adjust(phase: Phase) -> Phase:
        if phase.name not in overrides:
            return phase
        seen.add(phase.name)
        seconds = overrides[phase.name]
        if not phase.min_seconds <= seconds <= phase.max_seconds:
            raise InputError(
                f"--phase-seconds {phase.name}={seconds:g}: {workout.source} allows "
                f"{phase.min_seconds:g} to {phase.max_seconds:g} seconds for this phase")
        return replace(phase, seconds=seconds)

    exercises = tuple(replace(e, phases=tuple(adjust(p) for p in e.phases))
                      for e in workout.exercises)
    unknown = sorted(set(overrides) - seen)
    if unknown:
        names = sorted({p.name for e in workout.exercises for p in e.phases})
        raise InputError(f"--phase-seconds: no phase named {', '.join(unknown)} in "
                         f"{workout.source}; phases: {', '.join(names) or 'none'}")
    return replace(workout, exercises=exercises)
