"""render_timeline: every sound at its scheduled sample, overlaps summed and limited."""

from __future__ import annotations

import numpy as np
import pytest

from voicecoach.audio import PLAYBACK_RATE, seconds_to_samples
from voicecoach.planning.timeline import Cue, CueKind, MarkKind, Timeline
from voicecoach.playback.earcons import load_earcon
from voicecoach.playback.render import (
    LIMIT_KNEE,
    clip_for,
    plan_mix,
    render_chunks,
    render_timeline,
    soft_limit,
)


def ramp(length: int, level: float = 0.5) -> np.ndarray:
    """A clip whose every sample differs, so a misplaced copy cannot match."""
    return np.linspace(level / length, level, length, dtype=np.float32)


def speech(time: float, text: str, clips: dict[str, np.ndarray]) -> Cue:
    return Cue(time, CueKind.SPEECH, text, clips[text].size / PLAYBACK_RATE)


def gated_timeline(clips: dict[str, np.ndarray]) -> Timeline:
    """Speech, a gate, more speech, an earcon and a repeat, with times off the sample grid.

    No two sounds overlap, whatever the gap, so each can be found intact in the mix.
    """
    return Timeline("t", "en", (
        Cue(0.0, CueKind.MARK, "ex", 4.0, MarkKind.EXERCISE),
        speech(0.05001, "step", clips),
        Cue(0.19, CueKind.EARCON, "ready"),  # 0.4 s long: ends just before the gate
        Cue(0.6, CueKind.GATE, "step 1"),
        speech(0.6, "go", clips),
        Cue(1.70003, CueKind.EARCON, "tick"),
        speech(2.33337, "go", clips),
        Cue(2.5, CueKind.MARK, "end", 0.0, MarkKind.END),
    ))


@pytest.fixture
def clips() -> dict[str, np.ndarray]:
    return {"step": ramp(3000), "go": ramp(2000, 0.3)}


@pytest.mark.parametrize("gap", [0.0, 3.0, 2.71828])
def test_each_sound_starts_at_its_scheduled_sample(clips: dict[str, np.ndarray],
                                                   gap: float) -> None:
    timeline = gated_timeline(clips)
    mix = render_timeline(timeline, clips, gap, load_earcon)
    for item in timeline.scheduled(gap):
        clip = clip_for(item.cue, clips, load_earcon)
        if clip is None:
            continue
        start = seconds_to_samples(item.time)
        np.testing.assert_allclose(mix[start:start + clip.size], clip, atol=1e-6)
        assert mix[start - 1] == 0.0  # nothing before it: the sound starts exactly here


@pytest.mark.parametrize("gap", [0.0, 3.0])
def test_length_is_the_timeline_length(clips: dict[str, np.ndarray], gap: float) -> None:
    timeline = gated_timeline(clips)
    mix = render_timeline(timeline, clips, gap, load_earcon)
    assert mix.dtype == np.float32 and mix.ndim == 1
    assert mix.size == seconds_to_samples(timeline.total_seconds(gap))


def test_placement_does_not_drift_over_many_cues() -> None:
    """Thousands of cues at off-grid times: each lands on round(time * rate), none drift."""
    clip = {"x": ramp(50)}
    times = [k * 0.0137 + 0.00004 for k in range(3000)]
    cues = tuple(Cue(t, CueKind.SPEECH, "x", 50 / PLAYBACK_RATE) for t in times)
    mix = render_timeline(Timeline("t", "en", cues), clip, 3.0, load_earcon)
    starts = np.flatnonzero((mix[1:] != 0) & (mix[:-1] == 0)) + 1
    assert mix[0] == 0 and starts.tolist() == [seconds_to_samples(t) for t in times]


def test_gaps_shift_everything_after_each_gate(clips: dict[str, np.ndarray]) -> None:
    timeline = gated_timeline(clips)
    without = render_timeline(timeline, clips, 0.0, load_earcon)
    with_gap = render_timeline(timeline, clips, 3.0, load_earcon)
    gate_at = seconds_to_samples(0.6)
    np.testing.assert_array_equal(with_gap[:gate_at], without[:gate_at])
    shifted = with_gap[gate_at + seconds_to_samples(3.0):]
    np.testing.assert_allclose(shifted[:without.size - gate_at], without[gate_at:], atol=1e-6)


def test_overlaps_are_summed_then_soft_limited() -> None:
    clips = {"a": np.full(1000, 0.6, np.float32), "b": np.full(1000, 0.3, np.float32)}
    cues = (Cue(0.0, CueKind.SPEECH, "a", 1000 / PLAYBACK_RATE),
            Cue(500 / PLAYBACK_RATE, CueKind.SPEECH, "a", 1000 / PLAYBACK_RATE),
            Cue(2000 / PLAYBACK_RATE, CueKind.SPEECH, "b", 1000 / PLAYBACK_RATE),
            Cue(2500 / PLAYBACK_RATE, CueKind.SPEECH, "b", 1000 / PLAYBACK_RATE))
    mix = render_timeline(Timeline("t", "en", cues), clips, 0.0, load_earcon)
    assert np.all(mix[:500] == np.float32(0.6))  # alone: untouched
    loud = mix[500:1000]  # 0.6 + 0.6 would clip
    assert np.all(loud < 1.0) and np.all(loud > LIMIT_KNEE)
    assert np.allclose(mix[2500:3000], 0.6)  # 0.3 + 0.3 is below the knee: a plain sum


def test_soft_limit_is_smooth_and_never_clips() -> None:
    x = np.linspace(-4.0, 4.0, 80001, dtype=np.float32)
    y = soft_limit(x.copy())
    quiet = np.abs(x) <= LIMIT_KNEE
    np.testing.assert_array_equal(y[quiet], x[quiet])
    assert np.all(np.abs(y) <= 1.0)
    assert np.all(np.abs(y[np.abs(x) <= 1.5]) < 1.0)  # two full-scale sounds still fit
    assert np.all(np.diff(y) >= 0)  # monotonic: louder in, louder (or equal) out
    assert np.max(np.abs(np.diff(y))) <= np.max(np.diff(x)) * 1.001  # no jump at the knee


def test_earcons_come_from_the_loader_by_name(clips: dict[str, np.ndarray]) -> None:
    asked: list[str] = []

    def loader(name: str) -> np.ndarray:
        asked.append(name)
        return load_earcon(name)

    timeline = gated_timeline(clips)
    mix = render_timeline(timeline, clips, 0.0, loader)
    tick = load_earcon("tick")
    start = seconds_to_samples(1.70003)
    assert sorted(asked) == ["ready", "tick"]  # each name loaded once
    np.testing.assert_allclose(mix[start:start + tick.size], tick, atol=1e-6)


def test_gates_and_marks_play_nothing_and_missing_speech_is_an_error() -> None:
    assert clip_for(Cue(0.0, CueKind.GATE, "step"), {}, load_earcon) is None
    assert clip_for(Cue(0.0, CueKind.MARK, "x", 1.0, MarkKind.REP), {}, load_earcon) is None
    with pytest.raises(KeyError, match="hello"):
        clip_for(Cue(0.0, CueKind.SPEECH, "hello", 0.5), {}, load_earcon)


@pytest.mark.parametrize("chunk", [97, 997, 2000, 1 << 18])
def test_chunks_join_up_to_the_whole_mix(clips: dict[str, np.ndarray], chunk: int) -> None:
    """Chunk edges cut through sounds (and overlaps) without changing a sample."""
    timeline = gated_timeline(clips)
    whole = render_timeline(timeline, clips, 3.0, load_earcon)
    mix = plan_mix(timeline, clips, 3.0, load_earcon)
    pieces = list(render_chunks(mix, chunk))
    assert all(piece.size == chunk for piece in pieces[:-1]) and 0 < pieces[-1].size <= chunk
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
