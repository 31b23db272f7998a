"""Mix a :class:`~voicecoach.planning.timeline.Timeline` into PCM: whole, or chunk by chunk.

Every cue that makes a sound (speech or an earcon) is added at the sample index of its
scheduled time, ``seconds_to_samples(Timeline.scheduled(gap)[i].time)``: placement
comes from the timeline alone, never from adding up clip lengths, so rounding cannot
drift over a long workout. Overlapping sounds are summed, then soft-limited.

:func:`render_chunks` yields the same samples in pieces, so the exporter can stream
them into the encoder while it mixes, without holding the whole workout in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from voicecoach.audio import seconds_to_samples
from voicecoach.planning.timeline import Cue, CueKind, Timeline

EarconLoader = Callable[[str], np.ndarray]
"""``name -> samples`` for an earcon, e.g. :func:`voicecoach.playback.earcons.load_earcon`."""

LIMIT_KNEE = 0.8
"""Samples above this magnitude are compressed smoothly so the mix never clips."""

CHUNK_SAMPLES = 1 << 18
"""Default piece size of :func:`render_chunks` (about 12 s at 22050 Hz)."""


def clip_for(cue: Cue, speech: Mapping[str, np.ndarray],
             earcons: EarconLoader) -> np.ndarray | None:
    """The sound a cue plays: its speech clip, its earcon, or None (gates, marks)."""
    if cue.kind is CueKind.SPEECH:
        try:
            return speech[cue.text]
        except KeyError:
            raise KeyError(f"no speech clip for {cue.text!r}: "
                           "render Timeline.speech_texts() first") from None
    if cue.kind is CueKind.EARCON:
        return earcons(cue.text)
    return None


def soft_limit(samples: np.ndarray, knee: float = LIMIT_KNEE) -> np.ndarray:
    """Compress peaks above ``knee`` with a tanh curve (in place); quieter samples are untouched.

    The curve has slope 1 at the knee, so there is no kink, and approaches 1.0: summed
    overlaps never clip (only extreme overloads round to exactly 1.0 in float32).
    """
    if samples.size == 0 or (samples.max() <= knee and samples.min() >= -knee):
        return samples  # the usual case, found without allocating a copy
    loud = np.flatnonzero((samples > knee) | (samples < -knee))
    values = samples[loud]
    headroom = 1.0 - knee
    magnitude = knee + headroom * np.tanh((np.abs(values) - knee) / headroom)
    samples[loud] = np.copysign(magnitude, values).astype(samples.dtype)
    return samples


@dataclass(frozen=True)
class Mix:
    """Where every sound of a timeline goes: ``(start sample, clip)`` sorted by start."""

    placements: list[tuple[int, np.ndarray]]
    length: int  # samples: the timeline's total length, or more if a last sound runs over


def plan_mix(timeline: Timeline, clips: Mapping[str, np.ndarray], gap: float,
             earcons: EarconLoader) -> Mix:
    """Place each sounding cue at its scheduled sample (gates become ``gap`` s pauses)."""
    placements: list[tuple[int, np.ndarray]] = []
    earcon_cache: dict[str, np.ndarray] = {}

    def cached_earcon(name: str) -> np.ndarray:
        if name not in earcon_cache:
            earcon_cache[name] = np.asarray(earcons(name), dtype=np.float32)
        return earcon_cache[name]

    for item in timeline.scheduled(gap):
        clip = clip_for(item.cue, clips, cached_earcon)
        if clip is not None and len(clip):
            placements.append((seconds_to_samples(item.time), clip))
    placements.sort(key=lambda placed: placed[0])
    length = max([seconds_to_samples(timeline.total_seconds(gap))]
                 + [start + len(clip) for start, clip in placements])
    return Mix(placements, length)


def render_chunks(mix: Mix, chunk_samples: int = CHUNK_SAMPLES) -> Iterator[np.ndarray]:
    """The mix as consecutive float32 pieces of ``chunk_samples`` (the last may be shorter)."""
    placements, upcoming = mix.placements, 0
    active: list[tuple[int, np.ndarray]] = []  # sounds that may reach into this chunk
    for first in range(0, mix.length, chunk_samples):
        end = min(first + chunk_samples, mix.length)
        while upcoming < len(placements) and placements[upcoming][0] < end:
            active.append(placements[upcoming])
            upcoming += 1
        chunk = np.zeros(end - first, dtype=np.float32)
        for start, clip in active:
            lo, hi = max(start, first), min(start + len(clip), end)
            if lo < hi:
                chunk[lo - first:hi - first] += clip[lo - start:hi - start]
        active = [(start, clip) for start, clip in active if start + len(clip) > end]
        yield soft_limit(chunk)


def render_timeline(timeline: Timeline, clips: Mapping[str, np.ndarray], gap: float,
                    earcons: EarconLoader) -> np.ndarray:
    """The whole workout as one float32 buffer, gates rendered as ``gap``-second pauses.

    ``clips`` maps each of ``timeline.speech_texts()`` to its rendered speech. The buffer
    is ``timeline.total_seconds(gap)`` long, or longer if a final sound runs past it.
    """
    mix = plan_mix(timeline, clips, gap, earcons)
    return next(render_chunks(mix, max(mix.length, 1)), np.zeros(0, dtype=np.float32))
