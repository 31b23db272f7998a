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


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_turn_kinds_follow_the_recipe_shares(lang: str) -> None:
    recipe = train.load_recipe(lang)
    assert sum(recipe.turns.values()) == pytest.approx(1.0)
    rng = random.Random(3)
    kinds = [train.turn_kind(rng.random(), recipe.turns) for _ in range(20000)]
    for kind, share in recipe.turns.items():
        assert kinds.count(kind) / len(kinds) == pytest.approx(share, abs=0.01), kind


def test_a_recipe_without_replies_draws_turns_as_before() -> None:
    # The old recipe's thresholds: command < 0.30 <= coach < 0.45 <= filler < 0.60 <=
    # carriers < 0.80 <= gym < 0.95 <= silence.
    for draw, kind in [(0.29, "command"), (0.31, "coach"), (0.59, "filler"),
                       (0.79, "carriers"), (0.94, "gym"), (0.96, "silence")]:
        assert train.turn_kind(draw, train.TURNS) == kind


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_training_replies_are_no_commands_and_none_is_held_out(lang: str) -> None:
    from voicecoach.commands import load_vocabulary
    recipe = train.load_recipe(lang)
    held_out = train.short_replies([f"benchmarks/talk/{lang}/short.held-out.txt"])
    aliases = {alias for names in load_vocabulary(lang).commands.values() for alias in names}
    assert len(recipe.replies) > 100
    assert not {train._normal(r) for r in recipe.replies} & {train._normal(h) for h in held_out}
    assert not {train._normal(r) for r in recipe.replies} & {train._normal(a) for a in aliases}


def test_praise_ending_in_done_is_a_negative_and_other_command_words_are_ignored() -> None:
    recipe = train.load_recipe("en")
    assert train.negative_label("Very well done.", recipe, reply=True) == 0
    assert train.negative_label("Next week?", recipe, reply=True) == train.IGNORE
    assert train.negative_label("See you Friday.", recipe, reply=True) == 0
    assert train.negative_label("Well done, now stop.", recipe) == train.IGNORE
    assert "well" not in recipe.prefixes


def test_commands_are_also_said_after_a_reply() -> None:
    recipe = train.load_recipe("ko")
    rng, texts = random.Random(2), []

    def say(text: str) -> np.ndarray:
        texts.append(text)
        return np.zeros(RATE, np.float32)

    for _ in range(300):
        texts.clear()
        train.command(rng, recipe, say, filler_prefix=False)
        if texts and any(texts[0].startswith(p.rstrip(".!?") + " ") or
                         texts[0].startswith(p.rstrip(".!?") + ",")
                         for p in train.reply_prefixes(recipe)):
            break
    else:
        pytest.fail("no command was said after a reply in 300 tries")
    assert all(not recipe.command_words.search(p) for p in train.reply_prefixes(recipe))
