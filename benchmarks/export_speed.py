"""How much slower is `voicecoach export` to MP3 than ffmpeg encoding the same audio?

Builds a ~30-minute workout (a generated TOML in a temporary folder), then times:

* baseline: ``ffmpeg`` alone encoding the finished 30-minute WAV (from the same export)
  to MP3 at the exporter's settings (22050 Hz, mono, libmp3lame, same bitrate);
* warm: ``python -m voicecoach export WORKOUT -o out.mp3`` with every phrase cached;
* cold: the same with an empty speech cache (every phrase synthesised by espeak-ng).

Exports run as the real CLI in a subprocess, so Python start-up and imports count.
The three are run interleaved ``--repeats`` times; figures are medians. Wall-clock time
(what the user waits) is judged against the targets (warm <= 1.3, cold <= 2.0); CPU
time (user + system, ffmpeg included) is printed too, as it is steadier on a busy box.

    scripts/dev benchmarks/export_speed.py [--repeats 3] [--minutes 30] [--bitrate 64k]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from voicecoach.planning.plan import PlanRequest, make_plan
from voicecoach.playback.encode import DEFAULT_BITRATE, FORMATS
from voicecoach.playback.speech import SpeechRenderer, default_voice

WARM_TARGET, COLD_TARGET = 1.3, 2.0

EXERCISES = [  # name, sides, phase (name, kind, seconds, say, count)
    ("Single-leg hip thrust", True, [("drive", "concentric", 2, "Drive up", ""),
                                     ("top", "isometric", 2, "Squeeze.", ""),
                                     ("lower", "eccentric", 3, "Lower", "up")]),
    ("Tempo squat", False, [("down", "eccentric", 3, "Down", "up"),
                            ("up", "concentric", 1.5, "Stand.", "")]),
    ("Reverse lunge", True, [("step", "eccentric", 2, "Step back", "up"),
                             ("drive", "concentric", 1.5, "Drive up.", "")]),
    ("Romanian deadlift", False, [("hinge", "eccentric", 4, "Hinge", "up"),
                                  ("stand", "concentric", 2, "Stand tall.", "")]),
    ("Split squat", True, [("down", "eccentric", 3, "Down", "up"),
                           ("up", "concentric", 1.5, "Push up.", "")]),
    ("Glute bridge", False, [("up", "concentric", 1.5, "Bridge up", ""),
                             ("hold", "isometric", 2, "Hold.", ""),
                             ("down", "eccentric", 3, "Lower", "up")]),
]


def workout_toml(sets: int) -> str:
    """A six-exercise workout in the workout file format, ``sets`` sets of each."""
    lines = ['name = "Benchmark circuit"',
             'description = "Six exercises with sides, sets and rests."', ""]
    for name, sides, phases in EXERCISES:
        lines += ["[[exercise]]", f'name = "{name}"',
                  f'setup = ["Get into position for the {name.lower()}.", '
                  '"Brace your core and breathe out."]',
                  "reps = 8", f"sets = {sets}", "rest_between_sets = 30", "rest_after = 30"]
        if sides:
            lines += ['sides = ["left", "right"]', "rest_between_sides = 15"]
        for phase, kind, seconds, say, count in phases:
            lines += ["", "[[exercise.phase]]", f'name = "{phase}"', f'kind = "{kind}"',
                      f"seconds = {seconds}", f'say = "{say}"']
            if count:
                lines.append(f'count = "{count}"')
        lines.append("")
    return "\n".join(lines)


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds on the clock: what the user waits
    cpu: float  # user + system seconds of the process and its children (e.g. ffmpeg)


def timed(command: list[str], env: dict[str, str] | None = None) -> Timing:
    """Run ``command``; CPU time is steadier than wall time on a shared, busy machine."""
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def report(label: str, runs: list[Timing], baseline: list[Timing] | None,
           target: float | None) -> float:
    """Print median wall and CPU seconds (and ratios to the baseline); return the wall ratio."""
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    line = f"{label:<32} wall {wall:6.2f} s  cpu {cpu:6.2f} s"
    ratio = 1.0
    if baseline is not None:
        ratio = wall / statistics.median(r.wall for r in baseline)
        cpu_ratio = cpu / statistics.median(r.cpu for r in baseline)
        line += f"  ratio wall {ratio:.2f} cpu {cpu_ratio:.2f} (target <= {target})"
    print(line + f"  [wall runs: {', '.join(f'{r.wall:.2f}' for r in runs)}]")
    return ratio


def export_command(workout: Path, output: Path, bitrate: str) -> list[str]:
    return [sys.executable, "-m", "voicecoach", "export", str(workout), "-o", str(output),
            "--bitrate", bitrate]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=30.0, help="target workout length")
    parser.add_argument("--bitrate", default=DEFAULT_BITRATE)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="voicecoach-bench-") as temp:
        folder = Path(temp)
        workout = folder / "circuit.toml"
        sets = 1
        while True:  # the fewest sets reaching 90% of the target length
            workout.write_text(workout_toml(sets), encoding="utf-8")
            warm_cache = folder / f"warm-cache-{sets}"
            speech = SpeechRenderer(default_voice("en"), cache_dir=warm_cache / "speech")
            timeline = make_plan(PlanRequest(str(workout)), speech).timeline
            if timeline.total_seconds(3.0) >= args.minutes * 60 * 0.9 or sets >= 20:
                break
            sets += 1
        # making the plan rendered every phrase into warm_cache
        seconds = timeline.total_seconds(3.0)
        print(f"workout: {len(EXERCISES)} exercises x {sets} sets, {seconds / 60:.1f} min, "
              f"{len(timeline.cues)} cues, {len(timeline.speech_texts())} distinct phrases")

        warm_env = dict(os.environ, VOICECOACH_CACHE=str(warm_cache))
        wav, out = folder / "out.wav", folder / "out.mp3"
        subprocess.run(export_command(workout, wav, args.bitrate), env=warm_env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        mp3 = FORMATS[".mp3"]
        ffmpeg = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav),
                  "-acodec", mp3.codec, "-b:a", args.bitrate, "-f", mp3.muxer,
                  str(folder / "ffmpeg.mp3")]
        # Interleaved, so a busy spell on the machine hits baseline and export alike.
        load_before = f"{os.getloadavg()[0]:.2f}"
        baselines: list[Timing] = []
        warms: list[Timing] = []
        colds: list[Timing] = []
        for run in range(args.repeats):
            cold_env = dict(os.environ, VOICECOACH_CACHE=str(folder / f"cold-cache-{run}"))
            baselines.append(timed(ffmpeg))
            warms.append(timed(export_command(workout, out, args.bitrate), warm_env))
            colds.append(timed(export_command(workout, out, args.bitrate), cold_env))

    print(f"load average before/after: {load_before} / {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    report(f"ffmpeg alone (mp3 {args.bitrate})", baselines, None, None)
    warm = report("voicecoach export, warm cache", warms, baselines, WARM_TARGET)
    cold = report("voicecoach export, cold cache", colds, baselines, COLD_TARGET)
    met = warm <= WARM_TARGET and cold <= COLD_TARGET
    print("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
