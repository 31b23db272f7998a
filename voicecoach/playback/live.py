"""The live player: one output stream that mixes a Timeline's cues by sample index.

The player keeps a *plan position* in samples. It advances only while playing, and a
cue starts exactly when the plan position reaches ``round(Cue.time * rate)``, at that
sample inside the audio block, so counts land where the Timeline says with no drift
(nothing is ever timed with sleep or by adding up clip lengths).

* At a GATE cue the plan position holds (sounds already started play on) until
  :meth:`LivePlayer.release_gate` (or :meth:`~LivePlayer.advance`).
* :meth:`~LivePlayer.pause` freezes the plan position and every plan sound at the next
  audio block, with a 5 ms fade; :meth:`~LivePlayer.resume` continues both from exactly
  that sample (sounds fade back in mid-word: nothing is restarted, so the tempo and
  the overlap of sounds stay exactly as planned; ``say_now`` can repeat a phrase).
* :meth:`~LivePlayer.skip_rest` jumps to the end of the REST mark being played;
  cues inside the rest are not played, sounds still playing are faded out.
* :meth:`~LivePlayer.say_now` plays a clip at once, over the plan, even while paused or
  waiting at a gate; it never moves the plan position.
* :meth:`~LivePlayer.seek` continues from a cue (used to resume a session).

Threads: commands are put on a queue and applied at the start of the next audio
callback; the callback never blocks and reports :class:`PlayerEvent` s on
:attr:`LivePlayer.events` for a non-audio thread to consume. Each block played is also
copied into :attr:`LivePlayer.played` (a ring, with the stream time it is heard at), so
the microphone side can tell the coach's own voice from the user's
(:mod:`voicecoach.recognition.echo`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

import numpy as np
import sounddevice as sd

from voicecoach.audio import PLAYBACK_RATE, AudioRing, resample
from voicecoach.devices import Device, resolve_device
from voicecoach.errors import DeviceError
from voicecoach.planning.timeline import CueKind, MarkKind, Position, Timeline
from voicecoach.playback.render import EarconLoader, clip_for

logger = logging.getLogger(__name__)

FADE_SECONDS = 0.005
"""Fade applied when a sound is cut (pause, skip, seek) or continues after a pause."""
PREROLL_SECONDS = 0.5
"""Silence played before the plan clock starts. Through ALSA's pulse plugin PortAudio
fills the buffer (latency + one block, 0.25 s at 0.2 s latency), then gets no callback
for about a second while PulseAudio underruns: whatever was in that first buffer is
followed by a gap, so the preroll must be longer than the first buffer."""
PLAYED_SECONDS = 20.0
"""How much of what was played :attr:`LivePlayer.played` keeps (for the echo check)."""


class EventKind(StrEnum):
    """What a :class:`PlayerEvent` reports."""

    CUE = "cue"  # a cue's time came (every cue: speech, earcon, gate, mark)
    GATE_WAITING = "gate_waiting"  # the plan holds at a gate
    GATE_RELEASED = "gate_released"  # held_samples: how long it held
    PAUSED = "paused"
    RESUMED = "resumed"  # held_samples: how long it was paused
    REST_SKIPPED = "rest_skipped"  # held_samples: negative, plan samples skipped
    SEEKED = "seeked"
    FINISHED = "finished"  # every cue reached and every plan sound played out


@dataclass(frozen=True)
class PlayerEvent:
    """Something that happened in the audio callback, at a known sample."""

    kind: EventKind
    cue_index: int  # index into Timeline.cues, -1 when no cue is concerned
    plan_sample: int  # plan position (at LivePlayer.rate) when it happened
    stream_sample: int  # sample of the output stream (0 = first sample played)
    dac_time: float  # PortAudio stream time (stream.time) when that sample is heard
    held_samples: int = 0  # see EventKind
    wall: float = 0.0  # time.monotonic() when the callback that decided it ran


@dataclass(frozen=True)
class PlayerState:
    """A snapshot for display and logging."""

    cue_index: int  # last cue reached, -1 before the first
    position: Position  # that cue's position in the workout
    plan_time: float  # seconds on the plan clock
    waiting_at_gate: bool
    paused: bool
    in_rest: bool  # inside a REST mark: "next" would skip it
    finished: bool


class Control(Enum):
    """Player commands without an argument (see the methods of the same names)."""

    RELEASE_GATE = "release_gate"
    ADVANCE = "advance"
    PAUSE = "pause"
    RESUME = "resume"
    SKIP_REST = "skip_rest"


@dataclass(frozen=True)
class Seek:
    """Continue from this cue."""

    cue_index: int


@dataclass(frozen=True)
class Say:
    """Play a clip (already at the stream's rate) over the plan, now."""

    clip: np.ndarray
    interrupt: bool


PlayerCommand = Control | Seek | Say
"""What the control methods send to the audio callback, applied at a block's start."""


class _Voice:
    """A sound being played: ``clip`` from sample ``pos``, starting ``delay`` samples into
    the current block, fading in over ``fade_in`` samples."""

    __slots__ = ("clip", "pos", "delay", "fade_in")

    def __init__(self, clip: np.ndarray, delay: int = 0):
        self.clip, self.pos, self.delay, self.fade_in = clip, 0, delay, 0


class LivePlayer:
    """Plays ``timeline`` on an output device; control it from any thread.

    ``speech`` maps every ``timeline.speech_texts()`` to its clip and ``earcons`` loads
    an earcon by name (both float32 mono at PLAYBACK_RATE). ``device`` is an index, a name
    substring or None (the default output). The stream runs at PLAYBACK_RATE when the
    device accepts it, else at the device's default rate with clips resampled.
    ``latency`` is PortAudio's output latency in seconds: the default, 0.2, plays through
    PulseAudio without underflows on a busy machine, where shorter ones underflow now and
    then and each underflow delays every later sound (benchmarks/README.md, "Live tempo");
    the plan clock starts after ``preroll`` seconds of silence.
    """

    def __init__(self, timeline: Timeline, speech: Mapping[str, np.ndarray],
                 earcons: EarconLoader | None = None, *, device: str | int | None = None,
                 latency: float | str = 0.2, blocksize: int = 0,
                 preroll: float = PREROLL_SECONDS):
        self.timeline = timeline
        self.device = self._output_device(device)
        self.rate, self.channels = self._stream_format(self.device)
        self._fade = max(1, int(round(FADE_SECONDS * self.rate)))
        self._fade_down = np.linspace(1.0, 0.0, self._fade, endpoint=False, dtype=np.float32)
        self._fade_up = self._fade_down[::-1].copy()

        def no_earcon(name: str) -> np.ndarray:
            raise KeyError(f"no earcon loader given for earcon {name!r}")

        loaded: dict[tuple[CueKind, str], np.ndarray] = {}
        self._clips: list[np.ndarray | None] = []
        self._starts: list[int] = []
        for cue in timeline.cues:
            self._starts.append(int(round(cue.time * self.rate)))
            key = (cue.kind, cue.text)
            if key not in loaded:
                clip = clip_for(cue, speech, earcons or no_earcon)
                if clip is not None:
                    loaded[key] = resample(clip, PLAYBACK_RATE, self.rate)
            self._clips.append(loaded.get(key))
        self._order = sorted(range(len(timeline.cues)), key=lambda i: (self._starts[i], i))
        self._rank = {index: rank for rank, index in enumerate(self._order)}

        # Audio-thread state (written only by the callback).
        self._next = 0  # rank (in _order) of the next cue to reach
        self.preroll = int(round(preroll * self.rate))
        self._plan = -self.preroll  # plan position, samples (cue 0 is at sample 0)
        self._stream_pos = 0  # samples written to the stream so far
        self._holding = -1  # cue index of the gate held at, -1 when not holding
        self._hold_start = 0
        self._paused = False
        self._pause_start = 0
        self._rest_end = -1  # plan sample where the last REST mark reached ends
        self._last_cue = -1
        self._done = False
        self._voices: list[_Voice] = []  # sounds of the plan
        self._overlay: list[_Voice] = []  # say_now sounds, not frozen by pause
        self._mix = np.zeros(4096, dtype=np.float32)
        self._dac0 = 0.0
        self._wall = 0.0
        self._dac_end = 0.0  # when the last sample written so far will be heard
        self.underflows = 0  # output underflows reported by PortAudio
        # What was played, on the stream clock of when it is heard (echo check).
        self.played = AudioRing(self.rate, PLAYED_SECONDS)

        self._commands: queue.SimpleQueue[PlayerCommand] = queue.SimpleQueue()
        self.events: queue.SimpleQueue[PlayerEvent] = queue.SimpleQueue()
        self._finished = threading.Event()
        try:
            self._stream = sd.OutputStream(
                samplerate=self.rate, channels=self.channels, dtype="float32",
                device=self.device.index, latency=latency, blocksize=blocksize,
                callback=self._callback)
        except sd.PortAudioError as error:
            raise DeviceError(f"cannot open audio output {self.device.name!r} ({error}); "
                              "pick another with --output (see `voicecoach devices`) "
                              "or make an audio file with `voicecoach export`") from None

    # ----------------------------------------------------------------- set-up
    @staticmethod
    def _output_device(spec: str | int | None) -> Device:
        try:
            return resolve_device(spec, "output")
        except DeviceError as error:
            raise DeviceError(f"{error}; or make an audio file with `voicecoach export`") \
                from None

    @staticmethod
    def _stream_format(device: Device) -> tuple[int, int]:
        """(rate, channels): PLAYBACK_RATE mono when accepted, else the device's own."""
        rate = PLAYBACK_RATE
        try:
            sd.check_output_settings(device.index, samplerate=rate, channels=1,
                                     dtype="float32")
            return rate, 1
        except sd.PortAudioError:
            pass
        rate = int(device.default_samplerate)
        for channels in (1, 2):
            try:
                sd.check_output_settings(device.index, samplerate=rate, channels=channels,
                                         dtype="float32")
                return rate, channels
            except sd.PortAudioError:
                continue
        raise DeviceError(f"audio output {device.name!r} accepts neither {PLAYBACK_RATE} Hz "
                          f"nor {rate} Hz float32 audio; pick another with --output "
                          "or make an audio file with `voicecoach export`")

    # ------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start playing (from the cue given to :meth:`seek`, if any, else the first)."""
        logger.info("playing on %r at %d Hz, %.3f s output latency", self.device.name,
                    self.rate, self.output_latency)
        self._stream.start()

    def close(self, drain: bool = True) -> None:
        """Stop the stream and release the device, after the samples already written
        have been heard (``drain``, at most one second)."""
        if self._stream.closed:
            return
        if drain and self._stream.active:
            heard_by = self._dac_end
            deadline = _time.monotonic() + 1.0
            while self._stream.time < heard_by and _time.monotonic() < deadline:
                _time.sleep(0.005)
        self._stream.stop()
        self._stream.close()

    def __enter__(self) -> LivePlayer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until every cue has been played (True) or ``timeout`` passes (False)."""
        return self._finished.wait(timeout)

    @property
    def output_latency(self) -> float:
        """Seconds from a sample written to it being heard, as PortAudio reports it."""
        return float(self._stream.latency)

    @property
    def time(self) -> float:
        """The stream clock that :attr:`PlayerEvent.dac_time` is on."""
        return float(self._stream.time)

    @property
    def samples_played(self) -> int:
        """Samples (at :attr:`rate`) handed to the output so far, silence included."""
        return self._stream_pos

    # --------------------------------------------------------------- commands
    def release_gate(self) -> None:
        """Go on from the gate the plan is holding at (ignored when not holding)."""
        self._commands.put(Control.RELEASE_GATE)

    def advance(self) -> None:
        """The user's "next": release the gate held at, else skip the current rest."""
        self._commands.put(Control.ADVANCE)

    def pause(self) -> None:
        self._commands.put(Control.PAUSE)

    def resume(self) -> None:
        self._commands.put(Control.RESUME)

    def skip_rest(self) -> None:
        """Jump to the end of the REST mark being played (ignored outside a rest)."""
        self._commands.put(Control.SKIP_REST)

    def seek(self, cue_index: int) -> None:
        """Continue from cue ``cue_index`` (cues at the same time listed before it are
        skipped); sounds playing are faded out."""
        if not 0 <= cue_index < len(self.timeline.cues):
            raise IndexError(f"cue index {cue_index} out of range")
        self._commands.put(Seek(cue_index))

    def say_now(self, clip: np.ndarray, *, interrupt: bool = False) -> None:
        """Play ``clip`` (float32 mono at PLAYBACK_RATE) now, without moving the plan.

        With ``interrupt`` the sounds playing (plan and earlier say_now) are faded out
        first: the plan's cut sounds are not played again.
        """
        self._commands.put(Say(resample(clip, PLAYBACK_RATE, self.rate), interrupt))

    def get_event(self, timeout: float | None = None) -> PlayerEvent | None:
        """The next event, or None if none comes within ``timeout`` seconds."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def state(self) -> PlayerState:
        cue = self._last_cue
        return PlayerState(
            cue_index=cue,
            position=self.timeline.cues[cue].position if cue >= 0 else Position(),
            plan_time=self._plan / self.rate,
            waiting_at_gate=self._holding >= 0,
            paused=self._paused,
            in_rest=self._holding < 0 and self._plan < self._rest_end,
            finished=self._finished.is_set())

    # --------------------------------------------------------- audio thread
    def _emit(self, kind: EventKind, cue: int, offset: int, held: int = 0) -> None:
        self.events.put(PlayerEvent(kind, cue, self._plan, self._stream_pos + offset,
                                    self._dac0 + offset / self.rate, held, self._wall))

    def _callback(self, outdata: np.ndarray, frames: int, time: Any,
                  status: sd.CallbackFlags) -> None:
        self._wall = _time.monotonic()
        if status.output_underflow:
            self.underflows += 1
        self._dac0 = time.outputBufferDacTime
        if frames > self._mix.size:
            self._mix = np.zeros(frames, dtype=np.float32)
        mix = self._mix[:frames]
        mix.fill(0.0)
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            self._apply(command, mix)
        if not self._paused:
            self._advance_plan(frames)
            self._play(self._voices, mix)
        self._play(self._overlay, mix)
        if not self._done and self._holding < 0 and self._next >= len(self._order) \
                and not self._voices:
            self._done = True
            self._emit(EventKind.FINISHED, -1, frames)
            self._finished.set()
        np.clip(mix, -1.0, 1.0, out=mix)
        outdata[:] = mix[:, np.newaxis]
        self.played.write(mix, self._dac0)
        self._stream_pos += frames
        self._dac_end = self._dac0 + frames / self.rate

    def _apply(self, command: PlayerCommand, mix: np.ndarray) -> None:
        """One command, at the start of a block (offset 0)."""
        if command is Control.ADVANCE:
            command = Control.RELEASE_GATE if self._holding >= 0 else Control.SKIP_REST
        match command:
            case Control.RELEASE_GATE if self._holding >= 0:
                held = self._stream_pos - self._hold_start
                cue, self._holding = self._holding, -1
                self._next += 1
                self._emit(EventKind.GATE_RELEASED, cue, 0, held)
            case Control.PAUSE if not self._paused:
                self._fade_out(self._voices, mix, keep=True)
                self._paused, self._pause_start = True, self._stream_pos
                self._emit(EventKind.PAUSED, self._last_cue, 0)
            case Control.RESUME if self._paused:
                self._paused = False
                for voice in self._voices:
                    voice.fade_in = self._fade
                self._emit(EventKind.RESUMED, self._last_cue, 0,
                           self._stream_pos - self._pause_start)
            case Control.SKIP_REST if self._holding < 0 and self._plan < self._rest_end:
                skipped = self._rest_end - self._plan
                self._fade_out(self._voices, mix, keep=False)
                self._jump(self._rest_end)
                self._emit(EventKind.REST_SKIPPED, self._last_cue, 0, -skipped)
            case Seek(cue_index=index):
                self._fade_out(self._voices, mix, keep=False)
                self._holding, self._rest_end, self._done = -1, -1, False
                self._finished.clear()
                self._next = self._rank[index]
                # Before anything was played the preroll still comes first.
                lead = self.preroll if self._stream_pos == 0 else 0
                self._plan = self._starts[index] - lead
                self._emit(EventKind.SEEKED, index, 0)
            case Say(clip=clip, interrupt=interrupt):
                if interrupt:
                    self._fade_out(self._voices, mix, keep=False)
                    self._fade_out(self._overlay, mix, keep=False)
                self._overlay.append(_Voice(clip))

    def _jump(self, plan_sample: int) -> None:
        """Move the plan to ``plan_sample``; cues before it are not played."""
        self._plan = plan_sample
        while self._next < len(self._order) and \
                self._starts[self._order[self._next]] < plan_sample:
            self._next += 1

    def _advance_plan(self, frames: int) -> None:
        """Move the plan through this block, starting cues at their exact sample."""
        offset = 0
        order, starts = self._order, self._starts
        while self._holding < 0 and self._next < len(order):
            index = order[self._next]
            ahead = max(0, starts[index] - self._plan)
            if ahead >= frames - offset:
                break
            offset += ahead
            self._plan += ahead
            self._reach(index, offset)
        if self._holding < 0:
            self._plan += frames - offset

    def _reach(self, index: int, offset: int) -> None:
        """Cue ``index``'s time has come at ``offset`` in this block."""
        cue = self.timeline.cues[index]
        self._last_cue = index
        self._emit(EventKind.CUE, index, offset)
        clip = self._clips[index]
        if clip is not None:
            self._voices.append(_Voice(clip, offset))
        if cue.kind is CueKind.GATE:
            self._holding, self._hold_start = index, self._stream_pos + offset
            self._emit(EventKind.GATE_WAITING, index, offset)
            return  # _next moves on when the gate is released
        if cue.kind is CueKind.MARK and cue.mark is MarkKind.REST:
            self._rest_end = self._starts[index] + int(round(cue.duration * self.rate))
        self._next += 1

    def _play(self, voices: list[_Voice], mix: np.ndarray) -> None:
        """Add each voice's next samples to ``mix``; drop voices that have ended."""
        frames = mix.size
        for voice in voices:
            start = voice.delay
            count = min(frames - start, voice.clip.size - voice.pos)
            if count > 0:
                chunk = voice.clip[voice.pos:voice.pos + count]
                if voice.fade_in:
                    ramp = self._fade_up[self._fade - voice.fade_in:][:count]
                    mix[start:start + ramp.size] += chunk[:ramp.size] * ramp
                    mix[start + ramp.size:start + count] += chunk[ramp.size:]
                    voice.fade_in -= ramp.size
                else:
                    mix[start:start + count] += chunk
                voice.pos += count
            voice.delay = 0
        voices[:] = [v for v in voices if v.pos < v.clip.size]

    def _fade_out(self, voices: list[_Voice], mix: np.ndarray, keep: bool) -> None:
        """Mix a short fade of each voice at the block start; drop them unless ``keep``
        (then they continue from where they were, see resume). Paused plan voices are
        already silent: they are only dropped."""
        silent = voices is self._voices and self._paused
        for voice in [] if silent else voices:
            count = min(self._fade, mix.size, voice.clip.size - voice.pos)
            if voice.delay == 0 and count > 0:
                mix[:count] += voice.clip[voice.pos:voice.pos + count] * self._fade_down[:count]
        if not keep:
            voices.clear()
