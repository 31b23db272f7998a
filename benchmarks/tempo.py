"""Tempo benchmark: do live counts reach the speaker when the Timeline says?

Runs a private PulseAudio daemon (tests/rigs.py ``PulseRig``, paced in real time by
PulseAudio's clock), plays a session of spoken counts ("one" .. "four", espeak-ng, one
every ``--interval`` seconds) with :class:`voicecoach.playback.live.LivePlayer`, records what
reaches the sink (``room.monitor``) and finds every count's onset in the recording.
Each onset is compared with its planned time, relative to the first count (the absolute
output latency is constant and not a tempo error):

    error_k = (onset_k - onset_0) - (planned_k - planned_0)

It prints the max and median |error| (target: every count within 5 ms) and the drift
(last error minus first). The same counts are then played by a naive say-then-sleep
loop (``sd.play`` + wait, then ``sleep(interval - clip length)``) and by a loop that
sleeps to absolute deadlines before each ``sd.play``, for comparison.

    scripts/dev benchmarks/tempo.py                 # 20-minute session, 2-minute naive loop
    scripts/dev benchmarks/tempo.py --minutes 1 --naive-minutes 0.5
    scripts/dev benchmarks/tempo.py --minutes 2 --naive-minutes 0 --busy 2   # under CPU load
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rigs import PLAYED_RATE, PulseRig, espeak, onsets, pulse_rig

WORDS = ("one", "two", "three", "four")
THRESHOLD = 0.02  # onset: first sample louder than this after a quiet gap

PLAYER = """
import json, sys, numpy as np
from voicecoach.playback.live import LivePlayer
from voicecoach.planning.timeline import Cue, CueKind, Timeline
spec = json.loads(sys.argv[1])
clips = {w: np.load(p) for w, p in spec["clips"].items()}
words = list(clips)
cues = tuple(Cue(k * spec["interval"], CueKind.SPEECH, words[k % len(words)],
                 clips[words[k % len(words)]].size / 22050, counted=True)
             for k in range(spec["count"]))
player = LivePlayer(Timeline("tempo", "en", cues), clips)
with player:
    assert player.wait_finished(timeout=spec["count"] * spec["interval"] + 60)
print(json.dumps({"underflows": player.underflows, "latency": player.output_latency}))
"""

NAIVE = """
import json, sys, time, numpy as np, sounddevice as sd
spec = json.loads(sys.argv[1])
clips = [np.load(p) for p in spec["clips"].values()]
# The tail pad keeps the end of each clip from being dropped when the stream stops.
pad = np.zeros(int(0.3 * 22050), np.float32)
for k in range(spec["count"]):
    clip = np.concatenate([clips[k % len(clips)], pad])
    sd.play(clip, 22050, latency=0.2)
    sd.wait()
    time.sleep(max(0.0, spec["interval"] - clip.size / 22050))
print(json.dumps({}))
"""

NAIVE_DEADLINES = """
import json, sys, time, numpy as np, sounddevice as sd
spec = json.loads(sys.argv[1])
clips = [np.load(p) for p in spec["clips"].values()]
pad = np.zeros(int(0.3 * 22050), np.float32)
start = time.monotonic() + 0.5
for k in range(spec["count"]):
    time.sleep(max(0.0, start + k * spec["interval"] - time.monotonic()))
    sd.play(np.concatenate([clips[k % len(clips)], pad]), 22050, latency=0.2)
    sd.wait()
print(json.dumps({}))
"""


@dataclass
class TempoFigures:
    planned: int
    found: int
    max_error_ms: float
    median_error_ms: float
    drift_ms: float
    extra: dict


def clip_start(heard: np.ndarray, onset: int, clip: np.ndarray, lead_in: int) -> int:
    """Where ``clip`` starts in ``heard``: the threshold onset, refined to the sample by
    cross-correlating the clip around it (PulseAudio resamples, so the threshold
    crossing alone can move by a dozen samples)."""
    search = 100
    begin = max(0, onset - lead_in - search)
    segment = heard[begin:onset - lead_in + search + clip.size]
    if segment.size < clip.size:
        return onset - lead_in
    return begin + int(np.argmax(np.correlate(segment, clip, mode="valid")))


def measure(rig: PulseRig, program: str, clips: dict[str, Path], count: int,
            interval: float, word_offsets: list[int]) -> TempoFigures:
    """Play ``count`` counts with ``program`` in the rig and compare onsets with the plan."""
    spec = {"clips": {w: str(p) for w, p in clips.items()}, "count": count,
            "interval": interval}
    recording = rig.record("room.monitor")
    try:
        result = rig.run_python(program, args=[json.dumps(spec)],
                                timeout=count * interval * 3 + 120)
    finally:
        time.sleep(0.5)
        heard = recording.stop()
    extra = json.loads(result.stdout.strip().splitlines()[-1])
    found = onsets(heard, threshold=THRESHOLD, min_gap=int(0.4 * PLAYED_RATE))
    n = min(len(found), count)
    # A count's onset is its clip's start plus the clip's own lead-in before THRESHOLD.
    samples = [np.load(p) for p in clips.values()]
    starts = np.array([clip_start(heard, int(found[k]), samples[k % len(samples)],
                                  word_offsets[k % len(word_offsets)]) for k in range(n)])
    planned = np.arange(n) * interval * PLAYED_RATE
    errors = ((starts - starts[0]) - (planned - planned[0])) / PLAYED_RATE * 1000.0
    return TempoFigures(count, len(found), float(np.max(np.abs(errors))),
                        float(np.median(np.abs(errors))), float(errors[-1] - errors[0]), extra)


def report(name: str, figures: TempoFigures) -> None:
    lost = "" if figures.found == figures.planned else \
        f"  (found {figures.found} onsets for {figures.planned} counts: figures unreliable)"
    print(f"{name}: {figures.planned} counts, max |error| {figures.max_error_ms:.2f} ms, "
          f"median |error| {figures.median_error_ms:.2f} ms, drift {figures.drift_ms:+.2f} ms"
          f"{lost}" + (f"  {figures.extra}" if figures.extra else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="live player session")
    parser.add_argument("--naive-minutes", type=float, default=2.0,
                        help="each naive loop (0 to skip)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between counts")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="keep N CPU-bound processes running meanwhile (load test)")
    args = parser.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(args.busy)]
    try:
        run(args)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    return 0


def run(args: argparse.Namespace) -> None:
    """Both measurements, in one PulseAudio rig."""

    with tempfile.TemporaryDirectory(prefix="vc-tempo-") as folder, pulse_rig() as rig:
        clips: dict[str, Path] = {}
        offsets: list[int] = []
        for word in WORDS:
            samples = espeak(word)
            path = Path(folder) / f"{word}.npy"
            np.save(path, samples)
            clips[word] = path
            offsets.append(int(np.flatnonzero(np.abs(samples) > THRESHOLD)[0]))
        longest = max(np.load(p).size for p in clips.values()) / PLAYED_RATE
        assert longest < args.interval - 0.3, "counts must not overlap"

        count = max(2, int(args.minutes * 60 / args.interval))
        report(f"live player ({args.minutes:g} min)",
               measure(rig, PLAYER, clips, count, args.interval, offsets))
        if args.naive_minutes > 0:
            count = max(2, int(args.naive_minutes * 60 / args.interval))
            report(f"naive say-then-sleep ({args.naive_minutes:g} min)",
                   measure(rig, NAIVE, clips, count, args.interval, offsets))
            report(f"naive play at sleep deadlines ({args.naive_minutes:g} min)",
                   measure(rig, NAIVE_DEADLINES, clips, count, args.interval, offsets))


if __name__ == "__main__":
    sys.exit(main())
