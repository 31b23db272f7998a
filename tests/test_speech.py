"""SpeechRenderer against real espeak-ng through pyttsx3: trimming, loudness, cache, voices."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio import PLAYBACK_RATE
from voicecoach.cli import main
from voicecoach.errors import InputError, OutputError
from voicecoach.playback.speech import (
    SpeechRenderer,
    default_voice,
    limit,
    list_voices,
    resolve_voice,
    trim,
)

EN_WORDS = ["one", "two", "six", "seven", "three", "Switch sides."]
KO_PHRASE = "하나, 둘, 셋"


def ms(samples: int) -> float:
    return 1000.0 * samples / PLAYBACK_RATE


def db(value: float) -> float:
    return 20.0 * float(np.log10(value))


def envelope_loudness(clip: np.ndarray) -> float:
    """An independent loudness measure: RMS of the 50 ms windows louder than 10% of the max."""
    window = int(0.05 * PLAYBACK_RATE)
    power = np.convolve(clip.astype(np.float64) ** 2, np.ones(window) / window, "valid")
    loud = power[power >= 0.1 * power.max()]
    return db(np.sqrt(loud.mean()))


@pytest.fixture
def english(tmp_path: Path) -> SpeechRenderer:
    return SpeechRenderer(default_voice("en"), cache_dir=tmp_path / "speech")


@pytest.mark.parametrize(
    ("voice", "texts"), [("gmw/en-us", EN_WORDS), ("ko", ["하나", "둘", "셋", "세트 2 / 3"])]
)
def test_clips_are_float32_mono_and_start_with_speech_at_sample_0(
    voice: str, texts: list[str], tmp_path: Path
) -> None:
    renderer = SpeechRenderer(voice, cache_dir=tmp_path)
    for text in texts:
        clip = renderer.render(text)
        assert clip.dtype == np.float32 and clip.ndim == 1
        assert 0.1 < clip.size / PLAYBACK_RATE < 2.0, text
        peak = np.abs(clip).max()
        loud = np.flatnonzero(np.abs(clip) >= 0.01 * peak)
        assert ms(loud[0]) <= 2.0, f"{text!r}: onset at {ms(loud[0]):.1f} ms"
        assert ms(clip.size - 1 - loud[-1]) <= 15.0, f"{text!r}: trailing silence"
        # The first 20 ms already carry speech (even a soft "h"), not near-silence.
        assert np.abs(clip[: int(0.02 * PLAYBACK_RATE)]).max() >= 0.03 * peak, text
        assert abs(clip[0]) < 0.01 and abs(clip[-1]) < 0.01, f"{text!r}: clicks at the cut"


def test_phrases_are_equally_loud_and_peak_limited(english: SpeechRenderer, tmp_path: Path) -> None:
    korean = SpeechRenderer("ko", cache_dir=tmp_path / "speech")
    clips = [english.render(t) for t in ["two", "Let's begin. Say next when ready.", "seven"]]
    clips.append(korean.render(KO_PHRASE))
    levels = [envelope_loudness(clip) for clip in clips]
    assert max(levels) - min(levels) < 2.0, levels
    assert all(-24.0 < level < -16.0 for level in levels), levels
    assert all(np.abs(clip).max() <= 10 ** (-1 / 20) + 1e-4 for clip in clips)


def test_second_renderer_with_same_cache_synthesises_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "shared"
    first = SpeechRenderer("gmw/en-us", cache_dir=cache)
    clips = first.render_all(EN_WORDS)
    assert (first.synthesised, first.cache_hits) == (len(EN_WORDS), 0)
    first.render_all(EN_WORDS)  # repeats come from memory
    assert first.synthesised == len(EN_WORDS)

    second = SpeechRenderer("en-us", cache_dir=cache)  # same voice, short id
    again = second.render_all(EN_WORDS)
    assert (second.synthesised, second.cache_hits) == (0, len(EN_WORDS))
    for text in EN_WORDS:
        np.testing.assert_array_equal(again[text], clips[text])
    assert not list(cache.glob("*.tmp")), "temp files left behind"


RENDER_IN_CHILD = """
import sys
from voicecoach.playback.speech import SpeechRenderer
renderer = SpeechRenderer("gmw/en-us", cache_dir=sys.argv[1])
renderer.render_all(sys.argv[2:])
"""


def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    texts = [f"Set {n} of 12." for n in range(1, 13)]
    children = [
        subprocess.Popen([sys.executable, "-c", RENDER_IN_CHILD, str(tmp_path), *texts])
        for _ in range(2)
    ]
    assert [child.wait(timeout=60) for child in children] == [0, 0]
    assert len(list(tmp_path.glob("*.wav"))) == len(texts)
    assert not list(tmp_path.glob("*.tmp"))
    reader = SpeechRenderer("gmw/en-us", cache_dir=tmp_path)
    assert all(reader.render(text).size > 0 for text in texts)
    assert (reader.synthesised, reader.cache_hits) == (0, len(texts))


def test_unwritable_cache_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    renderer = SpeechRenderer("gmw/en-us", cache_dir=blocker / "speech")
    with pytest.raises(OutputError, match="speech cache file .*VOICECOACH_CACHE"):
        renderer.render("one")


def test_rate_voice_and_text_make_different_cache_keys(tmp_path: Path) -> None:
    slow = SpeechRenderer("gmw/en-us", rate=120, cache_dir=tmp_path)
    fast = SpeechRenderer("gmw/en-us", rate=260, cache_dir=tmp_path)
    british = SpeechRenderer("gmw/en", rate=120, cache_dir=tmp_path)
    text = "Lower slowly, all the way down."
    assert len({slow.cache_path(text), fast.cache_path(text), british.cache_path(text)}) == 3
    assert slow.cache_path(text) != slow.cache_path(text + " ")
    assert slow.duration(text) > 1.4 * fast.duration(text)
    assert (slow.synthesised, fast.synthesised, fast.cache_hits) == (1, 1, 0)


def test_damaged_cache_file_is_synthesised_again(tmp_path: Path) -> None:
    text = "Rest, thirty seconds."
    original = SpeechRenderer("gmw/en-us", cache_dir=tmp_path).render(text)
    path = SpeechRenderer("gmw/en-us", cache_dir=tmp_path).cache_path(text)
    path.write_bytes(b"RIFF not really a wav")
    renderer = SpeechRenderer("gmw/en-us", cache_dir=tmp_path)
    # espeak-ng's output varies by a few samples between runs, so compare lengths.
    assert renderer.render(text).size == pytest.approx(original.size, rel=0.02)
    assert (renderer.synthesised, renderer.cache_hits) == (1, 0)
    repaired = SpeechRenderer("gmw/en-us", cache_dir=tmp_path)
    np.testing.assert_array_equal(repaired.render(text), renderer.render(text))
    assert (repaired.synthesised, repaired.cache_hits) == (0, 1)


def test_render_all_renders_each_distinct_text_once_with_progress(
    english: SpeechRenderer,
) -> None:
    calls: list[tuple[int, int]] = []
    clips = english.render_all(["one", "two", "one", "three"], progress=lambda *a: calls.append(a))
    assert list(clips) == ["one", "two", "three"]
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert english.synthesised == 3
    assert english.duration("three") == pytest.approx(clips["three"].size / PLAYBACK_RATE)
    assert english.duration("one, two, three, four") > english.duration("one")


def test_clips_are_read_only(english: SpeechRenderer) -> None:
    with pytest.raises(ValueError):
        english.render("one")[0] = 1.0


def test_korean_renders_with_the_korean_voice(tmp_path: Path) -> None:
    voice = default_voice("ko")
    assert voice == "ko"
    clip = SpeechRenderer(voice, cache_dir=tmp_path).render(KO_PHRASE)
    assert clip.size / PLAYBACK_RATE > 0.5
    assert np.sqrt(np.mean(clip**2)) > 0.03


def test_voice_lookup_and_defaults() -> None:
    voices = {voice.id: voice for voice in list_voices()}
    assert default_voice("en") == "gmw/en-us" and "en-us" in voices["gmw/en-us"].languages
    assert default_voice("en_GB") in voices and "en-gb" in voices[default_voice("en-gb")].languages
    assert default_voice("ko-KR") == "ko" and default_voice("en-AU") == "gmw/en-us"
    assert resolve_voice("EN-US") == "gmw/en-us"
    with pytest.raises(InputError, match="no espeak-ng voice for language 'xx'"):
        default_voice("xx")


def test_unknown_voice_and_bad_rate_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown voice 'klingon'.*voicecoach voices"):
        SpeechRenderer("klingon", cache_dir=tmp_path)
    with pytest.raises(InputError, match="rate 5 "):
        SpeechRenderer("gmw/en-us", rate=5, cache_dir=tmp_path)


def test_blank_text_renders_to_an_empty_clip(english: SpeechRenderer) -> None:
    assert english.render("  ").size == 0
    assert english.synthesised == 0


def test_trim_puts_the_onset_at_sample_0() -> None:
    t = np.arange(int(0.2 * PLAYBACK_RATE)) / PLAYBACK_RATE
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    silence = np.zeros(int(0.3 * PLAYBACK_RATE), dtype=np.float32)
    clip = trim(np.concatenate([silence, tone, silence]))
    assert tone.size <= clip.size <= tone.size + int(0.012 * PLAYBACK_RATE)
    assert ms(np.flatnonzero(np.abs(clip) > 0.01)[0]) <= 1.5


def test_limiter_holds_the_ceiling_without_jumps() -> None:
    t = np.arange(PLAYBACK_RATE // 2) / PLAYBACK_RATE
    swell = 1.0 + 3.0 * np.exp(-(((t - 0.25) / 0.01) ** 2))  # a 4x burst, 10 ms wide
    signal = 0.3 * swell * np.sin(2 * np.pi * 200 * t)
    limited = limit(signal, 0.5)
    assert np.abs(signal).max() > 1.0 and np.abs(limited).max() <= 0.5
    quiet = slice(0, int(0.2 * PLAYBACK_RATE))
    np.testing.assert_allclose(limited[quiet], signal[quiet])  # away from the burst: untouched
    # No clicks: never steeper than a 200 Hz sine at the ceiling (plus a little gain ripple).
    assert np.abs(np.diff(limited)).max() <= 1.2 * 0.5 * 2 * np.pi * 200 / PLAYBACK_RATE


def test_voices_command_lists_ids_for_a_language(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voices", "--lang", "ko"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["*", "ko"]]

    assert main(["voices", "--lang", "en"]) == 0
    ids = [line[2:].split()[0] for line in capsys.readouterr().out.splitlines()]
    assert "gmw/en-us" in ids and "ko" not in ids
    for voice_id in ids:
        assert resolve_voice(voice_id) == voice_id

    assert main(["voices", "--lang", "ko-KR"]) == 0
    assert capsys.readouterr().out.split()[:2] == ["*", "ko"]

    assert main(["voices", "--lang", "xx"]) == 2
    assert "no voice for language 'xx'" in capsys.readouterr().err


def test_voices_command_marks_each_languages_default(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --lang, the default of every language listed is marked (it was none)."""
    assert main(["voices"]) == 0
    starred = {line.split()[1] for line in capsys.readouterr().out.splitlines()
               if line.startswith("*")}
    assert {default_voice("en"), default_voice("ko"), default_voice("de")} <= starred
    assert "gmw/en" not in starred  # one default per language: en-gb is not English's
    bases = {voice.languages[0].split("-")[0] for voice in list_voices()}
    assert len(starred) == len(bases)


def test_pronunciation_hints_change_the_speech_not_the_text(tmp_path: Path) -> None:
    """[pronounce] respellings reach espeak-ng only: whole words, any case."""
    hinted = SpeechRenderer("gmw/en-us", cache_dir=tmp_path, pronounce={"Eccentric": "Ex-sentric"})
    assert hinted.spoken("An eccentric pad, eccentrically.") == "An Ex-sentric pad, eccentrically."
    plain = SpeechRenderer("gmw/en-us", cache_dir=tmp_path)
    np.testing.assert_array_equal(hinted.render("Eccentric"), plain.render("Ex-sentric"))
    assert not np.array_equal(plain.render("Eccentric"), plain.render("Ex-sentric"))
    assert hinted.cache_path("Eccentric") == plain.cache_path("Ex-sentric")


def test_english_catalogue_respells_for_speech_only() -> None:
    from voicecoach.planning.phrases import load_phrases
    from voicecoach.planning.plan import PlanRequest, make_plan

    phrases = load_phrases("en")
    assert phrases.pronounce.get("Eccentric")
    plan = make_plan(PlanRequest("hip-thrust"))
    assert plan.speech.pronounce == phrases.pronounce
    texts = plan.timeline.speech_texts()
    assert any("Eccentric" in t for t in texts)  # shown and logged as written
    assert not any(v in t for t in texts for v in phrases.pronounce.values())
