"""Write rendered PCM to an audio file (mp3/ogg/m4a/aac/flac/wav) with tags and chapters.

The format follows the file extension. 16-bit PCM is piped straight into ffmpeg (the
program pydub is configured to run), which writes the output file itself: no temporary
WAV, no copy of the encoded file, nothing left in /tmp when an export fails (pydub's
``AudioSegment.export`` would add both copies and leak its temporary files on failure).
Chapters are written where the container can hold them:

* ``.mp3``: ID3v2.3 ``CHAP`` frames plus a ``CTOC`` table, by ffmpeg's mp3 muxer;
* ``.m4a``: MP4 chapters, by ffmpeg's mp4 (ipod) muxer;
* ``.ogg`` (Vorbis) and ``.flac``: Vorbis-comment ``CHAPTERnnn``/``CHAPTERnnnNAME``
  pairs, given to ffmpeg as global tags of the ffmetadata input (its ogg and flac
  muxers drop chapter sections, but write every tag as a comment);
* ``.wav`` (tags in a RIFF INFO chunk) and ``.aac`` (raw ADTS AAC, no tags at all) cannot
  hold chapters: they are left out, see :func:`supports_chapters`. Use ``.m4a`` for AAC
  with chapters.

Every output is written to a temporary file in the destination folder and moved into
place with :func:`os.replace`, so a failed export leaves no partial file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from voicecoach.audio import PLAYBACK_RATE, find_ffmpeg, to_int16
from voicecoach.errors import InputError, MissingDependencyError, OutputError
from voicecoach.planning.timeline import Chapter, Timeline

DEFAULT_BITRATE = "64k"
"""Lossy bitrate when none is given: plenty for one mono voice at 22.05 kHz."""


class ChapterWriter(Enum):
    """Who writes a format's chapters, if anyone."""

    NONE = "none"
    FFMPEG = "ffmpeg"  # [CHAPTER] sections of an ffmetadata file, ffmpeg's second input
    VORBIS_COMMENT = "vorbis-comment"  # CHAPTERnnn tags in that file, written as comments


@dataclass(frozen=True)
class AudioFormat:
    """How to encode one file extension with ffmpeg."""

    muxer: str  # ffmpeg -f
    codec: str  # ffmpeg -acodec
    lossy: bool  # takes a bitrate
    tags: bool  # can hold title/album/artist
    chapters: ChapterWriter
    options: tuple[str, ...] = ()  # extra ffmpeg output options


FORMATS: dict[str, AudioFormat] = {
    ".mp3": AudioFormat("mp3", "libmp3lame", True, True, ChapterWriter.FFMPEG,
                        ("-id3v2_version", "3")),
    ".ogg": AudioFormat("ogg", "libvorbis", True, True, ChapterWriter.VORBIS_COMMENT),
    ".m4a": AudioFormat("ipod", "aac", True, True, ChapterWriter.FFMPEG),
    ".aac": AudioFormat("adts", "aac", True, False, ChapterWriter.NONE),
    ".flac": AudioFormat("flac", "flac", False, True, ChapterWriter.VORBIS_COMMENT),
    ".wav": AudioFormat("wav", "pcm_s16le", False, True, ChapterWriter.NONE),
}


def supported_extensions() -> list[str]:
    """The file extensions :func:`export_audio` accepts, e.g. ``[".mp3", ...]``."""
    return list(FORMATS)


def format_for(path: str | os.PathLike[str]) -> AudioFormat:
    """The format an output path asks for by its extension, or InputError."""
    extension = Path(path).suffix.lower()
    try:
        return FORMATS[extension]
    except KeyError:
        raise InputError(
            f"cannot export to {os.fspath(path)!r}: unknown extension {extension or '(none)'!r}; "
            f"use one of {', '.join(FORMATS)}"
        ) from None


def check_output(path: str | os.PathLike[str]) -> AudioFormat:
    """The format for an output path that is not a folder, or InputError/OutputError."""
    if Path(path).is_dir():
        raise OutputError(f"cannot write {os.fspath(path)}: it is a folder; give a file name")
    audio_format = format_for(path)
    check_writable(path)
    return audio_format


def check_writable(path: str | os.PathLike[str]) -> None:
    """OutputError unless a file can be created in ``path``'s folder, as the export will.

    Called before any slow work: the folder is tried for real (a temporary file made
    and removed), since permission bits do not tell a read-only mount or an ACL.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {target}: the folder {folder} does not exist; "
                          "create it or choose another")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)
    except OSError as error:
        raise OutputError(_write_failure(target, error)) from error
    os.close(fd)
    os.unlink(probe)


def supports_chapters(path: str | os.PathLike[str]) -> bool:
    """True if the output's format can hold chapters."""
    return format_for(path).chapters is not ChapterWriter.NONE


def check_bitrate(bitrate: str) -> str:
    """A bitrate as ffmpeg takes it ("96k", "128000"), or InputError."""
    if not re.fullmatch(r"[1-9][0-9]*k?", bitrate.strip().lower()):
        raise InputError(f"bad --bitrate {bitrate!r}: give kilobits per second like 64k or 128k")
    return bitrate.strip().lower()


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it over ``path``.

    Any failure (an ``OSError`` while writing, or any exception from the body) removes
    the temporary file; ``OSError`` becomes :class:`OutputError` naming ``path``.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a folder; give a file name")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                         dir=target.parent)
    except OSError as error:
        raise OutputError(_write_failure(target, error)) from error
    os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
    os.close(fd)
    temp = Path(temp_name)
    try:
        yield temp
        os.replace(temp, target)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise OutputError(_write_failure(target, error)) from error
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_failure(target: Path, error: OSError) -> str:
    reason = error.strerror or str(error)
    return f"cannot write {target}: {reason}; choose a writable folder with free space"


def ffmetadata(chapters: Sequence[Chapter]) -> str:
    """Chapters as an ffmpeg metadata file (see ffmpeg-formats, "Metadata")."""
    lines = [";FFMETADATA1"]
    for chapter in chapters:
        lines += ["", "[CHAPTER]", "TIMEBASE=1/1000",
                  f"START={round(chapter.start * 1000)}",
                  f"END={round(chapter.end * 1000)}",
                  f"title={_ffmetadata_escape(chapter.title)}"]
    return "\n".join(lines) + "\n"


def _ffmetadata_escape(text: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", text)


def vorbis_chapter_comments(chapters: Sequence[Chapter]) -> dict[str, str]:
    """Chapters as Vorbis comments: ``CHAPTER001=00:00:00.000``, ``CHAPTER001NAME=...``."""
    comments: dict[str, str] = {}
    for number, chapter in enumerate(chapters, start=1):
        millis = round(chapter.start * 1000)
        hours, rest = divmod(millis, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        seconds, millis = divmod(rest, 1000)
        key = f"CHAPTER{number:03d}"
        comments[key] = f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
        comments[key + "NAME"] = chapter.title
    return comments


def vorbis_ffmetadata(chapters: Sequence[Chapter]) -> str:
    """Chapters as global tags of an ffmpeg metadata file, which the ogg and flac muxers
    write as Vorbis comments (the chapter convention players read there)."""
    lines = [";FFMETADATA1"]
    lines += [f"{key}={_ffmetadata_escape(value)}"
              for key, value in vorbis_chapter_comments(chapters).items()]
    return "\n".join(lines) + "\n"


def export_audio(samples: np.ndarray | Iterable[np.ndarray], path: str | os.PathLike[str], *,
                 title: str, album: str, artist: str, chapters: Sequence[Chapter],
                 bitrate: str | None = None, sample_rate: int = PLAYBACK_RATE) -> None:
    """Encode mono float samples to ``path`` (format by extension) with tags and chapters.

    ``samples`` is one array or consecutive pieces of one (e.g. from
    :func:`voicecoach.playback.render.render_chunks`), streamed to ffmpeg as they come.

    Raises InputError (unknown extension, bad bitrate), MissingDependencyError (no
    ffmpeg) or OutputError (cannot write; no partial file is left).
    """
    target = Path(path)
    audio_format = check_output(target)
    bitrate = check_bitrate(bitrate) if bitrate else DEFAULT_BITRATE
    program = find_ffmpeg()
    tags = {"title": title, "album": album, "artist": artist} if audio_format.tags else {}
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(atomic_output(target))
        metadata = None
        if audio_format.chapters is ChapterWriter.FFMPEG and chapters:
            metadata = stack.enter_context(_temp_text(ffmetadata(chapters)))
        elif audio_format.chapters is ChapterWriter.VORBIS_COMMENT and chapters:
            metadata = stack.enter_context(_temp_text(vorbis_ffmetadata(chapters)))
        command = ffmpeg_command(program, audio_format, output, sample_rate=sample_rate,
                                 bitrate=bitrate, tags=tags, metadata=metadata)
        _run_encoder(command, samples, output, target)


def ffmpeg_command(program: str, audio_format: AudioFormat, output: Path, *,
                   sample_rate: int, bitrate: str, tags: Mapping[str, str],
                   metadata: Path | None) -> list[str]:
    """The ffmpeg command encoding 16-bit mono PCM from stdin into ``output``.

    Options before an ``-i`` belong to that input, so the codec and bitrate follow the
    (optional) ffmetadata input that carries the chapters.
    """
    # With a second input ffmpeg reads each input in its own thread through a queue of
    # 8 packets by default; the main loop then sleeps whenever the pipe's queue runs dry,
    # which slowed chaptered exports (benchmarks/README.md, "Export speed"). A deep queue
    # keeps it fed.
    command = [program, "-hide_banner", "-loglevel", "error", "-y",
               "-f", "s16le", "-ar", str(sample_rate), "-ac", "1",
               "-thread_queue_size", "4096", "-i", "pipe:0"]
    if metadata is not None:
        command += ["-i", os.fspath(metadata), "-map", "0:a",
                    "-map_metadata", "1", "-map_chapters", "1"]
    command += ["-acodec", audio_format.codec]
    if audio_format.lossy:
        command += ["-b:a", bitrate]
    command += list(audio_format.options)
    for key, value in tags.items():
        command += ["-metadata", f"{key}={value}"]
    return command + ["-f", audio_format.muxer, os.fspath(output)]


PIPE_CHUNK_SAMPLES = 1 << 18
"""Samples converted and piped per write when given one array."""


def _pieces(samples: np.ndarray | Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    if isinstance(samples, np.ndarray):
        for start in range(0, samples.size, PIPE_CHUNK_SAMPLES):
            yield samples[start:start + PIPE_CHUNK_SAMPLES]
    else:
        yield from samples


def _run_encoder(command: list[str], samples: np.ndarray | Iterable[np.ndarray],
                 output: Path, target: Path) -> None:
    """Stream ``samples`` as 16-bit PCM into ffmpeg writing ``output``.

    Piece by piece, ffmpeg (on another core) encodes while Python is still mixing and
    converting the next piece. A failure becomes OutputError naming ``target``.
    """
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                       stdout=subprocess.DEVNULL, stderr=errors)
        except OSError as error:
            raise MissingDependencyError(
                f"cannot run {command[0]} ({error.strerror or error}); "
                "install the Debian package ffmpeg: sudo apt-get install ffmpeg"
            ) from error
        assert process.stdin is not None
        _widen_pipe(process.stdin.fileno())
        try:
            for piece in _pieces(samples):
                process.stdin.write(to_int16(piece).tobytes())
        except BrokenPipeError:
            pass  # ffmpeg gave up; its exit code and message say why
        except BaseException:
            process.kill()
            raise
        finally:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
            returncode = process.wait()
        if returncode != 0:
            errors.seek(0)
            message = _last_line(errors.read().decode("utf-8", errors="replace"))
            message = message.replace(os.fspath(output), os.fspath(target))
            raise OutputError(f"cannot write {target}: ffmpeg failed ({message})")


def _widen_pipe(fd: int, size: int = 1 << 20) -> None:
    """Ask Linux for a 1 MiB pipe (default 64 KiB): fewer wake-ups of ffmpeg per second."""
    with contextlib.suppress(AttributeError, OSError):
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


@contextlib.contextmanager
def _temp_text(text: str) -> Iterator[Path]:
    """A small temporary text file (in the system temp folder), removed afterwards."""
    try:
        handle = tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="voicecoach-",
                                             delete=False, encoding="utf-8")
        with handle:
            handle.write(text)
    except OSError as error:
        raise OutputError(f"cannot write a temporary file in {tempfile.gettempdir()}: "
                          f"{error.strerror or error}; free some space there") from error
    try:
        yield Path(handle.name)
    finally:
        Path(handle.name).unlink(missing_ok=True)


def timeline_document(timeline: Timeline, gap: float) -> dict[str, object]:
    """The timeline as exported: every cue with its scheduled time, plus the chapters."""
    cues = []
    for index, item in enumerate(timeline.scheduled(gap)):
        cue = item.cue
        cues.append({
            "index": index,
            "time": round(item.time, 6),
            "plan_time": round(cue.time, 6),
            "kind": str(cue.kind),
            "text": cue.text,
            "duration": round(cue.duration, 6),
            "mark": str(cue.mark) if cue.mark is not None else None,
            "counted": cue.counted,
            "position": dataclasses.asdict(cue.position),
        })
    return {
        "title": timeline.title,
        "language": timeline.language,
        "gap": gap,
        "total_seconds": round(timeline.total_seconds(gap), 6),
        "chapters": [{"title": c.title, "start": round(c.start, 6), "end": round(c.end, 6)}
                     for c in timeline.chapters(gap)],
        "cues": cues,
    }


def write_timeline_json(timeline: Timeline, gap: float, path: str | os.PathLike[str]) -> None:
    """Write :func:`timeline_document` as JSON to ``path`` (atomically)."""
    text = json.dumps(timeline_document(timeline, gap), ensure_ascii=False, indent=1)
    with atomic_output(path) as temp:
        temp.write_text(text + "\n", encoding="utf-8")
