"""The utterance gate (voicecoach/recognition/gate.py): real espeak-ng speech, the real
Silero voice-activity model and the real engines behind it."""

from __future__ import annotations

import numpy as np
import pytest
from speechgen import layout, pink_noise, say

from voicecoach.commands import Command
from voicecoach.recognition.base import CommandHeard, recognize_samples
from voicecoach.recognition.factory import create_recognizer
from voicecoach.recognition.gate import UtteranceGate, Verdict
from voicecoach.recognition.vad import FRAME_SECONDS, SpeechDetector

# Sentences whose command words belong to the sentence: a trainer talking.
TALK = ["Next week we will add some weight to the bar.",
        "Wait for my count before you lower, and stop if it hurts.",
        "Don't pause at the top, just keep going and you are done."]
# The same words as commands: said alone, or with a word around them.
COMMANDS = [("next", Command.NEXT), ("okay, pause", Command.PAUSE), ("done please", Command.DONE)]


@pytest.fixture(scope="module")
def talk_then_commands() -> tuple[np.ndarray, list]:
    parts = [(text, say(text)) for text in TALK] + [(text, say(text)) for text, _ in COMMANDS]
    signal, placed = layout(parts, gap=1.0)
    return signal + 0.003 * pink_noise(signal.size / 16000), placed


@pytest.mark.parametrize("engine", ["spotter", pytest.param("hybrid", marks=pytest.mark.slow)])
def test_commands_inside_sentences_are_ignored_and_alone_obeyed(
        talk_then_commands: tuple[np.ndarray, list], engine: str) -> None:
    signal, placed = talk_then_commands
    gated = create_recognizer("en", engine, live=True, threaded=False)
    heard = recognize_samples(gated, signal, 0.05)
    talk_end = placed[len(TALK) - 1].end
    assert [h.command for h in heard] == [command for _, command in COMMANDS], heard
    assert all(h.start > talk_end for h in heard)
    # Without the gate the same engine obeys words inside the talk: the gate is what
    # keeps them out.
    bare = create_recognizer("en", engine, live=True, threaded=False, gate=None)
    inside = [h for h in recognize_samples(bare, signal, 0.05) if h.end < talk_end]
    assert inside, "the talk no longer holds command-like words the engine hears"


def test_speech_detector_finds_speech_and_not_noise() -> None:
    speech = say("Keep your ribs down and breathe out as you drive up.")
    signal = np.concatenate([np.zeros(16000, np.float32), speech, np.zeros(16000, np.float32)])
    signal = signal + 0.003 * pink_noise(signal.size / 16000)
    detector = SpeechDetector()
    for start in range(0, signal.size, 800):
        detector.push(signal[start:start + 800])
    assert detector.decided_until == pytest.approx(signal.size // 512 * FRAME_SECONDS)
    quiet = detector.probabilities(0.0, 0.9)
    talking = detector.probabilities(1.2, 1.0 + speech.size / 16000 - 0.2)
    assert quiet.max() < 0.5 and np.mean(talking >= 0.5) > 0.7


def test_a_report_waits_for_the_silence_after_it() -> None:
    """Live, the gate holds a command until the utterance has ended: more speech right
    after the word ("next week...") turns it down, silence lets it through."""
    spotter = create_recognizer("en", "spotter", live=True, gate=None)
    gate = UtteranceGate(spotter)
    word = say("next")
    lead = np.zeros(8000, np.float32)
    gate.accept(np.concatenate([lead, word]))
    heard = CommandHeard(Command.NEXT, "next", 0.3, 0.5 + word.size / 16000, 0.9, "spotter")
    assert gate.verdict(heard) is Verdict.WAIT
    gate.accept(say("week we will add some weight"))
    assert gate.verdict(heard) is Verdict.SPEECH_GOES_ON
    gate.reset()
    gate.accept(np.concatenate([lead, word, np.zeros(8000, np.float32)]))
    assert gate.verdict(heard) is Verdict.PASS
