"""How isolated a reported command was: speech-free time around it and the length of the
speech run holding it, measured on the audio alone (so a product could compute the same).

A command said to the coach is usually its own short utterance with quiet around it;
a command word heard inside ordinary talk is inside a long run of speech, or followed
soon by more. This module finds speech runs with a simple causal energy detector (the
frame energy, high-passed above the kick drum and bass, against an adaptive floor) and
measures, for a report's time span, the run it falls in and the gaps either side.

It is kept apart from the benchmark's code so that it can move into the product.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import numpy as np

from voicecoach.recognition.highpass import HighPass

logger = logging.getLogger(__name__)

RATE = 16000
FRAME_SECONDS = 0.03
FLOOR_SECONDS = 4.0
"""The floor is a low percentile of the last this-many seconds of frame energies."""
FLOOR_PERCENTILE = 10.0
ABSOLUTE_FLOOR_DB = -65.0
"""No floor lower than this (dBFS): digital near-silence must not make every breath speech."""
ON_DB = 9.0
"""A frame this far above the floor is speech."""
HANGOVER_SECONDS = 0.24
"""A run ends after this much non-speech: the pauses between words of one utterance are
shorter, the pauses between sentences mostly longer."""
MIN_RUN_SECONDS = 0.09
"""Shorter bursts (a hi-hat, a click) are not speech."""
HIGH_PASS_HZ = 250.0


@dataclass(frozen=True)
class Run:
    """A run of speech (seconds)."""

    start: float
    end: float


@dataclass(frozen=True)
class Isolation:
    """Where a report sits among the speech runs: ``before`` = non-speech before the run
    holding it (from the previous run's end, or the recording's start), ``after`` =
    non-speech after that run, ``run`` = the run's length (0 when no speech was found
    there); ``tail`` = how long the run goes on after the report's end (what a rule on
    ``after`` must wait for, on top of ``after`` itself); ``censored_*``: the gap reached
    the recording's edge."""

    before: float
    after: float
    run: float
    censored_before: bool = False
    censored_after: bool = False
    tail: float = 0.0


def speech_runs(samples: np.ndarray, rate: int = RATE) -> list[Run]:
    """Speech runs of a 16 kHz mono recording, found causally frame by frame."""
    size = int(FRAME_SECONDS * rate)
    high_pass = HighPass(HIGH_PASS_HZ, rate)
    filtered = high_pass(samples)[high_pass.delay:]
    count = filtered.size // size
    frames = filtered[:count * size].reshape(count, size).astype(np.float64)
    energy = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    recent: deque[float] = deque(maxlen=int(FLOOR_SECONDS / FRAME_SECONDS))
    runs: list[Run] = []
    start: int | None = None
    last_speech = -1
    hangover = round(HANGOVER_SECONDS / FRAME_SECONDS)
    for index, level in enumerate(energy):
        recent.append(float(level))
        floor = max(float(np.percentile(recent, FLOOR_PERCENTILE)), ABSOLUTE_FLOOR_DB)
        if level > floor + ON_DB:
            if start is None:
                start = index
            last_speech = index
        elif start is not None and index - last_speech >= hangover:
            runs.append(Run(start * FRAME_SECONDS, (last_speech + 1) * FRAME_SECONDS))
            start = None
    if start is not None:
        runs.append(Run(start * FRAME_SECONDS, (last_speech + 1) * FRAME_SECONDS))
    return [r for r in runs if r.end - r.start >= MIN_RUN_SECONDS]


def isolation(runs: list[Run], start: float, end: float, total: float,
              slack: float = 0.3) -> Isolation:
    """How isolated the span [start, end] is among ``runs`` of a recording ``total``
    seconds long: the run overlapping it most (else the nearest within ``slack``)."""
    best, best_key = None, None
    for index, run in enumerate(runs):
        overlap = min(end, run.end) - max(start, run.start)
        distance = max(run.start - end, start - run.end, 0.0)
        key = overlap if overlap > 0 else -distance
        if distance <= slack and (best_key is None or key > best_key):
            best, best_key = index, key
    if best is None:  # nothing the detector calls speech: a quiet span
        previous = max((r.end for r in runs if r.end <= start), default=0.0)
        following = min((r.start for r in runs if r.start >= end), default=total)
        return Isolation(round(start - previous, 3), round(following - end, 3), 0.0,
                         previous == 0.0, following == total, 0.0)
    run = runs[best]
    previous = runs[best - 1].end if best > 0 else 0.0
    following = runs[best + 1].start if best + 1 < len(runs) else total
    return Isolation(round(run.start - previous, 3), round(following - run.end, 3),
                     round(run.end - run.start, 3), best == 0, best + 1 == len(runs),
                     round(run.end - end, 3))
