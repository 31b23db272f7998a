"""Read exported audio back for tests: ffprobe, mutagen, WAV samples, onset detection.

Everything here reads real files with the real tools (ffprobe, mutagen); nothing knows
how voicecoach wrote them.
"""

from __future__ import annotations

import json
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.audio import PLAYBACK_RATE, from_int16, seconds_to_samples
from voicecoach.planning.timeline import Chapter


@dataclass(frozen=True)
class Probe:
    """What ffprobe says about a file: duration, tags (lower-case keys), chapters."""

    duration: float
    tags: dict[str, str]
    chapters: list[Chapter]
    codec: str
    sample_rate: int
    channels: int


def probe(path: Path) -> Probe:
    """ffprobe a file; tags merge container and stream tags (Ogg keeps them per stream)."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
         "-show_streams", "-show_chapters", str(path)],
        capture_output=True, text=True, check=True)
    data = json.loads(result.stdout)
    audio = next(s for s in data["streams"] if s.get("codec_type") == "audio")
    tags: dict[str, str] = {}
    for source in (audio.get("tags", {}), data["format"].get("tags", {})):
        tags.update({key.lower(): value for key, value in source.items()})
    chapters = [Chapter(c.get("tags", {}).get("title", ""), float(c["start_time"]),
                              float(c["end_time"])) for c in data.get("chapters", [])]
    return Probe(float(data["format"]["duration"]), tags, chapters, audio["codec_name"],
                 int(audio["sample_rate"]), int(audio["channels"]))


@dataclass(frozen=True)
class Id3Chapters:
    """The ID3v2 chapter frames of an MP3, read with mutagen."""

    version: tuple[int, int, int]
    chapters: list[tuple[str, float, float]]  # title, start, end (seconds), in time order
    toc_children: list[str]  # CTOC child element ids


def id3_chapters(path: Path) -> Id3Chapters:
    """CHAP frames (with their TIT2 titles) and the CTOC table of contents."""
    from mutagen.id3 import ID3

    tags = ID3(path)
    chapters = []
    for frame in tags.getall("CHAP"):
        title = frame.sub_frames["TIT2"].text[0] if "TIT2" in frame.sub_frames else ""
        chapters.append((str(title), frame.start_time / 1000.0, frame.end_time / 1000.0))
    tocs = tags.getall("CTOC")
    children = list(tocs[0].child_element_ids) if tocs else []
    return Id3Chapters(tags.version, sorted(chapters, key=lambda c: c[1]), children)


def read_wav(path: Path) -> np.ndarray:
    """A 16-bit mono WAV at PLAYBACK_RATE as float32."""
    with wave.open(str(path), "rb") as handle:
        assert handle.getnchannels() == 1 and handle.getsampwidth() == 2
        assert handle.getframerate() == PLAYBACK_RATE
        frames = handle.readframes(handle.getnframes())
    return from_int16(np.frombuffer(frames, dtype=np.int16))


HOP_SECONDS = 0.001
"""Onset resolution: the energy envelope has one value per millisecond."""


def energy_envelope(samples: np.ndarray, hop: int) -> np.ndarray:
    """Mean energy of consecutive ``hop``-sample frames."""
    frames = samples[: samples.size // hop * hop].astype(np.float64).reshape(-1, hop)
    return (frames ** 2).mean(axis=1)


def first_onset(samples: np.ndarray, start: float, end: float,
                threshold_db: float = -35.0) -> float | None:
    """Time (s) of the first sound in ``[start, end)``, or None if it is silent there.

    The onset is the first 1 ms frame whose energy comes within ``threshold_db`` of the
    loudest frame in the window, so a quiet lead-in does not count but the attack does.
    """
    hop = max(1, seconds_to_samples(HOP_SECONDS))
    first = max(0, seconds_to_samples(start))
    window = samples[first:seconds_to_samples(end)]
    envelope = energy_envelope(window, hop)
    if envelope.size == 0 or envelope.max() <= 1e-10:
        return None
    loud = np.flatnonzero(envelope >= envelope.max() * 10 ** (threshold_db / 10))
    return (first + loud[0] * hop) / PLAYBACK_RATE
