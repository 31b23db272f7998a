"""export_audio and write_timeline_json with the real ffmpeg, read back with ffprobe/mutagen."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audioprobe import id3_chapters, probe, read_wav
from voicecoach.audio import SAMPLE_RATE, seconds_to_samples
from voicecoach.earcons import load_earcon
from voicecoach.errors import InputError, MissingDependencyError, OutputError
from voicecoach.export import export_audio, supported_extensions, write_timeline_json
from voicecoach.render import render_timeline
from voicecoach.timeline import Chapter, Cue, CueKind, MarkKind, Position, Timeline

TAGS = {"title": "Bridge; day = 1", "album": "voicecoach tests", "artist": "Coach"}


def tone(seconds: float, frequency: float) -> np.ndarray:
    t = np.arange(seconds_to_samples(seconds)) / SAMPLE_RATE
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
    assert info.sample_rate == SAMPLE_RATE and info.channels == 1
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
    with pytest.raises(MissingDependencyError, match="ffmpeg"):
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
