"""Read exported audio back for tests: ffprobe, ID3 and FLAC tag bytes, WAV samples,
onset detection.

Everything here reads real files with the real tool (ffprobe) or, for the chapter frames
ffprobe only summarises, straight from the bytes as the ID3v2 and FLAC formats lay them
out; nothing knows how voicecoach wrote them.
"""

from __future__ import annotations

import json
import subprocess
import wave
from collections.abc import Iterator
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
    """The ID3v2 chapter frames of an MP3, read from the tag's bytes."""

    version: tuple[int, int, int]
    chapters: list[tuple[str, float, float]]  # title, start, end (seconds), in time order
    toc_children: list[str]  # CTOC child element ids


def _id3_frames(data: bytes, major: int) -> Iterator[tuple[str, bytes]]:
    """(frame id, body) of consecutive ID3v2.3/2.4 frames, until padding."""
    at = 0
    while at + 10 <= len(data) and data[at:at + 4].strip(b"\0"):
        size_bytes = data[at + 4:at + 8]
        size = _syncsafe(size_bytes) if major == 4 else int.from_bytes(size_bytes, "big")
        yield data[at:at + 4].decode("latin-1"), data[at + 10:at + 10 + size]
        at += 10 + size


def _syncsafe(four: bytes) -> int:
    return (four[0] << 21) | (four[1] << 14) | (four[2] << 7) | four[3]


def _id3_text(body: bytes) -> str:
    encoding = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}[body[0]]
    return body[1:].decode(encoding).rstrip("\0")


def _c_string(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\0", at)
    return data[at:end].decode("latin-1"), end + 1


def id3_chapters(path: Path) -> Id3Chapters:
    """CHAP frames (with their TIT2 titles) and the CTOC table of contents."""
    data = path.read_bytes()
    assert data[:3] == b"ID3", f"{path}: no ID3v2 tag at the start"
    major, revision, flags = data[3], data[4], data[5]
    assert not flags & 0x80, "unsynchronised tags are not read here"
    body = data[10:10 + _syncsafe(data[6:10])]
    if flags & 0x40:  # extended header
        skip = int.from_bytes(body[:4], "big") + 4 if major == 3 else _syncsafe(body[:4])
        body = body[skip:]
    chapters, children = [], []
    for frame, content in _id3_frames(body, major):
        if frame == "CHAP":
            _, at = _c_string(content, 0)
            start, end = (int.from_bytes(content[at + i:at + i + 4], "big") for i in (0, 4))
            titles = [_id3_text(sub) for name, sub in _id3_frames(content[at + 16:], major)
                      if name == "TIT2"]
            chapters.append((titles[0] if titles else "", start / 1000.0, end / 1000.0))
        elif frame == "CTOC" and not children:
            _, at = _c_string(content, 0)
            count, at = content[at + 1], at + 2  # flags byte, then the entry count
            for _ in range(count):
                child, at = _c_string(content, at)
                children.append(child)
    return Id3Chapters((2, major, revision), sorted(chapters, key=lambda c: c[1]), children)


def flac_comments(path: Path) -> list[tuple[str, str]]:
    """The (key, value) pairs of a FLAC file's VORBIS_COMMENT block, in file order."""
    data = path.read_bytes()
    assert data[:4] == b"fLaC", f"{path}: not a FLAC file"
    at, last = 4, False
    while not last:
        last, kind = bool(data[at] & 0x80), data[at] & 0x7F
        size = int.from_bytes(data[at + 1:at + 4], "big")
        block, at = data[at + 4:at + 4 + size], at + 4 + size
        if kind == 4:  # VORBIS_COMMENT: little-endian lengths
            vendor = int.from_bytes(block[:4], "little")
            count = int.from_bytes(block[4 + vendor:8 + vendor], "little")
            where, pairs = 8 + vendor, []
            for _ in range(count):
                length = int.from_bytes(block[where:where + 4], "little")
                key, _, value = block[where + 4:where + 4 + length].decode("utf-8").partition("=")
                pairs.append((key, value))
                where += 4 + length
            return pairs
    return []


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
