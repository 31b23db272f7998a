"""Headless audio rigs: real PortAudio (through sounddevice) without a sound card.

PortAudio reads the ALSA configuration once, at ``Pa_Initialize`` (when sounddevice is
imported), so code under test runs in a CHILD process whose ``$HOME`` holds a rig's
``.asoundrc``. Each rig gives ``run_python(code)`` / ``run_cli(*args)`` for that, and a
way to get back what was played.

``AlsaFileRig`` (unpaced, many times faster than real time)
    default PCM = ``asym``: playback -> ``plug`` -> ``file`` plugin (slave ``null``)
    writing raw S16_LE mono at ``PLAYED_RATE`` (22050 Hz, voicecoach's own rate, so no
    resampling happens and sample indices are exact); capture -> ``plug`` -> ``file``
    plugin whose ``infile`` is a prepared recording, raw FLOAT_LE mono at
    ``CAPTURE_RATE`` (16000 Hz, what the recognisers want). The ``plug`` layers convert
    whatever format PortAudio opens (any rate/channels) to those fixed formats.
    With ``truncate false`` the plugin never overwrites: each stream a child opens
    writes its own file (``played.raw``, then ``played.raw.0001``, ...), and
    ``played_streams()`` returns them in order. PortAudio's ALSA layer primes each
    stream with a little silence first (a few thousand samples), so tests anchor on
    the first sound, not on sample 0. Capture is unpaced too: the whole file is read
    as fast as the reader asks. A float32 16 kHz input stream (what voicecoach opens)
    reads every sample in order; a reader in another sample format goes through plug's
    conversion, which here drops blocks (int16 readers of an S16 file skipped ~20
    blocks a second), so the file is float32, like the reader.

``PulseRig`` (paced in real time by PulseAudio's own clock)
    a private ``pulseaudio`` daemon (its own HOME and XDG_RUNTIME_DIR, no system
    config: ``-n -F`` script) with one ``module-null-sink`` sink, ``room``: the default
    sink, so the coach plays straight into the room (no ``module-loopback``: its
    adaptive resampling jitters onsets by ~2 ms), and ``room.monitor`` is the default
    source (the microphone), so the microphone hears the coach and whatever
    ``speak_into_room`` plays. ALSA's ``pulse`` PCM is the child's default, so
    sounddevice -> PortAudio -> ALSA -> PulseAudio. ``record(source)`` captures a
    monitor with ``parecord`` for analysis. Open streams with ``latency=0.2`` (as
    LivePlayer does): with 35 ms ("high") the ALSA->pulse path often underflows at
    the start and a short stream can be lost entirely.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voicecoach.audio import PLAYBACK_RATE, from_int16, to_int16
from voicecoach.paths import cache_dir

TESTS_DIR = Path(__file__).resolve().parent
PLAYED_RATE = PLAYBACK_RATE
"""Rate of the ALSA file rig's played file and of PulseRig recordings."""
CAPTURE_RATE = 16000
"""Rate of the ALSA file rig's capture ``infile``."""
UNPACED_ENV = "VOICECOACH_ALLOW_UNPACED_OUTPUT"
"""Lets a live session play to an unpaced output (voicecoach.session.coach; the test rig only)."""


def _child_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with HOME moved to the rig (and the speech cache kept)."""
    env = dict(os.environ)
    env.pop("ALSA_CONFIG_PATH", None)  # it would replace the config that reads ~/.asoundrc
    env.pop("PULSE_SERVER", None)
    env["VOICECOACH_CACHE"] = os.environ.get("VOICECOACH_CACHE", str(cache_dir()))
    env["HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    # Children import the rig's helpers (``from rigs import ...``) as the tests do.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(TESTS_DIR),
                                                     os.environ.get("PYTHONPATH"))))
    env.update(extra or {})
    return env


@dataclass
class _ChildRunner:
    """Runs Python or the voicecoach CLI in a child process configured for a rig."""

    home: Path

    def env(self) -> dict[str, str]:
        return _child_env(self.home)

    def run_python(self, code: str, *, timeout: float = 120, check: bool = True,
                   args: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
        """Run ``python -c code`` in the rig; ``check`` fails with the child's stderr."""
        return self._run([sys.executable, "-c", code, *args], timeout, check)

    def run_json(self, code: str, *, timeout: float = 120) -> object:
        """Run ``code`` and parse the last line it printed as JSON."""
        result = self.run_python(code, timeout=timeout)
        lines = result.stdout.strip().splitlines()
        assert lines, f"child printed nothing; stderr:\n{result.stderr}"
        return json.loads(lines[-1])

    def run_cli(self, *args: str, timeout: float = 120,
                check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run ``python -m voicecoach ARGS`` in the rig (not checked by default)."""
        return self._run([sys.executable, "-m", "voicecoach", *args], timeout, check)

    def _run(self, argv: list[str], timeout: float,
             check: bool) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(argv, env=self.env(), capture_output=True, text=True,
                                timeout=timeout, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise AssertionError(f"child exited {result.returncode}:\n{result.stderr}")
        return result


_ALSA_FILE_ASOUNDRC = """\
pcm.!default {{
  type asym
  playback.pcm "vc_play"
  capture.pcm "vc_capture"
}}
pcm.vc_play {{
  type plug
  slave {{ pcm "vc_play_file"; format S16_LE; rate {played_rate}; channels 1 }}
  hint.description "voicecoach test playback (file)"
}}
pcm.vc_play_file {{
  type file
  slave.pcm "null"
  file "{played}"
  format "raw"
  truncate false
}}
pcm.vc_capture {{
  type plug
  slave {{ pcm "vc_capture_file"; format FLOAT_LE; rate {capture_rate}; channels 1 }}
  hint.description "voicecoach test capture (file)"
}}
pcm.vc_capture_file {{
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "{capture}"
  format "raw"
}}
"""


@dataclass
class AlsaFileRig(_ChildRunner):
    """ALSA ``file`` plugin rig: playback to a raw file, capture from a raw file.

    Its output is unpaced, which a live session detects and refuses (an output running
    ahead of the wall clock is no sound card); the tests use that on purpose, so the
    rig's children are allowed it (``UNPACED_ENV``) unless ``allow_unpaced`` is False.
    """

    played_path: Path = field(default=Path())
    capture_path: Path = field(default=Path())
    allow_unpaced: bool = True

    def env(self) -> dict[str, str]:
        return _child_env(self.home, {UNPACED_ENV: "1"} if self.allow_unpaced else None)

    @classmethod
    def create(cls, root: Path) -> AlsaFileRig:
        """Lay out ``root``/home/.asoundrc, an empty played file and a silent capture."""
        home = root / "home"
        home.mkdir(parents=True, exist_ok=True)
        rig = cls(home=home, played_path=root / "played.raw", capture_path=root / "capture.raw")
        (home / ".asoundrc").write_text(_ALSA_FILE_ASOUNDRC.format(
            played=rig.played_path, capture=rig.capture_path,
            played_rate=PLAYED_RATE, capture_rate=CAPTURE_RATE))
        rig.reset()
        rig.set_capture(np.zeros(CAPTURE_RATE, dtype=np.float32))
        return rig

    def reset(self) -> None:
        """Forget what was played so far."""
        for path in self._played_files():
            path.unlink()

    def played_streams(self) -> list[np.ndarray]:
        """What each output stream played since the last reset, float32 mono at PLAYED_RATE."""
        return [from_int16(np.fromfile(path, dtype="<i2")) for path in self._played_files()]

    def played(self) -> np.ndarray:
        """Everything played since the last reset, streams one after another."""
        streams = self.played_streams()
        return np.concatenate(streams) if streams else np.zeros(0, dtype=np.float32)

    def _played_files(self) -> list[Path]:
        # The file plugin numbers further files played.raw.0001, .0002, ...
        return sorted(self.played_path.parent.glob(self.played_path.name + "*"))

    def set_capture(self, samples: np.ndarray) -> None:
        """What the microphone will hear: float32 mono at CAPTURE_RATE."""
        np.clip(samples, -1.0, 1.0).astype("<f4").tofile(self.capture_path)


@dataclass
class Recording:
    """A running ``parecord``; ``stop()`` returns the audio, float32 mono at PLAYED_RATE.

    :attr:`origin` is when (``time.monotonic()``) the recording's sample 0 was captured:
    a thread watches the file grow, and the file can never hold audio from the future,
    so ``min(t - samples_at_t / rate)`` over many looks bounds it within parecord's
    write latency (10 ms).
    """

    process: subprocess.Popen[bytes]
    path: Path
    origin: float = math.inf
    _watcher: threading.Thread | None = None

    def watch(self) -> None:
        """Start estimating :attr:`origin` (the Popen must be running)."""
        def look() -> None:
            while self.process.poll() is None:
                now = time.monotonic()
                try:
                    size = self.path.stat().st_size
                except OSError:
                    size = 0
                if size:
                    self.origin = min(self.origin, now - size / 2 / PLAYED_RATE)
                time.sleep(0.002)
        self._watcher = threading.Thread(target=look, name="recording-origin", daemon=True)
        self._watcher.start()

    def monotonic_at(self, sample: float) -> float:
        """The ``time.monotonic()`` when recording sample ``sample`` was captured."""
        return self.origin + sample / PLAYED_RATE

    def stop(self) -> np.ndarray:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._watcher is not None:
            self._watcher.join(timeout=1)
        return from_int16(np.fromfile(self.path, dtype="<i2"))


_PULSE_SCRIPT = """\
load-module module-native-protocol-unix auth-anonymous=1
load-module module-null-sink sink_name=room sink_properties=device.description=room
set-default-sink room
set-default-source room.monitor
"""


@dataclass
class PulseRig(_ChildRunner):
    """A private PulseAudio daemon with ``coach`` and ``room`` null sinks (see module doc)."""

    runtime_dir: Path = field(default=Path())
    root: Path = field(default=Path())
    daemon: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return _child_env(self.home, {"XDG_RUNTIME_DIR": str(self.runtime_dir),
                                      "PULSE_SERVER": f"unix:{self.runtime_dir}/pulse/native"})

    @classmethod
    def start(cls, root: Path) -> PulseRig:
        """Start the daemon and wait until it answers; raises if pulseaudio is missing."""
        for program in ("pulseaudio", "pactl", "parecord", "paplay"):
            if shutil.which(program) is None:
                raise RuntimeError(f"{program} not found: apt-get install pulseaudio "
                                   "pulseaudio-utils libasound2-plugins")
        home, runtime = root / "home", root / "run"
        home.mkdir(parents=True, exist_ok=True)
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / ".asoundrc").write_text("pcm.!default pulse\nctl.!default pulse\n")
        script = root / "rig.pa"
        script.write_text(_PULSE_SCRIPT)
        rig = cls(home=home, runtime_dir=runtime, root=root)
        log = open(root / "pulseaudio.log", "wb")
        # As root pulseaudio only warns; -n -F keeps the system default.pa out, and
        # the daemon must not exit when idle or be asked to exit by a client.
        rig.daemon = subprocess.Popen(
            ["pulseaudio", "--daemonize=no", "--system=no", "-n", "-F", str(script),
             "--exit-idle-time=-1", "--disallow-exit", "--use-pid-file=no",
             "--log-target=stderr", "--log-level=warning"],
            env=rig.env(), stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 15
        while rig.pactl("info", check=False).returncode != 0:
            if rig.daemon.poll() is not None or time.monotonic() > deadline:
                rig.stop()
                raise RuntimeError("pulseaudio did not start:\n"
                                   + (root / "pulseaudio.log").read_text(errors="replace"))
            time.sleep(0.1)
        return rig

    def stop(self) -> None:
        """Stop the daemon by its pid."""
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env(), capture_output=True,
                              text=True, check=check, timeout=10)

    def record(self, source: str = "room.monitor") -> Recording:
        """Start recording ``source`` (``room.monitor``: everything played in the room)."""
        path = self.root / f"record-{time.monotonic_ns()}.raw"
        process = subprocess.Popen(
            ["parecord", f"--device={source}", "--raw", "--format=s16le",
             f"--rate={PLAYED_RATE}", "--channels=1", "--latency-msec=10", str(path)],
            env=self.env(), stdin=subprocess.DEVNULL)
        recording = Recording(process, path)
        recording.watch()
        # parecord creates the file once its stream is connected and running.
        deadline = time.monotonic() + 5
        while (not path.exists() or path.stat().st_size == 0) and time.monotonic() < deadline:
            time.sleep(0.01)
        return recording

    def speak_into_room(self, samples: np.ndarray, rate: int = PLAYBACK_RATE,
                        wait: bool = True) -> subprocess.Popen[bytes]:
        """Play float32 mono ``samples`` into the room (the microphone hears it)."""
        path = self.root / f"say-{time.monotonic_ns()}.wav"
        write_wav(path, samples, rate)
        process = subprocess.Popen(["paplay", "--device=room", str(path)], env=self.env(),
                                   stdin=subprocess.DEVNULL)
        if wait:
            process.wait(timeout=60)
        return process


@contextmanager
def pulse_rig() -> Iterator[PulseRig]:
    """A running :class:`PulseRig` in a temporary folder, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="vc-pulse-") as root:
        rig = PulseRig.start(Path(root))
        try:
            yield rig
        finally:
            rig.stop()


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """float32 mono -> 16-bit mono WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(to_int16(samples).tobytes())


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """16-bit mono WAV -> (float32 samples, rate)."""
    with wave.open(str(path), "rb") as src:
        assert src.getsampwidth() == 2 and src.getnchannels() == 1, path
        return from_int16(np.frombuffer(src.readframes(src.getnframes()), "<i2")), \
            src.getframerate()


def espeak(text: str, voice: str = "en") -> np.ndarray:
    """``text`` spoken by the espeak-ng CLI: float32 mono at PLAYBACK_RATE (its native rate)."""
    with tempfile.TemporaryDirectory(prefix="vc-espeak-") as folder:
        path = Path(folder) / "say.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True,
                       capture_output=True, timeout=60)
        samples, rate = read_wav(path)
    assert rate == PLAYBACK_RATE, f"espeak-ng spoke at {rate} Hz"
    return samples


def burst(seconds: float = 0.05, freq: float = 1000.0, level: float = 0.5,
          rate: int = PLAYBACK_RATE) -> np.ndarray:
    """A cosine burst: its first sample is at full level, so its onset is exact."""
    t = np.arange(int(round(seconds * rate))) / rate
    return (level * np.cos(2 * np.pi * freq * t)).astype(np.float32)


def onsets(samples: np.ndarray, threshold: float = 0.05, min_gap: int = 200) -> np.ndarray:
    """Sample indices where sound starts after at least ``min_gap`` quiet samples."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return loud
    starts = np.concatenate(([True], np.diff(loud) > min_gap))
    return loud[starts]


# --------------------------------------------------------------------------------------
# Driving the live player in a rig's child process.



def run_player(rig: _ChildRunner, spec: dict[str, object], timeout: float = 120) -> dict:
    """Play a hand-made timeline with :class:`voicecoach.playback.live.LivePlayer` in ``rig``.

    ``spec``: ``cues`` = [[time, kind, text, duration, mark or null], ...];
    ``clips`` = {text: ["burst", seconds, freq] | ["espeak", words]} (speech and earcons
    share it); ``actions`` = [[event kind, cue index, delay s, command], ...]: when that
    event arrives the child sleeps ``delay`` then calls the command (``release_gate``,
    ``advance``, ``pause``, ``resume``, ``skip_rest``, ``say:TEXT``, ``seek:INDEX``);
    optional ``device``, ``seek`` (start cue) and ``options`` (LivePlayer keywords).
    Returns {"rate", "preroll", "underflows", "latency",
    "events": [[kind, cue, plan, stream, held, dac], ...]}.
    """
    code = f"from rigs import child_player; child_player({json.dumps(spec)!r})"
    result = rig.run_json(code, timeout=timeout)
    assert isinstance(result, dict)
    return result


def child_player(spec_json: str) -> None:
    """The child side of :func:`run_player`: prints one JSON line."""
    from voicecoach.planning.timeline import Cue, CueKind, MarkKind, Timeline
    from voicecoach.playback.live import LivePlayer

    spec = json.loads(spec_json)
    cues = tuple(Cue(float(t), CueKind(kind), text, float(duration),
                     MarkKind(mark) if mark else None)
                 for t, kind, text, duration, mark in spec["cues"])
    clips: dict[str, np.ndarray] = {}
    for text, how in spec["clips"].items():
        clips[text] = burst(how[1], how[2]) if how[0] == "burst" else espeak(how[1])
    player = LivePlayer(Timeline("test", "en", cues), clips, clips.__getitem__,
                        device=spec.get("device"), **spec.get("options", {}))
    if spec.get("seek") is not None:
        player.seek(int(spec["seek"]))
    actions = [tuple(a) for a in spec.get("actions", [])]
    events = []
    with player:
        while True:
            event = player.get_event(timeout=float(spec.get("timeout", 60)))
            assert event is not None, "player stalled"
            events.append([event.kind.value, event.cue_index, event.plan_sample,
                           event.stream_sample, event.held_samples, event.dac_time])
            for kind, cue, delay, command in actions:
                if kind == event.kind.value and cue == event.cue_index:
                    time.sleep(delay)
                    name, _, argument = command.partition(":")
                    if name == "say":
                        player.say_now(clips[argument])
                    elif name == "seek":
                        player.seek(int(argument))
                    else:
                        getattr(player, name)()
            if event.kind.value == "finished":
                break
    print(json.dumps({"rate": player.rate, "preroll": player.preroll, "underflows": player.underflows,
                      "latency": player.output_latency, "events": events}))
