"""The hybrid recogniser (voicecoach/recognition/hybrid.py): the real spotter and PocketSphinx on the
same espeak-ng speech."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import numpy as np
import pytest
import speechgen

from voicecoach.commands import Command, load_vocabulary
from voicecoach.errors import InputError
from voicecoach.planning.plan import PlanRequest
from voicecoach.recognition import base as recognizer_module
from voicecoach.recognition.base import CommandHeard, CommandRecognizer, Tuning, recognize_samples
from voicecoach.recognition.echo import ECHO_THRESHOLD_DB, FALLBACK_ECHO_THRESHOLD_DB
from voicecoach.recognition.factory import create_recognizer, resolve_engine
from voicecoach.recognition.hybrid import HYBRID_SPOTTER_TUNING, HybridRecognizer
from voicecoach.recognition.pocketsphinx_engine import SPHINX_TUNING, PocketSphinxRecognizer
from voicecoach.recognition.spotter import create_spotter
from voicecoach.recognition.vosk_models import has_vosk_model
from voicecoach.session.messages import Heard
from voicecoach.session.microphone import echo_line
from voicecoach.session.runner import (
    DEFAULT_LATENCY,
    GRAMMAR_ENGINE_LATENCY,
    SessionOptions,
    output_latency,
)

# Commands PocketSphinx hears in this voice on its own, so the fallback can be checked
# (espeak-ng's "next" alone it often mishears: 12 of 20 on benchmarks/commands.py).
WORDS = ["pause", "three", "resume", "lower slowly", "repeat", "stop"]
COMMANDS = ["pause", "resume", "repeat", "stop"]
CHUNK = 0.03


@pytest.fixture(scope="module")
def session_talk() -> tuple[np.ndarray, list[speechgen.Placed]]:
    # A lead-in as a session has before the first command: PocketSphinx adapts to the
    # microphone over its first seconds.
    signal, placed = speechgen.layout([(w, speechgen.say(w, "en-gb+m7")) for w in WORDS],
                                      gap=1.2, lead=2.0)
    return signal + speechgen.pink_noise(signal.size / speechgen.RATE, seed=4) * 0.003, placed


def hybrid(spotter_threshold: float = HYBRID_SPOTTER_TUNING.threshold) -> HybridRecognizer:
    vocabulary = load_vocabulary("en")
    tuning = Tuning(threshold=spotter_threshold, settle=None,
                    dither=HYBRID_SPOTTER_TUNING.dither)
    return HybridRecognizer(create_spotter("en", vocabulary, tuning=tuning, live=True),
                            PocketSphinxRecognizer(vocabulary, SPHINX_TUNING, live=True))


def heard_live(recognizer: CommandRecognizer, signal: np.ndarray
               ) -> list[tuple[CommandHeard, float]]:
    """Each command and the stream position when it was reported, fed in 30 ms chunks."""
    recognizer.reset()
    step = int(CHUNK * speechgen.RATE)
    out = []
    for first in range(0, signal.size, step):
        out += [(h, recognizer.position) for h in recognizer.accept(signal[first:first + step])]
    return out + [(h, recognizer.position) for h in recognizer.flush()]


def test_each_command_is_reported_once(session_talk: tuple[np.ndarray, list]) -> None:
    """Both engines hear every command here; the second report of each is dropped."""
    signal, _ = session_talk
    heard = heard_live(hybrid(), signal)
    assert [h.command for h, _ in heard] == COMMANDS


def test_the_spotter_answers_first_and_the_grammar_engine_catches_its_misses(
        session_talk: tuple[np.ndarray, list]) -> None:
    signal, placed = session_talk
    ends = {p.text: p.end for p in placed}
    with_spotter = heard_live(hybrid(), signal)
    deaf_spotter = heard_live(hybrid(spotter_threshold=1.01), signal)  # it never fires
    assert [h.command for h, _ in deaf_spotter] == COMMANDS
    # Each report names the engine that heard it (logged, so self-triggers can be traced).
    assert {h.engine for h, _ in deaf_spotter} == {"pocketsphinx"}
    assert "spotter" in {h.engine for h, _ in with_spotter}
    delays = {h.command: (position - ends[h.command]) for h, position in with_spotter}
    fallback = {h.command: (position - ends[h.command]) for h, position in deaf_spotter}
    assert np.median(list(delays.values())) < np.median(list(fallback.values())) - 0.1
    assert max(delays.values()) < 0.5


def test_reports_the_spotter_let_pass_meet_a_stricter_echo_line(
        session_talk: tuple[np.ndarray, list]) -> None:
    recognizer = hybrid()
    lines = {h.engine: echo_line(recognizer, Heard(h.command, h.text, engine=h.engine))
             for h, _ in heard_live(recognizer, session_talk[0])
             + heard_live(hybrid(spotter_threshold=1.01), session_talk[0])}
    assert lines == {"spotter": ECHO_THRESHOLD_DB, "pocketsphinx": FALLBACK_ECHO_THRESHOLD_DB}
    # Alone, PocketSphinx is the only engine: its reports keep the usual line.
    alone = PocketSphinxRecognizer(load_vocabulary("en"), SPHINX_TUNING, live=False)
    assert echo_line(alone, Heard(Command.PAUSE, engine="pocketsphinx")) == ECHO_THRESHOLD_DB


def pauses_over_music(seconds: float, snr_db: float, seed: int) -> np.ndarray:
    """ "pause" every 10 s over continuous music ``snr_db`` under the voice."""
    speech = np.zeros(int(seconds * speechgen.RATE), np.float32)
    word = speechgen.say("pause", "en-us")
    for at in range(10, int(seconds) - 5, 10):
        speech[at * speechgen.RATE:at * speechgen.RATE + word.size] += word
    return speechgen.mix_at_snr(speech, speechgen.music_bed(seconds, seed), snr_db)


@pytest.fixture(scope="module")
def loud_music() -> np.ndarray:
    return pauses_over_music(40.0, 6.0, seed=2)


def commands_live(recognizer: CommandRecognizer, signal: np.ndarray) -> list[str]:
    return [h.command for h, _ in heard_live(recognizer, signal)]


@pytest.mark.slow
def test_pocketsphinx_takes_no_thump_for_a_command() -> None:
    """PocketSphinx decodes this bed's kick drum as "done" in 0.09-0.13 s; real command
    words take longer (SPHINX_TUNING.min_span)."""
    signal = pauses_over_music(60.0, 12.0, seed=1)
    vocabulary = load_vocabulary("en")
    unchecked = dataclasses.replace(SPHINX_TUNING, min_span=0.0)
    assert "done" in commands_live(PocketSphinxRecognizer(vocabulary, unchecked), signal)
    assert "done" not in commands_live(PocketSphinxRecognizer(vocabulary, SPHINX_TUNING), signal)


@pytest.mark.slow
def test_the_fallback_needs_a_little_of_the_spotters_belief(loud_music: np.ndarray) -> None:
    """Louder music: PocketSphinx's "done"s last as long as words, but the spotter gives
    them next to nothing (hybrid.CORROBORATION). Real commands it does not fire on still
    get through: test_the_spotter_answers_first_and_the_grammar_engine_catches_its_misses."""
    assert "done" in commands_live(PocketSphinxRecognizer(load_vocabulary("en"), SPHINX_TUNING),
                                   loud_music)
    assert commands_live(hybrid(), loud_music) == ["pause"] * 3


@pytest.mark.slow
def test_a_command_reported_seconds_late_is_dropped(loud_music: np.ndarray,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Under loud music PocketSphinx's endpointer seldom closes an utterance, so some of
    its reports come seconds after the "word"."""
    def delays() -> list[float]:
        ps = PocketSphinxRecognizer(load_vocabulary("en"), SPHINX_TUNING, live=True)
        return [position - h.end for h, position in heard_live(ps, loud_music)]

    late = recognizer_module.LATE_SECONDS
    kept = delays()
    assert kept and max(kept) <= late
    monkeypatch.setattr(recognizer_module, "LATE_SECONDS", float("inf"))
    assert max(delays()) > late


@pytest.mark.slow
def test_whole_files_are_decoded_the_same_way(session_talk: tuple[np.ndarray, list]) -> None:
    recognizer = create_recognizer("en", "hybrid", live=False, gate=None)
    assert isinstance(recognizer, HybridRecognizer)
    heard = recognize_samples(recognizer, session_talk[0])
    assert [h.command for h in heard] == COMMANDS
    assert heard == recognize_samples(recognizer, session_talk[0])  # reset forgets all


def test_auto_is_the_hybrid_for_english_and_the_spotter_for_korean() -> None:
    assert resolve_engine("en") == "hybrid"
    assert resolve_engine("ko") == "spotter"


def test_a_wake_word_needs_an_engine_that_hears_words() -> None:
    assert resolve_engine("en", wake=True) == "hybrid"
    assert resolve_engine("en", "pocketsphinx", wake=True) == "pocketsphinx"
    with pytest.raises(InputError, match="--engine spotter cannot hear a wake word"):
        resolve_engine("en", "spotter", wake=True)
    # English: the same engines as without the wake word, so the same short buffer; a
    # hybrid that decodes with Vosk too (Korean) gets the longer one.
    request = PlanRequest("hip-thrust", "en", wake="coach")
    assert output_latency(SessionOptions(request)) == DEFAULT_LATENCY
    if has_vosk_model("ko"):
        korean = PlanRequest("hip-thrust", "ko", wake="코치")
        assert output_latency(SessionOptions(korean)) == GRAMMAR_ENGINE_LATENCY


@pytest.mark.parametrize("engine, expected", [("auto", DEFAULT_LATENCY),
                                              ("hybrid", DEFAULT_LATENCY),
                                              ("spotter", DEFAULT_LATENCY),
                                              ("pocketsphinx", GRAMMAR_ENGINE_LATENCY)])
def test_the_hybrid_keeps_the_short_output_buffer(engine: str, expected: float) -> None:
    """Its reactions come from the spotter; a grammar engine alone gets the longer one."""
    options = SessionOptions(PlanRequest("hip-thrust", "en"), engine=engine)
    assert output_latency(options) == expected
    assert output_latency(replace(options, output_latency=0.3)) == 0.3
