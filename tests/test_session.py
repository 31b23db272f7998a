"""The coaching loop's semantics, through the real player on the ALSA file rig.

Each test runs a small workout in a child process (real espeak-ng speech, real
PortAudio/ALSA output written to a file) and injects commands from an observer of the
player's events, e.g. "say next when the gate of step 1 is reached". The rig is unpaced
(many times faster than real time), so a command lands a little later on the plan
clock than the event that triggered it; assertions allow for that and never depend on
wall-clock time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from rigs import AlsaFileRig

from voicecoach.records.training_log import TrainingLog

SET_REPS = 24
"""A long set: the unpaced player must still be in it when a mid-set command lands."""

WORKOUT = f"""\
name = "Session test"
description = "two setup steps, two sides with a rest between"

[[exercise]]
name = "Session test"
setup = ["Sit by the bench.", "Set the bar on your hips."]
sides = ["left", "right"]
reps = {SET_REPS}
rest_between_sides = 3600  # the unpaced rig plays silence ~10^4 x real time: "next" must land in it

[[exercise.phase]]
name = "drive"
kind = "concentric"
seconds = 1
say = "drive up"

[[exercise.phase]]
name = "lower"
kind = "eccentric"
seconds = 3
say = "Lower"
count = "up"
"""

PRELUDE = """
import json, sys, threading, time
from voicecoach.playback.earcons import load_earcon
from voicecoach.playback.live import EventKind as PK, LivePlayer
from voicecoach.records.training_log import TrainingLog
from voicecoach.records.history import plan_fingerprint
from voicecoach.planning.phrases import load_phrases
from voicecoach.session.coach import CoachSession
from voicecoach.commands import Command
from voicecoach.session.messages import Heard
from voicecoach.playback.speech import SpeechRenderer, default_voice
from voicecoach.planning.timeline import CueKind, MarkKind, compile_timeline
from voicecoach.planning.workout import load_workout

workout_path, db_path = sys.argv[1], sys.argv[2]
workout = load_workout(workout_path)
phrases = load_phrases("en")
speech = SpeechRenderer(default_voice("en"))
timeline = compile_timeline(workout, phrases, speech.duration)
clips = speech.render_all(timeline.speech_texts())
log = TrainingLog(db_path)
sid = log.start_session(workout.name, workout_path, "en", plan_fingerprint(timeline))
player = LivePlayer(timeline, clips, load_earcon)
triggers = []  # (predicate(event, cue) -> bool, command), each fires once
def on_event(event):
    cue = timeline.cues[event.cue_index] if event.cue_index >= 0 else None
    for item in list(triggers):
        if item[0](event, cue):
            triggers.remove(item)
            item[1](event, cue)
session = CoachSession(timeline, phrases, player, speech.render, log=log, session_id=sid,
                       on_event=on_event)
def say(command):
    return lambda event, cue: session.heard(Heard(Command(command), source="keys"))
def mark(kind, **where):
    def test(event, cue):
        return (event.kind is PK.CUE and cue.kind is CueKind.MARK and cue.mark is kind
                and all(getattr(cue.position, k) == v for k, v in where.items()))
    return test
def on(kind):
    return lambda event, cue: event.kind is kind
def gate(step):
    return lambda event, cue: event.kind is PK.GATE_WAITING and cue.position.step == step
def finish():
    player.start()
    outcome = session.run()
    player.wait_finished(timeout=2) if outcome.value == "finished" else None
    player.close()
    print(json.dumps({"outcome": outcome.value, "handled": session.handled, "sid": sid}))
"""


@pytest.fixture
def workout_file(tmp_path: Path) -> Path:
    path = tmp_path / "session-test.toml"
    path.write_text(WORKOUT)
    return path


def run_session(rig: AlsaFileRig, workout: Path, db: Path, script: str) -> dict:
    result = rig.run_python(PRELUDE + script + "\nfinish()\n", timeout=120,
                            args=[str(workout), str(db)])
    return json.loads(result.stdout.strip().splitlines()[-1])


CLIP_SKIP, CLIP_PART = 441, 2205
"""clip_starts compares 100 ms of a clip (CLIP_PART samples at 22.05 kHz) past its
first 20 ms (CLIP_SKIP), so another sound's short fade over its onset does not matter."""


def clip_correlation(window: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Normalised correlation of the compared part of ``clip`` with ``window`` at every
    offset; index i = the part starting at i. FFT-based in blocks: the unpaced rig
    plays minutes of silence in a second of wall clock, and a direct correlation (or one
    FFT of it all) over that costs minutes (or gigabytes)."""
    part = clip[CLIP_SKIP:CLIP_SKIP + CLIP_PART].astype(np.float64)
    data = window.astype(np.float64)
    if data.size < part.size or part.size < CLIP_PART:
        return np.zeros(0)
    n, step = 1 << 17, (1 << 17) - part.size + 1
    spectrum = np.conj(np.fft.rfft(part, n))
    dots = np.empty(data.size - part.size + 1)
    for first in range(0, dots.size, step):
        count = min(step, dots.size - first)
        block = data[first:first + count + part.size - 1]
        dots[first:first + count] = np.fft.irfft(np.fft.rfft(block, n) * spectrum, n)[:count]
    power = np.concatenate(([0.0], np.cumsum(data ** 2)))
    energy = np.sqrt(np.maximum(power[part.size:] - power[:-part.size], 0.0))
    norm = np.linalg.norm(part)
    corr = dots / np.maximum(energy * norm, 1e-9)
    # The player copies clips at their own level: a much quieter stretch is not the clip
    # (and in near-silence the running sums' rounding makes the ratio meaningless).
    corr[energy < 0.5 * norm] = 0.0
    return corr


def sounding_spans(played: np.ndarray, pad: int) -> list[tuple[int, int]]:
    """(first, end) of the stretches of ``played`` with sound in them, widened by ``pad``
    samples: the unpaced rig can play hours of silence during a pause."""
    loud = np.flatnonzero(np.abs(played) > 1e-3)
    if loud.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(loud) > 2 * pad)
    firsts = np.concatenate(([loud[0]], loud[breaks + 1]))
    lasts = np.concatenate((loud[breaks], [loud[-1]]))
    return [(max(0, int(f) - pad), min(played.size, int(e) + pad + 1))
            for f, e in zip(firsts, lasts)]


def clip_starts(played: np.ndarray, clip: np.ndarray, min_corr: float = 0.95) -> list[int]:
    """Samples where ``clip`` starts in ``played``, anywhere: also where it starts while
    another sound is still loud (a pause fades the plan out and speaks at once, so the
    clip need not follow a silence). The player copies clips sample-exact."""
    found: list[int] = []
    for first, end in sounding_spans(played, CLIP_SKIP + CLIP_PART):
        corr = clip_correlation(played[first:end], clip)
        for at in np.flatnonzero(corr >= min_corr):
            start = first + int(at) - CLIP_SKIP
            if found and start - found[-1] <= CLIP_PART:
                if corr[at] > corr[found[-1] + CLIP_SKIP - first]:
                    found[-1] = start  # the best offset of this occurrence
                continue
            found.append(start)
    return found


def events(db: Path, session_id: int) -> list:
    with TrainingLog(db, readonly=True) as log:
        return log.events(session_id)


def test_gates_next_early_ignored_mid_set_rest_skip_and_done_finishes(
        alsa_file_rig: AlsaFileRig, workout_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    result = run_session(alsa_file_rig, workout_file, db, """
triggers += [
    (gate(1), say("next")),                            # waiting at step 1's gate
    (mark(MarkKind.STEP, step=2), say("next")),        # said while step 2 is read
    (mark(MarkKind.REP, side="left", rep=2), say("next")),   # mid-set: ignored
    (mark(MarkKind.REST), say("next")),                # skips the rest
    (mark(MarkKind.REP, side="right", rep=2), say("done")),  # last side: finish
]
""")
    assert result["outcome"] == "finished"
    results = [h[1] for h in result["handled"]]
    # the unpaced player may reach step 2's gate before the session sees the step begin
    assert results[1] in ("step confirmed at its end", "step confirmed")
    assert results[:1] + results[2:] == [
        "step confirmed", "ignored: set runs on tempo", "rest skipped", "set finished early"]
    log = events(db, result["sid"])
    kinds = [e.kind.value for e in log]
    assert kinds.count("step_confirmed") == 2
    assert [e.position.step for e in log if e.kind.value == "step_confirmed"] == [1, 2]
    assert "rest_skipped" in kinds
    reps = {(e.position.side, e.position.rep) for e in log if e.kind.value == "rep_completed"}
    assert {("left", n) for n in range(1, SET_REPS + 1)} <= reps  # "next" did not disturb the set
    assert len([r for r in reps if r[0] == "right"]) < SET_REPS  # "done" cut the right side
    early = [e for e in log if e.kind.value == "side_finished" and e.detail.get("early")]
    assert [e.position.side for e in early] == ["right"]
    assert kinds[-1] == "finished"


@pytest.mark.slow
def test_done_after_resuming_mid_set_ends_the_side(alsa_file_rig: AlsaFileRig,
                                                  tmp_path: Path) -> None:
    """`run --resume` starts at a rep, after the side's start marker: "done" was then
    ignored ("no set running") for the rest of that side."""
    # 40 reps: the unpaced player must still be in the left side when "done" lands (a
    # loaded CI machine once played a 12-rep side out first).
    workout = tmp_path / "long-set.toml"
    workout.write_text(WORKOUT.replace(f"reps = {SET_REPS}", "reps = 40"))
    db = tmp_path / "log.sqlite3"
    result = run_session(alsa_file_rig, workout, db, """
player.seek(next(i for i, c in enumerate(timeline.cues) if c.mark is MarkKind.REP
                 and c.position.side == "left" and c.position.rep == 3))
triggers += [(mark(MarkKind.REP, side="left", rep=3), say("done"))]
""")
    assert result["handled"] == [["done", "set finished early"]]
    assert result["outcome"] == "finished"
    log = events(db, result["sid"])
    early = [e for e in log if e.kind.value == "side_finished" and e.detail.get("early")]
    assert [(e.position.side, e.position.set) for e in early] == [("left", 1)]
    reps = [(e.position.side, e.position.rep) for e in log if e.kind.value == "rep_completed"]
    assert ("left", 40) not in reps and ("right", 40) in reps  # the left side was cut short


@pytest.mark.slow
def test_live_view_shows_what_happens(alsa_file_rig: AlsaFileRig, workout_file: Path,
                                      tmp_path: Path) -> None:
    """The view stayed on "counting" after the workout ended, showed "6/6" after "done" at
    rep 1, showed an ignored "next" like an obeyed one, had no rest countdown, and kept
    showing the side's announcement as what the coach says through the whole set."""
    script = """
from dataclasses import asdict
class RecordingView:
    enabled = True
    def __init__(self):
        self.frames = []
    def update(self, state):
        self.frames.append(asdict(state))
session.view = RecordingView()
views = {}
def snap(name):
    return lambda event, cue: views.__setitem__(name, asdict(session.view_state()))
triggers += [
    (gate(1), say("next")),
    (gate(2), say("next")),
    (mark(MarkKind.REP, side="left", rep=1), say("done")),
    (lambda event, cue: event.kind is PK.CUE and cue.kind is CueKind.SPEECH
     and cue.text == phrases.say("switch_sides"), snap("after done")),
    (mark(MarkKind.REST), snap("rest")),
    (mark(MarkKind.REP, side="right", rep=2), say("next")),
    (mark(MarkKind.PHASE, side="right", rep=2, phase="lower"), snap("set")),
]
player.start()
outcome = session.run()
player.wait_finished(timeout=2)
player.close()
print(json.dumps({"outcome": outcome.value, "views": views,
                  "last": session.view.frames[-1], "handled": session.handled}))
"""
    result = alsa_file_rig.run_python(PRELUDE + script, timeout=120,
                                      args=[str(workout_file), str(tmp_path / "log.sqlite3")])
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["outcome"] == "finished", data
    rest, in_set, last = data["views"]["rest"], data["views"]["set"], data["last"]
    after_done = data["views"]["after done"]
    assert after_done["rep"] == 0 and after_done["reps"] == 0, after_done  # not "12/12"
    assert "done" in after_done["last_command"] and "finished early" in after_done["last_command"]
    assert re.fullmatch(r"resting, \d+ s left", rest["status"]), rest
    assert rest["phase"] == "rest"
    assert (in_set["rep"], in_set["reps"]) == (2, SET_REPS)
    assert "next" in in_set["last_command"] and "ignored" in in_set["last_command"], in_set
    from voicecoach.planning.phrases import load_phrases

    phrases = load_phrases("en")
    side_start = phrases.say("side_start", side=phrases.side("right"), reps=SET_REPS)
    assert in_set["step_text"] != side_start and in_set["step_text"], in_set
    assert last["status"] == "finished" and last["rep"] == 0 and last["phase"] == "", last


@pytest.mark.slow
def test_pause_resume_repeat_and_stop(alsa_file_rig: AlsaFileRig, workout_file: Path,
                                      tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    result = run_session(alsa_file_rig, workout_file, db, """
def pause_then_resume(event, cue):
    session.heard(Heard(Command.PAUSE, source="keys"))
    def later():
        time.sleep(0.3)   # wall clock: the unpaced rig plays many seconds meanwhile
        session.heard(Heard(Command.PAUSE_OR_RESUME, source="keys"))
    threading.Thread(target=later).start()
triggers += [
    (gate(1), say("repeat")),
    (gate(1), say("next")),
    (gate(2), say("next")),
    (mark(MarkKind.REP, side="left", rep=2), pause_then_resume),
    (on(PK.RESUMED), say("stop")),
]
""")
    assert result["outcome"] == "stopped"
    assert [h[0] for h in result["handled"]] == [
        "repeat", "next", "next", "pause", "resume", "stop"]
    assert result["handled"][0][1] == "repeated"
    log = events(db, result["sid"])
    kinds = [e.kind.value for e in log]
    assert kinds.index("paused") < kinds.index("resumed") < kinds.index("stopped")
    assert "finished" not in kinds
    # (where in the set the pause lands is up to the unpaced rig: the player may be
    # seconds of plan ahead of the session thread when it sees rep 2 start)
    assert "rep_completed" in kinds[:kinds.index("paused")]

    # The pause held the plan: "paused" is said, then silence (the unpaced rig plays
    # many seconds of it in 0.3 s of wall clock), then "resumed".
    from voicecoach.planning.phrases import load_phrases
    from voicecoach.playback.speech import SpeechRenderer, default_voice

    speech = SpeechRenderer(default_voice("en"))
    phrases = load_phrases("en")
    paused = speech.render(phrases.say("paused"))
    played = alsa_file_rig.played()
    (paused_at,) = clip_starts(played, paused)
    (resumed_at,) = clip_starts(played, speech.render(phrases.say("resumed")))
    silent = played[paused_at + paused.size + 2205:resumed_at]
    assert silent.size > 5 * 22050 and np.abs(silent).max() < 0.01


@pytest.mark.slow
def test_resume_point_and_phrase_through_cli(alsa_file_rig: AlsaFileRig, workout_file: Path,
                                             tmp_path: Path) -> None:
    """Stop with "q" after step 1, then --resume carries on at step 2 and says so."""
    import subprocess
    import sys
    import time

    db = tmp_path / "log.sqlite3"
    argv = [sys.executable, "-m", "voicecoach", "run", str(workout_file), "--keys-only",
            "--db", str(db)]
    first = subprocess.Popen(argv, env=alsa_file_rig.env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert first.stdin is not None
    time.sleep(2.5)  # the first step has been read and the coach waits at its gate
    first.stdin.write("\n")
    first.stdin.flush()
    time.sleep(1.0)
    first.stdin.write("q\n")
    first.stdin.flush()
    out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert "stopped" in out
    # ... and says how to carry on: this very command with --resume
    assert f"voicecoach run {workout_file} --db {db} --resume" in out, out
    with TrainingLog(db, readonly=True) as log:
        (summary,) = log.sessions()
        assert summary.status.value == "stopped"
        kinds = [e.kind.value for e in log.events(summary.id)]
    assert kinds.count("step_confirmed") == 1

    alsa_file_rig.reset()
    second = subprocess.Popen([*argv, "--resume"], env=alsa_file_rig.env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    # Stop once step 2 has been read (a fixed wait lost that race on a slow moment).
    from voicecoach.planning.phrases import load_phrases
    from voicecoach.playback.speech import SpeechRenderer, default_voice

    speech = SpeechRenderer(default_voice("en"))
    step2_clip = speech.render("Set the bar on your hips.")
    deadline = time.monotonic() + 30
    while not clip_starts(alsa_file_rig.played(), step2_clip) \
            and time.monotonic() < deadline and second.poll() is None:
        time.sleep(0.5)
    out, err = second.communicate("q\n", timeout=30)
    assert second.returncode == 0, err
    with TrainingLog(db, readonly=True) as log:
        assert len(log.sessions()) == 1  # the same session went on
        events_ = log.events(summary.id)
    resumed = [e for e in events_ if e.kind.value == "resumed_session"]
    assert resumed and resumed[0].position.step == 2

    # It said where it picks up, and then read step 2 (not step 1) again.
    phrase = load_phrases("en").say("resuming_at", exercise="Session test")
    played = alsa_file_rig.played()
    said = clip_starts(played, speech.render(phrase))
    step2 = clip_starts(played, step2_clip)
    assert said and step2 and said[0] < step2[0]
    assert not clip_starts(played, speech.render("Sit by the bench."))


@pytest.mark.slow
@pytest.mark.parametrize("how", [["--keys-only"], ["--input", "no-such-microphone"]],
                         ids=["keys-only", "no-microphone"])
def test_a_session_on_keys_asks_for_keys_not_words(alsa_file_rig: AlsaFileRig,
                                                   workout_file: Path, tmp_path: Path,
                                                   how: list[str]) -> None:
    """Keys-only sessions were told "say next when you are ready" and "say resume to carry
    on"; so was a session whose microphone could not be opened, after being told to use
    the keyboard. Now they are told which key to press."""
    import subprocess
    import sys
    import time

    from voicecoach.audio import PLAYBACK_RATE
    from voicecoach.planning.phrases import PromptMode, load_phrases
    from voicecoach.playback.speech import SpeechRenderer, default_voice

    speech = SpeechRenderer(default_voice("en"))
    voice, keys = load_phrases("en"), load_phrases("en", PromptMode.KEYS)
    process = subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "run", str(workout_file), *how, "--db",
         str(tmp_path / "log.sqlite3")], env=alsa_file_rig.env(), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdin is not None
    deadline = time.monotonic() + 60
    while not _session_logged(tmp_path / "log.sqlite3"):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the session never started"
        time.sleep(0.1)
    time.sleep(1.5)  # the intro is said
    if how != ["--keys-only"]:
        # ... and the notice: "p" while it holds the plan would toggle the hold, not
        # pause; it holds for its length in wall-clock time from when it was played.
        notice = speech.render(keys.say("no_mic"))
        while not clip_starts(alsa_file_rig.played(), notice):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no notice of the missing microphone"
            time.sleep(0.3)
        time.sleep(notice.size / PLAYBACK_RATE + 1.0)
    process.stdin.write("p\n")
    process.stdin.flush()
    time.sleep(2.0)
    out, err = process.communicate("q\n", timeout=30)
    assert process.returncode == 0, err
    played = alsa_file_rig.played()

    def said(text: str) -> bool:
        """Whether ``text`` was played whole (the two intros begin alike)."""
        clip = speech.render(text)
        return any(float(np.corrcoef(played[at:at + clip.size], clip)[0, 1]) > 0.95
                   for at in clip_starts(played, clip) if at + clip.size <= played.size)

    assert said(keys.say("paused")) and not said(voice.say("paused")), err
    if how == ["--keys-only"]:
        assert said(keys.say("workout_start", workout="Session test"))
        assert not said(voice.say("workout_start", workout="Session test"))
    else:
        assert said(keys.say("no_mic"))


@pytest.mark.slow
def test_an_unpaced_output_stops_the_session_with_a_clear_error(
        alsa_file_rig: AlsaFileRig, workout_file: Path, tmp_path: Path) -> None:
    """An output that plays faster than real time (an ALSA null or file device) ran the
    whole workout in seconds and logged it as a finished session, without a word."""
    db = tmp_path / "log.sqlite3"
    alsa_file_rig.allow_unpaced = False
    result = alsa_file_rig.run_cli("run", str(workout_file), "--keys-only", "--db", str(db),
                                   timeout=60)
    assert result.returncode == 4, (result.stdout, result.stderr)
    (line,) = result.stderr.strip().splitlines()
    assert re.search(r"audio output '[^']+' plays \d+x faster than real time", line), line
    assert "--output" in line and "voicecoach export" in line and "Traceback" not in line
    with TrainingLog(db, readonly=True) as log:
        (summary,) = log.sessions()
        last = log.events(summary.id)[-1]
    assert summary.status.value == "stopped"
    assert last.kind.value == "stopped" and last.detail.get("reason") == "unpaced output"


def _session_logged(db: Path) -> bool:
    """Whether the training log at ``db`` has a session yet."""
    from voicecoach.errors import InputError

    try:
        with TrainingLog(db, readonly=True) as log:
            return bool(log.sessions())
    except InputError:  # not created yet, or its schema not written yet
        return False


def test_ctrl_c_stops_cleanly_and_is_logged(alsa_file_rig: AlsaFileRig, workout_file: Path,
                                            tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    db = tmp_path / "log.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "run", str(workout_file), "--keys-only",
         "--db", str(db)], env={**alsa_file_rig.env(), "PYTHONFAULTHANDLER": "1"},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell's background job (CI run with "&") ignores SIGINT, its children inherit
        # that, and Python then installs no KeyboardInterrupt: the child would not stop.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # Interrupt once the session is logged and the coach waits at the first gate (a
    # fixed delay raced start-up on a busy machine: the signal found no session yet).
    deadline = time.monotonic() + 60
    while not _session_logged(db):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the session never started"
        time.sleep(0.1)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        # SIGABRT makes the fault handler print every thread's stack: where it hangs.
        process.send_signal(signal.SIGABRT)
        pytest.fail("no exit 20 s after Ctrl-C; stacks:\n" + process.communicate()[1])
    assert process.returncode == 130, err
    assert "Traceback" not in err and "--resume" in err
    with TrainingLog(db, readonly=True) as log:
        (summary,) = log.sessions()
        last = log.events(summary.id)[-1]
    assert last.kind.value == "stopped" and last.detail == {"reason": "interrupted"}


def test_missing_output_device_suggests_export(alsa_file_rig: AlsaFileRig,
                                               workout_file: Path, tmp_path: Path) -> None:
    result = alsa_file_rig.run_cli("run", str(workout_file), "--keys-only", "--output",
                                   "no-such-speaker", "--db", str(tmp_path / "log.sqlite3"))
    assert result.returncode == 4
    assert "no-such-speaker" in result.stderr and "voicecoach export" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow  # ~15 s: the unpaced rig plays minutes of silence while the coach asks
def test_spoken_stop_and_done_mid_set_are_confirmed_first(
        alsa_file_rig: AlsaFileRig, workout_file: Path, tmp_path: Path) -> None:
    """A spoken "stop", or "done" mid-set, pauses and asks; only the same word said again
    acts. Talk nearby that sounds like a command then costs a pause, not the set."""
    db = tmp_path / "log.sqlite3"
    result = run_session(alsa_file_rig, workout_file, db, """
def voice(command):
    session.heard(Heard(Command(command)))  # source "voice", as from the microphone
def then(first, second):
    def act(event, cue):
        voice(first)
        def later():
            time.sleep(0.3)   # wall clock: the coach asks meanwhile
            voice(second)
        threading.Thread(target=later).start()
    return act
triggers += [
    (gate(1), then("stop", "resume")),
    (on(PK.RESUMED), say("next")),
    (gate(2), say("next")),
    (mark(MarkKind.REP, side="left", rep=2), then("done", "done")),
    (mark(MarkKind.REST), then("stop", "stop")),
]
""")
    assert result["outcome"] == "stopped"
    handled = result["handled"]
    assert handled[:3] == [["stop", "asked to confirm"], ["resume", "resumed"],
                           ["next", "step confirmed"]], handled
    assert handled[4:] == [["done", "asked to confirm"], ["done", "set finished early"],
                           ["stop", "asked to confirm"], ["stop", "stopped"]], handled
    log = events(db, result["sid"])
    early = [e.position.side for e in log if e.kind.value == "side_finished"
             and e.detail.get("early")]
    assert early == ["left"]
    asked = [e.detail.get("asking") for e in log if e.kind.value == "paused"]
    assert asked == ["stop", "done", "stop"]
    kinds = [e.kind.value for e in log]
    assert kinds.count("stopped") == 1 and "finished" not in kinds

    from voicecoach.planning.phrases import load_phrases
    from voicecoach.playback.speech import SpeechRenderer, default_voice

    speech = SpeechRenderer(default_voice("en"))
    phrases = load_phrases("en")
    played = alsa_file_rig.played()
    assert len(clip_starts(played, speech.render(phrases.say("confirm_stop")))) == 2
    assert len(clip_starts(played, speech.render(phrases.say("confirm_done")))) == 1
