"""The spotter's training recipe (scripts/spotter/train.py, voicewarp.py): its voices
speak, its speaker warp moves what it says it moves, its labels fall where commands end."""

from __future__ import annotations

import random

import numpy as np
import pytest
import speechgen
import train
from voicewarp import warp_voice

RATE = speechgen.RATE


def median_f0(samples: np.ndarray) -> float:
    import pyworld
    f0, _ = pyworld.harvest(samples.astype(np.float64), RATE, f0_floor=50.0, f0_ceil=600.0)
    return float(np.median(f0[f0 > 0]))


def spectral_centroid(samples: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1.0 / RATE)
    return float((power * freqs).sum() / power.sum())


@pytest.fixture(scope="module")
def vowel() -> np.ndarray:
    return speechgen.say("aah", "en-us+m3", speed=100)


def test_warp_moves_pitch_and_leaves_formants(vowel: np.ndarray) -> None:
    up = warp_voice(vowel, RATE, semitones=7.0, formants=1.0)
    assert up.size == pytest.approx(vowel.size, abs=0.01 * RATE)
    assert median_f0(up) / median_f0(vowel) == pytest.approx(2 ** (7 / 12), rel=0.06)
    assert spectral_centroid(up) / spectral_centroid(vowel) == pytest.approx(1.0, abs=0.12)


def test_warp_moves_formants_and_leaves_pitch(vowel: np.ndarray) -> None:
    shorter_tract = warp_voice(vowel, RATE, semitones=0.0, formants=1.18)
    assert median_f0(shorter_tract) / median_f0(vowel) == pytest.approx(1.0, rel=0.04)
    assert spectral_centroid(shorter_tract) / spectral_centroid(vowel) > 1.1
    assert np.abs(shorter_tract).max() == pytest.approx(np.abs(vowel).max(), rel=1e-3)


@pytest.mark.parametrize("voice", train.load_recipe("en").other_voices)
def test_other_english_voices_speak_at_their_pitch(voice: str) -> None:
    low = speechgen.say("stop", voice, pitch=10)
    high = speechgen.say("stop", voice, pitch=90)
    assert 0.2 < low.size / RATE < 1.5 and 0.05 < np.abs(high).max() < 0.999
    assert median_f0(high) > median_f0(low) * 1.3


def test_labels_mark_the_frames_after_a_command_and_ignore_its_edges() -> None:
    frame = train.FRAME_SAMPLES / RATE
    y = train.labels(100, events=[(3, 40 * frame - 1e-6)], ignores=[(70 * frame, 75 * frame)])
    assert (y[:train.FRAMES] == train.IGNORE).all()
    assert y[38] == train.IGNORE and y[39] == 3  # frame 39 ends at 40 * frame
    positive = np.flatnonzero(y == 3)
    assert positive.size == round(train.POSITIVE_SECONDS / frame)
    assert y[positive[-1] + 1] == train.IGNORE and y[55] == 0
    assert (y[71:81] == train.IGNORE).all() and y[90] == 0


def test_shorter_alias_rest_finds_the_words_after_a_shorter_alias() -> None:
    aliases = ("next", "next step", "go on")
    assert train.shorter_alias_rest(aliases, "next step") == "step"
    assert train.shorter_alias_rest(aliases, "next") == ""
    assert train.shorter_alias_rest(aliases, "go on") == ""


def test_warped_turns_follow_the_recipe_share() -> None:
    recipe = train.load_recipe("en")
    rng = random.Random(5)
    warps = [train.speaker_warp(rng, recipe) for _ in range(2000)]
    drawn = [w for w in warps if w is not None]
    assert len(drawn) / len(warps) == pytest.approx(recipe.warp_share, abs=0.04)
    low, high = recipe.warp_semitones
    assert all(low <= semitones <= high for semitones, _ in drawn)
    low, high = recipe.warp_formants
    assert all(low <= formants <= high for _, formants in drawn)
