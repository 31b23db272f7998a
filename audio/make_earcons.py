"""Synthesise voicecoach's earcons into audio/<name>.wav (deterministic, numpy only).

Each earcon is a few soft bell-like notes: a fundamental plus two quiet harmonics,
a raised-cosine attack, an exponential decay and a raised-cosine fade to exact zero,
so nothing clicks. Every file is peak-normalised to PEAK_DBFS and lasts < 0.6 s.

Run from anywhere: ``python audio/make_earcons.py [output_dir]``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.audio import PLAYBACK_RATE, write_wav_atomic
from voicecoach.playback.earcons import EARCON_NAMES

PEAK_DBFS = -6.0
FADE_OUT_S = 0.015

# Equal-tempered pitches (Hz) used below.
C5, E5, G5, A5, C6, E6 = 523.25, 659.26, 783.99, 880.00, 1046.50, 1318.51


@dataclass(frozen=True)
class Note:
    """One bell-like note starting ``at`` seconds into the earcon."""

    at: float
    freq: float
    length: float
    decay: float = 0.12  # exponential decay time constant, seconds
    attack: float = 0.008
    gain: float = 1.0
    harmonics: tuple[float, ...] = (0.25, 0.08)  # amplitudes of partials 2, 3, ...


@dataclass(frozen=True)
class Earcon:
    """A named earcon: notes summed, then normalised; ``why`` documents its meaning."""

    why: str
    notes: tuple[Note, ...]


EARCONS: dict[str, Earcon] = {
    "start": Earcon("workout begins: rising major arpeggio", (
        Note(0.00, C5, 0.30), Note(0.09, E5, 0.30), Note(0.18, G5, 0.30, decay=0.15),
    )),
    "tick": Earcon("one rep done: a very short high click-free tick", (
        Note(0.00, E6, 0.04, decay=0.012, attack=0.002, harmonics=(0.1,)),
    )),
    "switch": Earcon("switch sides: a ping-pong of two notes", (
        Note(0.00, G5, 0.16, decay=0.06), Note(0.13, C5, 0.16, decay=0.06),
        Note(0.26, G5, 0.18, decay=0.07),
    )),
    "finish": Earcon("workout done: a four-note arpeggio up to the octave", (
        Note(0.00, C5, 0.25), Note(0.08, E5, 0.25), Note(0.16, G5, 0.25),
        Note(0.24, C6, 0.33, decay=0.16),
    )),
    "ready": Earcon("waiting for next: one soft, slow-attack bell", (
        Note(0.00, A5, 0.40, decay=0.16, attack=0.025, harmonics=(0.15, 0.04)),
    )),
    "paused": Earcon("paused: falling fifth, mellow", (
        Note(0.00, G5, 0.20, decay=0.08, harmonics=(0.1,)),
        Note(0.15, C5, 0.25, decay=0.12, harmonics=(0.1,)),
    )),
    "resumed": Earcon("resumed: rising fifth, mellow", (
        Note(0.00, C5, 0.20, decay=0.08, harmonics=(0.1,)),
        Note(0.15, G5, 0.25, decay=0.12, harmonics=(0.1,)),
    )),
}


def ramp(count: int) -> np.ndarray:
    """Raised cosine 0 -> 1 over ``count`` samples."""
    return 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, count))


def render_note(note: Note) -> np.ndarray:
    """One note: partials under attack ramp, exponential decay and a fade to zero."""
    count = int(round(note.length * PLAYBACK_RATE))
    t = np.arange(count) / PLAYBACK_RATE
    wave = np.sin(2 * np.pi * note.freq * t)
    for number, amplitude in enumerate(note.harmonics, start=2):
        wave += amplitude * np.sin(2 * np.pi * note.freq * number * t)
    envelope = np.exp(-t / note.decay)
    attack = int(round(note.attack * PLAYBACK_RATE))
    envelope[:attack] *= ramp(attack)
    fade = min(count, int(round(FADE_OUT_S * PLAYBACK_RATE)))
    envelope[count - fade :] *= ramp(fade)[::-1]
    return note.gain * wave * envelope


def render_earcon(earcon: Earcon) -> np.ndarray:
    """All notes mixed at their offsets, peak-normalised to PEAK_DBFS, as float32."""
    end = max(note.at + note.length for note in earcon.notes)
    mix = np.zeros(int(round(end * PLAYBACK_RATE)))
    for note in earcon.notes:
        samples = render_note(note)
        start = int(round(note.at * PLAYBACK_RATE))
        mix[start : start + samples.size] += samples
    mix *= 10 ** (PEAK_DBFS / 20) / np.abs(mix).max()
    return mix.astype(np.float32)


def main(argv: list[str]) -> int:
    """Write every earcon into the given folder (default: this script's folder)."""
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent
    if set(EARCONS) != set(EARCON_NAMES):
        raise SystemExit(f"recipes {sorted(EARCONS)} do not match EARCON_NAMES {EARCON_NAMES}")
    for name in EARCON_NAMES:
        samples = render_earcon(EARCONS[name])
        write_wav_atomic(out / f"{name}.wav", samples)
        print(f"{name:8s} {samples.size / PLAYBACK_RATE:.3f} s  {EARCONS[name].why}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
