"""A live session in a room where people talk: five minutes of a trainer and a partner
talking (sentences full of command-like words, no command on its own) must leave the
session where it was, waiting at its setup step, neither paused nor stopped; the one
"next" said on its own afterwards moves it on.

Real sounddevice -> PortAudio -> ALSA (the unpaced ALSA file rig), the default engine
of each language, and espeak-ng speech of the held-out talk of benchmarks/talk/.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rigs import CAPTURE_RATE, AlsaFileRig
from speechgen import pink_noise, say

from voicecoach.records.training_log import TrainingLog

TALK_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "talk"
TALK_SECONDS = 300.0
VOICES = {"en": ["en-us", "en-gb+m3", "en-us+f2"], "ko": ["ko", "ko+m3", "ko+f2"]}
NEXT = {"en": "next", "ko": "다음"}
STEP = {"en": "Sit with your back against the bench.", "ko": "벤치에 등을 대고 앉으세요."}


def talk(language: str, seconds: float) -> np.ndarray:
    """Sentences of the trainer and conversation talk, voices taking turns with short
    pauses between them, until ``seconds`` of audio."""
    lines = [line.strip() for name in ("trainer", "conversation", "near-miss")
             for line in (TALK_DIR / language / f"{name}.held-out.txt").read_text(
                 encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    rng = np.random.default_rng(7)
    parts: list[np.ndarray] = []
    total = 0
    for index in rng.permutation(len(lines)).tolist() * 3:
        spoken = say(lines[index], voice=VOICES[language][index % 3])
        gap = np.zeros(int(rng.uniform(0.35, 0.9) * CAPTURE_RATE), np.float32)
        parts += [0.5 * spoken / max(1e-6, float(np.abs(spoken).max())), gap]
        total += spoken.size + gap.size
        if total >= seconds * CAPTURE_RATE:
            break
    return np.concatenate(parts)


def workout_toml(language: str) -> str:
    return f"""name = "Talk"

[[exercise]]
name = "Talk"
setup = ["{STEP[language]}"]
reps = 2

[[exercise.phase]]
name = "drive"
kind = "concentric"
seconds = 2
"""


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "ko"])
def test_five_minutes_of_talk_leave_the_session_where_it_was(
        alsa_file_rig: AlsaFileRig, tmp_path: Path, language: str) -> None:
    speech = talk(language, TALK_SECONDS)
    lead = np.zeros(int(8.0 * CAPTURE_RATE), np.float32)  # the opening is read meanwhile
    command = say(NEXT[language])
    command = 0.5 * command / float(np.abs(command).max())
    quiet = np.zeros(3 * CAPTURE_RATE, np.float32)
    capture = np.concatenate([lead, speech, quiet, command, quiet])
    capture += 0.003 * pink_noise(capture.size / CAPTURE_RATE)
    alsa_file_rig.set_capture(capture)
    workout = tmp_path / "talk.toml"
    workout.write_text(workout_toml(language), encoding="utf-8")
    db = tmp_path / "log.sqlite3"

    result = alsa_file_rig.run_cli("run", str(workout), "--lang", language, "--db", str(db),
                                   timeout=600)
    assert result.returncode == 0, result.stderr
    assert "finished" in result.stdout

    with TrainingLog(db, readonly=True) as log:
        (summary,) = log.sessions()
        events = log.events(summary.id)
    kinds = [e.kind.value for e in events]
    obeyed = [(e.detail["command"], e.detail["result"]) for e in events
              if e.kind.value == "command_heard" and not e.detail["result"].startswith(
                  ("ignored", "echo"))]
    assert obeyed == [("next", "step confirmed")], obeyed
    assert "paused" not in kinds and "stopped" not in kinds
    assert kinds.count("step_confirmed") == 1 and kinds[-1] == "finished"
