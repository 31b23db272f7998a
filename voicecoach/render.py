"""Mix a :class:`~voicecoach.timeline.Timeline` into one PCM buffer.

Every cue that makes a sound (speech or an earcon) is added at the sample index of its
scheduled time, ``seconds_to_samples(Timeline.scheduled(gap)[i].time)``: placement
comes from the timeline alone, never from adding up clip lengths, so rounding cannot
drift over a long workout. Overlapping sounds are summed, then soft-limited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from voicecoach.audio import seconds_to_samples
from voicecoach.timeline import Cue, CueKind, Timeline

EarconLoader = Callable[[str], np.ndarray]
"""``name -> samples`` for an earcon, e.g. :func:`voicecoach.earcons.load_earcon`."""

LIMIT_KNEE = 0.8
"""Samples above this magnitude are compressed smoothly so the mix never reaches 1.0."""


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
    loud = np.flatnonzero(np.abs(samples) > knee)
    if loud.size:
        values = samples[loud]
        headroom = 1.0 - knee
        magnitude = knee + headroom * np.tanh((np.abs(values) - knee) / headroom)
        samples[loud] = np.copysign(magnitude, values).astype(samples.dtype)
    return samples


def render_timeline(timeline: Timeline, clips: Mapping[str, np.ndarray], gap: float,
                    earcons: EarconLoader) -> np.ndarray:
    """The whole workout as one float32 buffer, gates rendered as ``gap``-second pauses.

    ``clips`` maps each of ``timeline.speech_texts()`` to its rendered speech. The buffer
    is ``timeline.total_seconds(gap)`` long, or longer if a final sound runs past it.
    """
    placed: list[tuple[int, np.ndarray]] = []
    earcon_cache: dict[str, np.ndarray] = {}

    def cached_earcon(name: str) -> np.ndarray:
        if name not in earcon_cache:
            earcon_cache[name] = np.asarray(earcons(name), dtype=np.float32)
        return earcon_cache[name]

    for item in timeline.scheduled(gap):
        clip = clip_for(item.cue, clips, cached_earcon)
        if clip is not None and len(clip):
            placed.append((seconds_to_samples(item.time), clip))

    length = max([seconds_to_samples(timeline.total_seconds(gap))]
                 + [start + len(clip) for start, clip in placed])
    mix = np.zeros(length, dtype=np.float32)
    for start, clip in placed:
        mix[start:start + len(clip)] += clip
    return soft_limit(mix)
