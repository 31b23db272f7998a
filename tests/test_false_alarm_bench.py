"""The false-alarm benchmark's data and its speech-run detector (benchmarks/talkcorpus.py,
benchmarks/isolation.py): no talk line is a command on its own, both splits exist for
every category, and the detector finds real espeak-ng sentences where they were laid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import speechgen
import talkcorpus
from isolation import isolation, speech_runs

from voicecoach.commands import load_vocabulary, words_of

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

SPEECH_CATEGORIES = [c for c in talkcorpus.CATEGORIES if c != "music"]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_no_talk_line_is_a_command_on_its_own(language: str) -> None:
    vocabulary = load_vocabulary(language)
    aliases = {words_of(alias) for aliases in vocabulary.commands.values() for alias in aliases}
    for category in SPEECH_CATEGORIES:
        for split in talkcorpus.SPLITS:
            lines = [line for p in talkcorpus.paragraphs(language, category, split) for line in p]
            assert len(lines) >= 18, (category, split)
            for line in lines:
                words = words_of(line)
                assert words not in aliases, line
                # a command with only filler around it ("okay next") would be one too
                rest = [w for w in words if w not in vocabulary.filler]
                assert tuple(rest) not in aliases, line
                assert len(words) >= (1 if category == "short" else 2), line


@pytest.mark.parametrize("language", ["en", "ko"])
def test_tune_and_held_out_share_no_text_or_voice(language: str) -> None:
    for category in SPEECH_CATEGORIES:
        tune = {line for p in talkcorpus.paragraphs(language, category, "tune") for line in p}
        held = {line for p in talkcorpus.paragraphs(language, category, "held-out") for line in p}
        assert not tune & held, category
    tune_voices = {v.label for v in talkcorpus.voices.__wrapped__(language, "tune")}
    held_voices = {v.label for v in talkcorpus.voices.__wrapped__(language, "held-out")}
    assert not tune_voices & held_voices


def test_speech_runs_find_sentences_and_the_quiet_between() -> None:
    parts = [(text, speechgen.say(text, "en-us")) for text in
             ("Keep your chin tucked in.", "Good depth on that one.", "Next")]
    signal, placed = speechgen.layout(parts, gap=1.0, lead=1.5, tail=1.5)
    music = speechgen.music_bed(signal.size / speechgen.RATE, 3)
    floor = 0.003 * np.random.default_rng(0).standard_normal(signal.size)
    for audio in (signal + floor, speechgen.mix_at_snr(signal, music, 15.0)):
        runs = speech_runs(audio.astype(np.float32))
        assert len(runs) == 3, runs
        for run, part in zip(runs, placed):
            assert abs(run.start - part.start) < 0.1 and abs(run.end - part.end) < 0.1
        seconds = audio.size / speechgen.RATE
        last = isolation(runs, placed[2].end - 0.5, placed[2].end, seconds)
        assert 0.9 < last.before < 1.15 and 1.3 < last.after < 1.6
        assert last.run == pytest.approx(placed[2].end - placed[2].start, abs=0.1)
        assert last.censored_after and not last.censored_before
