"""A session killed with SIGKILL mid-set resumes at the right side and rep.

Real processes in the real-time PulseAudio rig: ``voicecoach run`` is killed while the
right side is under way, ``voicecoach run --resume`` finishes the workout, and the
training log holds every rep exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from rigs import PulseRig
from sessionlog import logged

from voicecoach.records.training_log import TrainingLog

WORKOUT = """\
name = "Kill test"

[[exercise]]
name = "Kill test"
sides = ["left", "right"]
reps = 3

[[exercise.phase]]
name = "drive"
kind = "concentric"
seconds = 1
say = "up"

[[exercise.phase]]
name = "lower"
kind = "eccentric"
seconds = 2
say = "Lower"
count = "up"
"""


def reps_logged(db: Path) -> list[tuple[str, int]]:
    """(side, rep) of every rep_completed event of the only session, in order."""
    return [(e.position.side, e.position.rep) for e in logged(db)
            if e.kind.value == "rep_completed"]


def start(rig: PulseRig, workout: Path, db: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "run", str(workout), "--keys-only", "--db",
         str(db), *extra], env=rig.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def test_kill_9_mid_set_then_resume_logs_every_rep_once(pulse: PulseRig,
                                                        tmp_path: Path) -> None:
    workout = tmp_path / "kill.toml"
    workout.write_text(WORKOUT, encoding="utf-8")
    db = tmp_path / "log.sqlite3"

    first = start(pulse, workout, db)
    deadline = time.monotonic() + 90
    while ("right", 1) not in reps_logged(db):
        assert first.poll() is None, first.communicate()[1]
        assert time.monotonic() < deadline, "the right side never started"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL
    before = reps_logged(db)
    assert before[:4] == [("left", 1), ("left", 2), ("left", 3), ("right", 1)]

    second = start(pulse, workout, db, "--resume")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "finished" in out

    with TrainingLog(db, readonly=True) as log:
        (summary,) = log.sessions()  # the killed session went on, no new one
        events = log.events(summary.id)
    assert summary.status.value == "finished"
    resumed = [e for e in events if e.kind.value == "resumed_session"]
    assert len(resumed) == 1
    assert resumed[0].position.side == "right"
    assert resumed[0].position.rep == len(before) - 3 + 1  # the first rep not logged
    done = reps_logged(db)
    assert Counter(done) == Counter({(side, rep): 1 for side in ("left", "right")
                                     for rep in (1, 2, 3)})
