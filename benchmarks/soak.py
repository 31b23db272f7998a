"""Soak benchmark: an hour of ``voicecoach run`` in the simulated room.

Runs the real CLI (``python -m voicecoach run``) with continuous recognition in the
PulseAudio "room" rig of tests/rigs.py (paced in real time; with ``--mic room``, the
default, the microphone is the room's monitor, so the recogniser hears the coach's own
voice the whole time). The workout is generated: one rep-based exercise with a counted
lowering, many sets with rests and no setup steps (so no gates), about ``--minutes``
long. Meanwhile:

* resident memory (``VmRSS`` of the CLI process) is sampled every 5 s; the figure
  compares the sample at ``--warmup`` seconds with the peak of the last minute.
  Target: growth < 5 %.
* ``parecord`` records the room for the whole session. Every counted cue of the
  compiled timeline (the same workout, voice and speech cache as the CLI uses, so the
  plan times match) is found in the recording by normalised cross-correlation with its
  rendered clip, near where the plan puts it after the previous count. As in
  benchmarks/tempo.py the error is relative to the first count (output latency is
  constant, not a tempo error): ``error_k = (onset_k - onset_0) - (planned_k -
  planned_0)``. Target: worst |error| <= 5 ms. Drift = last error minus first.
* every command the session heard by voice is a self-trigger (nobody else speaks);
  they are read from the session's training log. Commands that move the plan (pause,
  resume, done, ...) legitimately shift or skip later counts: the counts after one are
  skipped until a logged rep_completed shows where the plan went on, and a new
  measuring segment starts there. Any other late count is an error.

``--mic babble`` / ``--mic quiet`` point the microphone at a second null sink instead
(another voice reading text without command words, or silence), to tell the cost of
recognising speech from the cost of self-triggers. ``--keys-only`` is the control.

    scripts/dev benchmarks/soak.py [--minutes 60] [--engine pocketsphinx|vosk|spotter|hybrid]
                              [--lang en|ko]
                              [--mic room|babble|quiet] [--output-latency S] [--keys-only]
                              [--keep DIR]
    scripts/dev benchmarks/soak.py --analyse DIR      # figures of a run kept with --keep
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rigs import PLAYED_RATE, PulseRig, espeak, pulse_rig, write_wav

from voicecoach.audio import from_int16, to_int16
from voicecoach.planning.plan import Plan, PlanRequest, make_plan
from voicecoach.planning.timeline import CueKind, MarkKind, Timeline

RSS_GROWTH_TARGET = 5.0  # percent
ONSET_TARGET_MS = 5.0
SAMPLE_EVERY = 5.0  # s between RSS samples
NEAR = int(0.1 * PLAYED_RATE)  # a count is looked for this close to where the plan puts it
FAR = 60 * PLAYED_RATE  # the first count is looked for this far into the recording
STALL = 2 * PLAYED_RATE  # a count found this much later, nothing having moved the plan
RELOCATE = int(1.5 * PLAYED_RATE)  # reach around where the log's clock puts a count
VERIFY = PLAYED_RATE // 2  # the count after a re-anchored one (counts are 1 s apart)
MATCH = 0.6  # normalised correlation that counts as "this clip starts here"
STRONG = 0.8  # ... when searched for far from where it was expected

WORDS = {"en": {"name": "Soak", "drive": "Drive up", "lower": "Lower", "reset": "Reset"},
         "ko": {"name": "소크 테스트", "drive": "올리세요", "lower": "내리세요",
                "reset": "준비"}}
REPS, REST_BETWEEN_SETS = 10, 20


def workout_toml(language: str, sets: int, rounds: int) -> str:
    """One exercise, counted four-second lowering, no setup steps (so no gates)."""
    w = WORDS[language]
    return f"""name = "{w['name']}"
description = "soak benchmark"
rounds = {rounds}
rest_between_rounds = {REST_BETWEEN_SETS}

[[exercise]]
name = "{w['name']}"
reps = {REPS}
sets = {sets}
rest_between_sets = {REST_BETWEEN_SETS}

[[exercise.phase]]
name = "drive"
kind = "concentric"
seconds = 1.5
say = "{w['drive']}"

[[exercise.phase]]
name = "lower"
kind = "eccentric"
seconds = 4
say = "{w['lower']}"
count = "up"
count_every = 1.0

[[exercise.phase]]
name = "reset"
kind = "transition"
seconds = 1.5
say = "{w['reset']}"
"""


def build_workout(folder: Path, language: str, minutes: float) -> tuple[Path, Plan]:
    """Write the workout TOML with just enough sets (then rounds) to last ``minutes``."""
    path = folder / "soak.toml"

    def compiled(sets: int, rounds: int) -> Plan:
        path.write_text(workout_toml(language, sets, rounds))
        return make_plan(PlanRequest(str(path), language))

    one, two = compiled(1, 1).timeline.duration, compiled(2, 1).timeline.duration
    sets = max(1, math.ceil((minutes * 60 - one) / (two - one)) + 1)
    rounds = math.ceil(sets / 50)
    return path, compiled(math.ceil(sets / rounds), rounds)


# ---------------------------------------------------------------- memory
@dataclass
class RssSampler:
    """Samples a process's VmRSS (kB) every ``every`` seconds in a thread."""

    pid: int
    every: float = SAMPLE_EVERY
    samples: list[tuple[float, int]] = field(default_factory=list)  # (s since start, kB)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._began = time.monotonic()
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            kb = vm_rss(self.pid)
            if kb is None:
                return
            self.samples.append((time.monotonic() - self._began, kb))
            self._stop.wait(self.every)


def vm_rss(pid: int) -> int | None:
    """Resident set size in kB, None once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


# ---------------------------------------------------------------- finding counts
def correlation(window: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Normalised cross-correlation of ``clip`` at every offset of ``window`` (FFT)."""
    n, m = window.size, clip.size
    if n < m:
        return np.zeros(0)
    size = 1 << (n + m - 1).bit_length()
    w, c = window.astype(np.float64), clip.astype(np.float64)
    dots = np.fft.irfft(np.fft.rfft(w, size) * np.conj(np.fft.rfft(c, size)), size)[:n - m + 1]
    power = np.concatenate(([0.0], np.cumsum(w * w)))
    energy = np.sqrt(np.maximum(power[m:] - power[:-m], 0.0))
    return dots / np.maximum(energy * np.linalg.norm(c), 1e-9)


def near(heard: np.ndarray, clip: np.ndarray, around: int, reach: int = NEAR) -> tuple[int, float]:
    """Best start of ``clip`` within ``around`` ± ``reach``: (sample, correlation)."""
    low = max(0, around - reach)
    corr = correlation(heard[low:around + reach + clip.size], clip)
    if corr.size == 0:
        return around, 0.0
    best = int(np.argmax(corr))
    return low + best, float(corr[best])


def first_strong(heard: np.ndarray, clip: np.ndarray, start: int, stop: int) -> int | None:
    """First place after ``start`` (before ``stop``) where ``clip`` clearly starts."""
    chunk = 30 * PLAYED_RATE
    for low in range(max(0, start), min(stop, heard.size), chunk):
        corr = correlation(heard[low:low + chunk + clip.size], clip)
        hits = np.flatnonzero(corr > STRONG)
        if hits.size:
            first = int(hits[0])
            return near(heard, clip, low + first + NEAR // 2, NEAR // 2)[0]
    return None


@dataclass
class Onsets:
    """Counted cues found in the recording."""

    errors_ms: list[float] = field(default_factory=list)
    segments: list[list[float]] = field(default_factory=list)  # errors per segment
    disturbed: int = 0  # counts skipped or cut around plan-moving self-triggers
    lost: int = 0  # counts not found where nothing moved the plan
    unheard: int = 0  # counts after the last place the plan could be followed to
    stalls: list[tuple[float, float]] = field(default_factory=list)  # (s, ms) steps > target


@dataclass(frozen=True)
class RepEnd:
    """A logged rep_completed: where the rep ended on the plan clock, and when."""

    sample: int  # recording sample of the wall-clock time it was logged
    plan_time: float


class _Finder:
    """Walks the counted cues through the recording (see :func:`measure`)."""

    def __init__(self, heard: np.ndarray, timeline: Timeline, clips: dict[str, np.ndarray],
                 moves: list[int], rep_ends: list[RepEnd]):
        self.heard, self.clips, self.moves, self.rep_ends = heard, clips, moves, rep_ends
        self.counted = [c for c in timeline.cues if c.kind is CueKind.SPEECH and c.counted]

    def find(self, index: int, around: int, reach: int) -> tuple[int, float]:
        return near(self.heard, self.clips[self.counted[index].text], around, reach)

    def start(self) -> tuple[int, int] | None:
        """The first count, searched from the start of the recording."""
        found = first_strong(self.heard, self.clips[self.counted[0].text], 0, FAR)
        return (0, found) if found is not None else self.reanchor(0)

    def reanchor(self, after: int) -> tuple[int, int] | None:
        """(cue index, sample) of a count after recording sample ``after``.

        A rep_completed logged later says where the plan is; the first count after
        that rep's end is looked for within RELOCATE of where the log's clock puts it,
        and accepted when the count after it follows on the plan's beat.
        """
        times = [c.time for c in self.counted]
        for end in self.rep_ends:
            if end.sample <= after:
                continue
            index = next((i for i, t in enumerate(times) if t > end.plan_time + 1e-6), None)
            if index is None:
                return None
            guess = end.sample + int((times[index] - end.plan_time) * PLAYED_RATE)
            found, score = self.find(index, guess, RELOCATE)
            if score < MATCH or found <= after:
                continue
            if index + 1 < len(times):
                step = int((times[index + 1] - times[index]) * PLAYED_RATE)
                if self.find(index + 1, found + step, VERIFY)[1] < MATCH:
                    continue
            return index, found
        return None

    def moved(self, low: int, high: int) -> int | None:
        """The last plan-moving command between two recording samples, if any."""
        inside = [m for m in self.moves if low <= m <= high]
        return inside[-1] if inside else None


def measure(heard: np.ndarray, timeline: Timeline, clips: dict[str, np.ndarray],
            moves: list[int], rep_ends: list[RepEnd]) -> Onsets:
    """Find every counted cue; ``moves`` = recording samples of plan-moving commands.

    Each count is looked for near where the plan puts it after the previous one found
    (so a stall shows once, as a step), and its error is taken against its segment's
    first count (so stalls add up, as they do for the listener). A count up to STALL
    late with no plan-moving command before it is a (timing) error; after a plan-moving
    command the counts are skipped until the log shows where the plan went on, and a
    new segment starts there.
    """
    finder = _Finder(heard, timeline, clips, moves, rep_ends)
    counted = finder.counted
    result = Onsets()
    start = finder.start()
    if start is None:
        result.unheard = len(counted)
        return result
    index, found = start
    result.lost += index
    while True:
        anchor = previous = (found, counted[index].time)
        result.segments.append([0.0])
        result.errors_ms.append(0.0)
        index += 1
        restart: tuple[int, int] | None = None
        while index < len(counted):
            cue = counted[index]
            guess = previous[0] + int(round((cue.time - previous[1]) * PLAYED_RATE))
            found, score = finder.find(index, guess, NEAR)
            if score < MATCH:
                late, late_score = finder.find(index, guess + STALL // 2, STALL // 2)
                move = finder.moved(previous[0] - NEAR, guess + STALL)
                if late_score < STRONG or move is not None:
                    restart = finder.reanchor(move if move is not None else previous[0])
                    break
                found = late
            expected = anchor[0] + (cue.time - anchor[1]) * PLAYED_RATE
            error = (found - expected) / PLAYED_RATE * 1000.0
            step = error - result.segments[-1][-1]
            if abs(step) > ONSET_TARGET_MS:
                result.stalls.append((found / PLAYED_RATE, step))
            result.errors_ms.append(error)
            result.segments[-1].append(error)
            previous = (found, cue.time)
            index += 1
        if index >= len(counted):
            return result
        if restart is None:
            result.unheard += len(counted) - index
            return result
        skipped = restart[0] - index
        if finder.moved(previous[0] - NEAR, restart[1]) is not None:
            result.disturbed += skipped
        else:
            result.lost += skipped
        index, found = restart


# ---------------------------------------------------------------- the log
PLAN_MOVING = frozenset({"paused", "resumed", "set finished early", "finishing", "stopped",
                         "rest skipped", "step confirmed", "step confirmed at its end"})
"""Session results (``command_heard`` detail) after which later counts move or vanish;
others ("ignored: ...", "repeated", "echo" rejections) leave the plan alone."""


@dataclass(frozen=True)
class VoiceCommand:
    at: float  # Unix time
    command: str
    text: str
    result: str
    engine: str  # "" in logs from before the field existed
    echo_db: float | None  # the echo check's residual (None: not checked)

    @property
    def moves_plan(self) -> bool:
        return self.result in PLAN_MOVING


def voice_commands(db: Path) -> list[VoiceCommand]:
    """Commands the session heard by voice (all self-triggers here), from its log."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT at, detail FROM events WHERE kind = 'command_heard' "
                           "ORDER BY id").fetchall()
    heard = []
    for at, detail in rows:
        d = json.loads(detail)
        if d.get("source") == "voice":
            heard.append(VoiceCommand(at, str(d.get("command")), str(d.get("text", "")),
                                      str(d.get("result", "")), str(d.get("engine", "")),
                                      d.get("echo_db")))
    return heard


def rep_ends(db: Path, timeline: Timeline, started: float) -> list[RepEnd]:
    """Every logged rep_completed, placed on the plan clock by its REP mark."""
    ends = {(c.position.exercise, c.position.round, c.position.set, c.position.side,
             c.position.rep): c.time + c.duration
            for c in timeline.cues if c.kind is CueKind.MARK and c.mark is MarkKind.REP}
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT at, exercise, round, set_no, side, rep FROM events "
                           "WHERE kind = 'rep_completed' ORDER BY id").fetchall()
    return [RepEnd(int((at - started) * PLAYED_RATE), ends[tuple(key)])
            for at, *key in rows if tuple(key) in ends]


# ---------------------------------------------------------------- the run
BABBLE = {"en": ("en-gb", "Sit on the floor with your upper back against the edge of the "
                          "bench. Bend your knees and set your feet flat, close together. "
                          "Roll the barbell over your legs to rest on your hips, with a pad "
                          "between the bar and your hips. Squeeze your glutes, brace your "
                          "core, and keep your lower back from arching."),
          "ko": ("ko", "벤치 가장자리에 등을 기대고 바닥에 앉으세요. 무릎을 굽히고 발을 "
                       "바닥에 붙이세요. 바벨을 엉덩이 위로 굴려 올리세요. 엉덩이에 힘을 "
                       "주고 허리가 꺾이지 않게 하세요.")}
"""``--mic babble``: what another voice keeps saying into the microphone (no command
words), so the recogniser is busy without the coach's phrases that name commands."""


class Babble:
    """Loops a clip into the ``talk`` sink, whose monitor becomes the microphone."""

    def __init__(self, rig: PulseRig, language: str):
        voice, text = BABBLE[language]
        rig.pactl("load-module", "module-null-sink", "sink_name=talk",
                  "sink_properties=device.description=talk")
        rig.pactl("set-default-source", "talk.monitor")
        self.rig, self.path = rig, rig.root / "babble.wav"
        write_wav(self.path, espeak(text, voice), PLAYED_RATE)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=120)

    def _run(self) -> None:
        while not self._stop.is_set():
            process = subprocess.Popen(["paplay", "--device=talk", str(self.path)],
                                       env=self.rig.env(), stdin=subprocess.DEVNULL)
            while process.poll() is None:
                if self._stop.wait(0.2):
                    process.terminate()
                    process.wait()
                    return
            self._stop.wait(0.5)


def run_session(rig: PulseRig, args: argparse.Namespace, workout: Path, folder: Path,
                seconds: float) -> tuple[np.ndarray, float, RssSampler, int]:
    """Run the CLI in the room; returns (recording, its start in Unix time, RSS, exit)."""
    room = rig.record("room.monitor")
    recording_started = time.time()
    argv = [sys.executable, "-m", "voicecoach", "run", str(workout), "--lang", args.lang,
            "--engine", args.engine, "--db", str(folder / "log.sqlite3")]
    if args.keys_only:
        argv.append("--keys-only")
    if args.output_latency:
        argv += ["--output-latency", str(args.output_latency)]
    with open(folder / "stdout.txt", "wb") as out, open(folder / "stderr.txt", "wb") as err:
        process = subprocess.Popen(argv, env=rig.env(), stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err)
    rss = RssSampler(process.pid)
    rss.start()
    try:
        code = process.wait(timeout=seconds + 300)
    except subprocess.TimeoutExpired:
        process.terminate()
        code = process.wait(timeout=30)
    finally:
        rss.stop()
        time.sleep(0.5)
        heard = room.stop()
    return heard, recording_started, rss, code


def rss_report(samples: list[tuple[float, int]], warmup: float) -> float:
    """Print the per-minute table and start/end; returns growth in percent."""
    def at(seconds: float) -> tuple[float, int] | None:
        return next((s for s in samples if s[0] >= seconds), None)

    if not samples:
        print("no memory samples")
        return math.nan
    print("minute  VmRSS (MB)")
    minute = 0
    while (sample := at(minute * 60)) is not None:
        print(f"{minute:6d}  {sample[1] / 1024:8.1f}")
        minute += 1
    # The last minute's peak: the very last sample may fall in the teardown.
    start = at(warmup)
    tail = samples[-1][0] - 60
    end = max((s for s in samples if s[0] >= max(tail, warmup)), key=lambda s: s[1],
              default=samples[-1])
    if start is None:
        print(f"RSS: the session ended before the {warmup:g} s warm-up; last "
              f"{end[1] / 1024:.1f} MB at {end[0]:.0f} s")
        return math.nan
    growth = (end[1] - start[1]) / start[1] * 100
    print(f"RSS start ({start[0]:.0f} s) {start[1] / 1024:.1f} MB, end (peak of the last "
          f"minute, {end[0]:.0f} s) "
          f"{end[1] / 1024:.1f} MB, growth {growth:+.2f} % (target < {RSS_GROWTH_TARGET:g} %)")
    return growth


def collect(args: argparse.Namespace, folder: Path) -> None:
    """Run the session in the room and leave everything ``analyse`` reads in ``folder``."""
    with tempfile.TemporaryDirectory(prefix="vc-soak-") as name, pulse_rig() as rig:
        work = Path(name)
        babble = Babble(rig, args.lang) if args.mic != "room" else None
        if babble is not None and args.mic == "babble":
            babble.start()
        workout, plan = build_workout(work, args.lang, args.minutes)
        counted = sum(c.kind is CueKind.SPEECH and c.counted for c in plan.timeline.cues)
        print(f"workout: {plan.timeline.duration / 60:.1f} min, {counted} counted cues, "
              f"engine {args.engine}, language {args.lang}, "
              f"output latency {args.output_latency or 'default'}"
              f"{', keys only' if args.keys_only else ''}, microphone: {args.mic}",
              flush=True)
        try:
            heard, started, rss, code = run_session(rig, args, workout, work,
                                                    plan.timeline.duration)
        finally:
            if babble is not None:
                babble.stop()
        folder.mkdir(parents=True, exist_ok=True)
        for part in ("log.sqlite3", "stderr.txt", "stdout.txt", "soak.toml"):
            if (work / part).exists():
                (folder / part).write_bytes((work / part).read_bytes())
    np.save(folder / "room.npy", to_int16(heard))
    (folder / "run.json").write_text(json.dumps(
        {"started": started, "exit": code, "lang": args.lang, "rss": rss.samples}))


def analyse(folder: Path, warmup: float) -> bool:
    """Print the figures of a collected run; True when every target is met."""
    run = json.loads((folder / "run.json").read_text())
    started = run["started"]
    plan = make_plan(PlanRequest(str(folder / "soak.toml"), run["lang"]))
    counted = [c for c in plan.timeline.cues if c.kind is CueKind.SPEECH and c.counted]
    clips = {c.text: plan.speech.render(c.text) for c in counted}
    heard = from_int16(np.load(folder / "room.npy"))
    stderr = (folder / "stderr.txt").read_text(errors="replace")
    stdout = (folder / "stdout.txt").read_text(errors="replace").strip().splitlines()
    commands = voice_commands(folder / "log.sqlite3")

    print(f"voicecoach run exited {run['exit']} ({stdout[-1] if stdout else 'no summary'}) "
          f"after {heard.size / PLAYED_RATE / 60:.1f} min of recording")
    xruns = stderr.count("underrun occurred")
    other = [line for line in stderr.splitlines() if "underrun occurred" not in line]
    print(f"ALSA xruns reported on stderr (playback or capture): {xruns}")
    if other:
        print("stderr:", "\n".join(other)[-2000:])
    growth = rss_report([tuple(s) for s in run["rss"]], warmup)

    moves = [int((c.at - started) * PLAYED_RATE) for c in commands if c.moves_plan]
    found = measure(heard, plan.timeline, clips, moves,
                    rep_ends(folder / "log.sqlite3", plan.timeline, started))
    errors = np.abs(np.array(found.errors_ms)) if found.errors_ms else np.array([math.nan])
    worst, median = float(np.max(errors)), float(np.median(errors))
    first = found.segments[0] if found.segments else [math.nan]
    stalls = [step for _, step in found.stalls]
    print(f"counts: {len(counted)} planned, {len(found.errors_ms)} measured, "
          f"{found.disturbed} skipped or cut by plan-moving self-triggers, {found.lost} "
          f"not found otherwise, {found.unheard} never heard (session ended or could not "
          f"be followed); {len(found.segments)} segment(s)")
    print(f"onset error: worst {worst:.2f} ms (target <= {ONSET_TARGET_MS:g}), median "
          f"{median:.2f} ms; first segment ({len(first)} counts): worst "
          f"{max(abs(e) for e in first):.2f} ms, drift {first[-1] - first[0]:+.2f} ms")
    print(f"count-to-count steps over {ONSET_TARGET_MS:g} ms: {len(stalls)}, adding up to "
          f"{sum(stalls):+.0f} ms" + (f" (largest {max(stalls, key=abs):+.0f} ms)"
                                      if stalls else ""))
    if found.stalls:
        print("  at (s into the recording, ms): " + ", ".join(
            f"{at:.0f} {step:+.0f}" for at, step in found.stalls[:40])
            + (" ..." if len(found.stalls) > 40 else ""))
    print(f"self-triggers: {len(commands)} voice commands heard "
          f"({sum(c.moves_plan for c in commands)} moved the plan)")
    for c in commands:
        echo = "" if c.echo_db is None else f" ({c.echo_db:+.1f} dB)"
        print(f"  {c.at - started:8.1f} s  {c.command:<7} heard {c.text!r:<16} by "
              f"{c.engine or '?':<12} -> {c.result}{echo}")
    return (growth < RSS_GROWTH_TARGET and worst <= ONSET_TARGET_MS and found.lost == 0
            and found.unheard == 0 and found.disturbed == 0 and run["exit"] == 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--engine", default="pocketsphinx",
                        choices=("pocketsphinx", "vosk", "spotter", "hybrid"))
    parser.add_argument("--output-latency", type=float, metavar="SECONDS",
                        help="passed on to voicecoach run (its default: 0.1, or 0.2 with "
                             "Vosk or PocketSphinx alone)")
    parser.add_argument("--lang", default="en", choices=sorted(WORDS))
    parser.add_argument("--warmup", type=float, default=60.0,
                        help="seconds after launch of the first memory figure")
    parser.add_argument("--mic", choices=("room", "babble", "quiet"), default="room",
                        help="room: the microphone hears the coach (default); babble: it "
                             "hears another voice reading text without command words; "
                             "quiet: it hears silence (recognition runs on nothing)")
    parser.add_argument("--keys-only", action="store_true",
                        help="control run: no recognition (the CLI's --keys-only)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the recording, log and CLI output here (~160 MB an hour)")
    parser.add_argument("--analyse", type=Path, metavar="DIR",
                        help="do not run: print the figures of a run kept with --keep")
    args = parser.parse_args()

    if args.analyse:
        return 0 if analyse(args.analyse, args.warmup) else 1
    if args.keep:
        collect(args, args.keep)
        return 0 if analyse(args.keep, args.warmup) else 1
    with tempfile.TemporaryDirectory(prefix="vc-soak-kept-") as name:
        collect(args, Path(name))
        return 0 if analyse(Path(name), args.warmup) else 1


if __name__ == "__main__":
    sys.exit(main())
