"""Barge-in: a command said OVER the coach works, in the PulseAudio room rig.

The coach plays into the room and the room is the microphone (as in
test_selftrigger.py), so the recogniser hears the coach all session. In the middle of
the set, while the coach is speaking, another espeak-ng voice says "pause" into the
room, 6 dB below the coach (a person near the phone). The session must pause on it
(the command is judged by the echo check, voicecoach.recognition.echo: the user's voice is not
explained by the playback), and nothing the coach itself says may be obeyed. A key
("p" on stdin) resumes, and the workout finishes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import speechgen
from rigs import PLAYED_RATE, PulseRig
from sessionlog import logged
from test_selftrigger import short_hip_thrust

from voicecoach.audio import read_wav
from voicecoach.playback.speech import SpeechRenderer, default_voice
from voicecoach.records.training_log import TrainingLog

USER_VOICE = {"en": ("pause", "en+f2"), "ko": ("멈춰", "ko+f2")}
USER_LEVEL_DB = -6.0
"""The user's speech level relative to the coach's (voiced RMS)."""
AFTER_REP_START = 0.1
"""Seconds after rep 2 starts (as the log sees it) that the user speaks: the coach is
saying "Rep two, drive up" then, a little of which is still in the output buffer."""
REPS = 4
ATTEMPTS = (1, 2, 3)
"""The user speaks at the start of rep 2 and, if not obeyed, says it again at the start
of the next rep, as a person would (about one run in five the first word, said right at
a coach phrase's onset, is not decoded: benchmarks/README.md, barge-in)."""


def voiced_rms(samples: np.ndarray) -> float:
    loud = samples[np.abs(samples) > 0.01]
    return float(np.sqrt(np.mean(loud.astype(np.float64) ** 2))) if loud.size else 0.0


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(samples, np.float64) ** 2)))


def voice_commands(db: Path) -> list[tuple[str, str]]:
    """(command, result) of every voice command logged so far."""
    return [(e.detail["command"], e.detail["result"]) for e in logged(db)
            if e.kind.value == "command_heard" and e.detail.get("source") == "voice"]


def reps_done(db: Path) -> int:
    return sum(e.kind.value == "rep_completed" for e in logged(db))


def locate(room: np.ndarray, clip: np.ndarray) -> tuple[int, float]:
    """(start, correlation) of ``clip``'s best match in ``room`` (normalised)."""
    n = 1 << int(np.ceil(np.log2(room.size + clip.size)))
    dots = np.fft.irfft(np.fft.rfft(room, n) * np.conj(np.fft.rfft(clip, n)), n)[:room.size
                                                                               - clip.size + 1]
    energy = np.sqrt(np.maximum(np.convolve(room.astype(np.float64) ** 2,
                                            np.ones(clip.size), mode="valid"), 1e-12))
    corr = dots / (energy * np.linalg.norm(clip))
    best = int(np.argmax(corr))
    return best, float(corr[best])


@pytest.mark.parametrize("language, engine", [("en", "pocketsphinx"), ("ko", "vosk"),
                                              ("en", "hybrid"), ("ko", "spotter")])
def test_user_pause_over_the_coach_pauses_and_the_coach_triggers_nothing(
        pulse: PulseRig, tmp_path: Path, language: str, engine: str) -> None:
    workout = tmp_path / "short-hip-thrust.toml"
    workout.write_text(short_hip_thrust(language, REPS), encoding="utf-8")
    db = tmp_path / "log.sqlite3"
    heard_wav = tmp_path / "heard.wav"
    words, voice = USER_VOICE[language]
    coach_rms = voiced_rms(SpeechRenderer(default_voice(language)).render("drive up"))
    spoken = speechgen.say(words, voice)
    user = spoken * (coach_rms * 10 ** (USER_LEVEL_DB / 20) / voiced_rms(spoken))

    recording = pulse.record("room.monitor")
    process = subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "run", str(workout), "--lang", language,
         "--engine", engine, "--db", str(db), "--record-mic", str(heard_wav)],
        env=pulse.env(), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        paused = False
        for attempt in ATTEMPTS:
            deadline = time.monotonic() + 90
            while reps_done(db) < attempt:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, f"rep {attempt + 1} never started"
                time.sleep(0.02)
            time.sleep(AFTER_REP_START)
            pulse.speak_into_room(user, speechgen.RATE, wait=False)
            deadline = time.monotonic() + 6
            while not paused and time.monotonic() < deadline:
                paused = ("pause", "paused") in voice_commands(db)
                time.sleep(0.05)
            if paused:
                break
        time.sleep(2.5)  # let the coach say that it paused
        assert process.stdin is not None
        process.stdin.write("p\n" if paused else "q\n")  # resume by key (or give up)
        process.stdin.flush()
        out, err = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        room = recording.stop()
    heard = voice_commands(db)
    assert paused, f"the user's pause over the coach was not obeyed; heard {heard}"
    assert process.returncode == 0, err
    assert "finished" in out and "no microphone" not in err

    obeyed = [(c, r) for c, r in heard if r != "echo"]
    assert obeyed == [("pause", "paused")], heard  # the user's pause, and nothing else
    # The log names the engine that heard it (inside the hybrid, one of its three).
    (engine,) = [e.detail.get("engine") for e in logged(db)
                 if e.kind.value == "command_heard" and e.detail.get("result") == "paused"]
    assert engine in {"spotter", "pocketsphinx", "whisper", "vosk"}, engine

    # The user really spoke over the coach: where the user's words are in the room, the
    # room minus them (the coach) is at least as loud as they are.
    played = np.interp(np.arange(int(user.size * PLAYED_RATE / speechgen.RATE))
                       * speechgen.RATE / PLAYED_RATE, np.arange(user.size), user)
    start, corr = locate(room, played.astype(np.float32))
    assert corr > 0.3, corr
    segment = room[start:start + played.size]
    gain = float(np.dot(segment, played) / np.dot(played, played))
    coach = segment - gain * played
    assert voiced_rms(coach) > voiced_rms(gain * played), "the coach was not speaking"

    # What the recogniser heard (--record-mic): the coach taken out, the user's word kept,
    # and standing out more clearly than in the room.
    heard_audio, rate = read_wav(heard_wav)
    assert rate == 16000 and heard_audio.size > 20 * rate
    at_16k = np.interp(np.arange(int(user.size * rate / speechgen.RATE)) * speechgen.RATE
                       / rate, np.arange(user.size), user).astype(np.float32)
    _, clear = locate(heard_audio, at_16k)
    assert clear > max(0.5, corr), (clear, corr)
    room_16k = np.interp(np.arange(int(room.size * rate / PLAYED_RATE)) * PLAYED_RATE / rate,
                         np.arange(room.size), room)
    assert 20 * np.log10(rms(heard_audio) / rms(room_16k)) < -12  # the coach is gone
    with TrainingLog(db, readonly=True) as log:
        (summary,) = log.sessions()
    assert summary.total_reps == REPS
