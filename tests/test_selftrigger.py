"""The coach must not obey itself: in the PulseAudio room rig the microphone hears the
coach's own voice (the coach plays into the room, the room is the microphone), and a
whole session, whose phrases name commands ("say next when you are ready"), must go by
without a single command obeyed. Two things keep it so (voicecoach.recognition.echo): the
recogniser hears the microphone with the coach's playback cancelled, so it rarely
reports anything in the coach's voice, and what it does report is judged against the
played audio and logged with result "echo".

Real time, so the workout is short: the hip thrust's own phrases and cues, one side,
three reps, no gates (nothing would release them without a user).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rigs import PulseRig

from voicecoach.planning.workout import load_workout
from voicecoach.records.training_log import TrainingLog


def short_hip_thrust(language: str, reps: int = 3) -> str:
    """The built-in hip thrust of ``language`` cut to one side of ``reps`` reps, no setup."""
    exercise = load_workout("hip-thrust", language).exercises[0]
    lines = [f'name = "{exercise.name}"', 'description = "short"', "", "[[exercise]]",
             f'name = "{exercise.name}"', f'tip = "{exercise.tip}"', 'sides = ["left"]',
             f"reps = {reps}"]
    if exercise.side_cues and "left" in exercise.side_cues:
        lines.append(f'side_cues = {{ left = "{exercise.side_cues["left"]}" }}')
    for phase in exercise.phases:
        lines += ["", "[[exercise.phase]]", f'name = "{phase.name}"',
                  f'kind = "{phase.kind.value}"', f"seconds = {phase.seconds:g}",
                  f"say = {json.dumps([phase.say, *phase.say_next], ensure_ascii=False)}"
                  if phase.say_next else f'say = "{phase.say}"', f'count = "{phase.count.value}"',
                  f"count_every = {phase.count_every:g}"]
    return "\n".join(lines) + "\n"


# The default engine of each language (English: the hybrid, Korean: the spotter). Each
# room test costs a minute of real time: the grammar engines' sessions in the room are
# test_bargein's (which also asserts the coach obeyed nothing of its own) and the soak's
# (benchmarks/README.md).
@pytest.mark.parametrize("language, engine", [("en", "hybrid"), ("ko", "spotter")])
def test_coach_voice_in_the_room_triggers_no_command(pulse: PulseRig, tmp_path: Path,
                                                      language: str, engine: str) -> None:
    workout = tmp_path / "short-hip-thrust.toml"
    workout.write_text(short_hip_thrust(language), encoding="utf-8")
    db = tmp_path / "log.sqlite3"
    recording = pulse.record("room.monitor")
    result = subprocess.run(
        [sys.executable, "-m", "voicecoach", "run", str(workout), "--lang", language,
         "--engine", engine, "--db", str(db)],
        env=pulse.env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=180)
    room = recording.stop()
    assert result.returncode == 0, result.stderr
    assert "finished" in result.stdout
    assert "no microphone" not in result.stderr  # it really listened
    assert float(abs(room).max()) > 0.1  # and the room really heard the coach

    with TrainingLog(db, readonly=True) as log:
        (summary,) = log.sessions()
        events = log.events(summary.id)
    # Commands the recognisers heard in the coach's voice are logged, rejected as echo.
    heard = [e.detail for e in events if e.kind.value == "command_heard"]
    assert [h for h in heard if h["result"] != "echo"] == [], heard
    assert summary.total_reps == 3
