"""Workout files: built-ins load, broken files fail with one line naming file and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach.errors import InputError
from voicecoach.planning.workout import (
    CountStyle,
    PhaseKind,
    builtin_workouts,
    load_workout,
    parse_phase_override,
    with_phase_seconds,
)

VALID = '''
name = "Test"
[[exercise]]
name = "Squat"
reps = 2
[[exercise.phase]]
name = "down"
kind = "eccentric"
seconds = 2
count = "up"
'''

# (what is broken, file text, words the one-line error must contain)
BROKEN = [
    ("not TOML", 'name = "x\n', ["invalid TOML"]),
    ("no name", VALID.replace('name = "Test"', ""), [": name: missing"]),
    ("no exercises", 'name = "x"\n', ["exercise", "missing"]),
    ("typo in field", VALID.replace("reps = 2", "rep = 2"), ["exercise[1].rep", "did you mean 'reps'"]),
    ("reps not a number", VALID.replace("reps = 2", 'reps = "two"'), ["exercise[1].reps", "whole number"]),
    ("negative seconds", VALID.replace("seconds = 2", "seconds = -1"), ["exercise[1].phase[1].seconds", "between"]),
    ("unknown kind", VALID.replace('"eccentric"', '"sideways"'), ["phase[1].kind", "concentric"]),
    ("unknown count", VALID.replace('count = "up"', 'count = "sideways"'), ["phase[1].count", "up"]),
    ("bad side", VALID.replace("reps = 2", 'reps = 2\nsides = ["up"]'), ["exercise[1].sides", "left, right"]),
    ("reps without phases", 'name = "x"\n[[exercise]]\nname = "a"\nreps = 3\n', ["exercise[1].phase", "at least one"]),
    ("hold and reps", VALID.replace("reps = 2", "reps = 2\nhold_seconds = 10"), ["hold_seconds", "either"]),
    ("neither reps nor hold", 'name = "x"\n[[exercise]]\nname = "a"\n', ["exercise[1].reps", "missing"]),
    ("seconds outside range", VALID.replace("seconds = 2", "seconds = 2\nmax_seconds = 1.5\nmin_seconds = 1"),
     ["phase[1].seconds", "min_seconds..max_seconds"]),
    ("counted phase shorter than a beat", VALID.replace("seconds = 2", "seconds = 0.5"), ["phase[1].count", "count_every"]),
    ("duplicate phase names", VALID + '[[exercise.phase]]\nname = "down"\nkind = "concentric"\nseconds = 1\n',
     ["exercise[1].phase", "share a name"]),
    ("empty setup step", VALID.replace("reps = 2", 'reps = 2\nsetup = [""]'), ["exercise[1].setup", "non-empty"]),
    ("tip placed after a missing step", VALID.replace("reps = 2", 'reps = 2\nsetup = ["a"]\ntip = "t"\ntip_after_step = 2'),
     ["exercise[1].tip_after_step", "between 0 and 1"]),
    ("tip_after_step without a tip", VALID.replace("reps = 2", 'reps = 2\nsetup = ["a"]\ntip_after_step = 0'),
     ["exercise[1].tip_after_step", "no tip"]),
    ("texts per beat in an uncounted phase", VALID.replace('count = "up"', 'say = ["a", "b"]'),
     ["exercise[1].phase[1].say", "counted phase"]),
    ("more texts than beats", VALID.replace('count = "up"', 'count = "up"\nsay = ["a", "b", "c"]'),
     ["exercise[1].phase[1].say", "3 texts", "2 beat(s)"]),
    ("side cue for an unused side", VALID.replace("reps = 2", 'reps = 2\nsides = ["left"]\nside_cues = { right = "x" }'),
     ["side_cues.right", "unknown field"]),
]


@pytest.mark.parametrize("label,text,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_workout_names_file_and_field(tmp_path: Path, label: str, text: str,
                                             words: list[str]) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_workout(str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    for word in words:
        assert word in message, message


def test_cli_validate_broken_file_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(VALID.replace("reps = 2", "reps = 0.5"), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "voicecoach", "validate", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(path) in result.stderr and "exercise[1].reps" in result.stderr


SEVERAL_PROBLEMS = '''
name = "Several"
rounds = 0
[[exercise]]
name = "Squat"
rep = 2
[[exercise.phase]]
name = "down"
kind = "sideways"
seconds = 2
[[exercise]]
name = "Hold"
hold_seconds = -5
'''


def test_cli_validate_reports_every_problem(tmp_path: Path) -> None:
    """The README promises one line per problem: the first must not hide the others."""
    path = tmp_path / "several.toml"
    path.write_text(SEVERAL_PROBLEMS, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "voicecoach", "validate", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    fields = ["rounds", "exercise[1].rep", "exercise[1].phase[1].kind",
              "exercise[2].hold_seconds"]
    assert len(lines) == len(fields), lines
    for line in lines:
        assert str(path) in line
    for field in fields:
        assert sum(f": {field}:" in line for line in lines) == 1, (field, lines)


def test_loading_a_file_with_several_problems_stays_one_line(tmp_path: Path) -> None:
    path = tmp_path / "several.toml"
    path.write_text(SEVERAL_PROBLEMS, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_workout(str(path))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path))
    assert "3 more problems" in message and "validate" in message


@pytest.mark.parametrize("label,text,words", BROKEN[1:], ids=[b[0] for b in BROKEN[1:]])
def test_one_mistake_is_one_problem(tmp_path: Path, label: str, text: str,
                                    words: list[str]) -> None:
    """Validation goes on past a problem without reporting its consequences as more."""
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_workout(str(path))
    assert len(caught.value.problems) == 1, caught.value.problems


def test_cli_validate_good_file(tmp_path: Path) -> None:
    path = tmp_path / "good.toml"
    path.write_text(VALID, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "voicecoach", "validate", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "2 reps" in result.stdout


def test_unknown_workout_lists_builtins() -> None:
    with pytest.raises(InputError) as caught:
        load_workout("no-such-workout")
    assert "hip-thrust" in str(caught.value) and "no-such-workout" in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_workout(str(tmp_path / "absent.toml"))


@pytest.mark.parametrize("language", ["en", "ko"])
def test_builtins_load_in_both_languages(language: str) -> None:
    names = builtin_workouts(language)
    assert {"hip-thrust", "glute-bridge-hold", "lower-body-circuit"} <= set(names)
    for name in names:
        assert load_workout(name, language).exercises


def test_hip_thrust_is_the_documented_exercise() -> None:
    exercise = load_workout("hip-thrust").exercises[0]
    assert exercise.sides == ("left", "right") and exercise.reps == 6
    assert len(exercise.setup) == 3
    lower = next(p for p in exercise.phases if p.kind is PhaseKind.ECCENTRIC)
    assert (lower.seconds, lower.min_seconds, lower.max_seconds) == (3, 2, 3)
    assert lower.count is CountStyle.UP and lower.beats == 3


@pytest.mark.parametrize("language,words", [("en", ["thighs", "parallel to the floor",
                                                     "glutes", "core"]),
                                            ("ko", ["허벅지", "평행", "엉덩이에 힘", "복부"])])
def test_hip_thrust_top_position_is_thighs_parallel(language: str, words: list[str]) -> None:
    """The drive ends with the thighs parallel to the floor (not the hips "level with"
    it), glutes squeezed and core braced."""
    step = load_workout("hip-thrust", language).exercises[0].setup[2]
    for word in words:
        assert word in step, (word, step)
    assert "level with" not in step and "수평" not in step


def test_other_builtins_use_other_parts_of_the_format() -> None:
    hold = load_workout("glute-bridge-hold").exercises[0]
    assert hold.is_hold and hold.sets == 3 and hold.rest_between_sets > 0
    circuit = load_workout("lower-body-circuit")
    assert len(circuit.exercises) == 3 and circuit.rounds == 2
    assert any(e.is_hold for e in circuit.exercises) and all(
        e.rest_after for e in circuit.exercises[:-1])


def test_phase_override_within_range() -> None:
    workout = with_phase_seconds(load_workout("hip-thrust"), dict([parse_phase_override("lower=2")]))
    lower = next(p for p in workout.exercises[0].phases if p.name == "lower")
    assert lower.seconds == 2 and lower.beats == 2


@pytest.mark.parametrize("text,words", [("lower=5", "allows 2 to 3"), ("sideways=2", "no phase named"),
                                        ("lower", "NAME=SECONDS"), ("lower=abc", "NAME=SECONDS")])
def test_phase_override_errors(text: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        with_phase_seconds(load_workout("hip-thrust"), dict([parse_phase_override(text)]))


def test_loading_reads_only_the_named_file(tmp_path: Path) -> None:
    """A workout is data: an include-like value is just text, never another file's contents."""
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read", encoding="utf-8")
    path = tmp_path / "w.toml"
    path.write_text(VALID.replace('name = "Test"', f'name = "{secret}"'), encoding="utf-8")
    assert load_workout(str(path)).name == str(secret)
