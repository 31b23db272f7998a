"""``voicecoach listen``: print the spoken commands heard from the microphone or in files.

With ``--file`` (repeatable) each recording is decoded as a whole and, with ``--json``,
every command heard is one JSON line {"file", "command", "text", "start", "end",
"confidence"}; ``command`` is the canonical English name whatever the language.
"""

from __future__ import annotations

import argparse
import json
import queue
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

from voicecoach.devices import Device
from voicecoach.errors import DeviceError, InputError
from voicecoach.recognizer import (ENGINE_HELP, ENGINES, SAMPLE_RATE, CommandHeard, CommandRecognizer,
                                   create_recognizer, recognize_samples)

CHUNK_SECONDS = 0.03


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "listen", help="print voice commands heard (microphone or --file recordings)",
        description="Listen for the coach's voice commands (next, done, pause, resume, "
                    "repeat, stop) offline, from the microphone or in recordings.")
    parser.add_argument("--file", action="append", default=[], metavar="AUDIO",
                        help="recognise commands in this recording instead of the "
                             "microphone (repeatable; wav or anything ffmpeg reads)")
    parser.add_argument("--lang", default="en", help="command language (en, ko)")
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help=ENGINE_HELP)
    parser.add_argument("--model", type=Path, metavar="PATH",
                        help="Vosk model folder (default: VOICECOACH_VOSK_MODEL, an "
                             "installed vosk-model-<lang> package, or ~/.cache/vosk)")
    parser.add_argument("--input", metavar="DEVICE",
                        help="microphone: index or part of a name (see `voicecoach devices`)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per command heard")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.file:
        recordings = [(name, load_recording(Path(name))) for name in args.file]
        recognizer = create_recognizer(args.lang, args.engine, args.model, live=False)
        for name, samples in recordings:
            for heard in recognize_samples(recognizer, samples):
                _print(heard, args.json, name)
        return 0
    from voicecoach.devices import resolve_device

    device = resolve_device(args.input, "input")  # before the (slow) model load
    recognizer = create_recognizer(args.lang, args.engine, args.model, live=True)
    return listen_microphone(recognizer, device, args.json)


def _print(heard: CommandHeard, as_json: bool, source: str | None) -> None:
    if as_json:
        record = {"file": source, "command": heard.command, "text": heard.text,
                  "start": heard.start, "end": heard.end, "confidence": heard.confidence}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    else:
        where = f"{source}: " if source else ""
        print(f"{where}{heard.start:7.2f}s  {heard.command:<7} ({heard.text}, "
              f"confidence {heard.confidence:.2f})", flush=True)


def listen_microphone(recognizer: CommandRecognizer, chosen: Device, as_json: bool) -> int:
    """Print commands from the input device until interrupted (Ctrl+C)."""
    import sounddevice as sd

    chunks: queue.Queue[np.ndarray] = queue.Queue()
    try:
        stream = sd.InputStream(device=chosen.index, samplerate=SAMPLE_RATE, channels=1,
                                dtype="int16", blocksize=int(CHUNK_SECONDS * SAMPLE_RATE),
                                callback=lambda data, *_: chunks.put(data[:, 0].copy()))
    except sd.PortAudioError as error:
        raise DeviceError(f"input device {chosen.name!r}: {error}") from None
    if not as_json:
        print(f"listening on {chosen.name} ({recognizer.engine}); Ctrl+C to stop",
              file=sys.stderr)
    with stream:
        while True:
            for heard in recognizer.accept(chunks.get()):
                _print(heard, as_json, None)


def load_recording(path: Path) -> np.ndarray:
    """A recording as 16 kHz mono float32, whatever its format, rate or channels.

    Plain wav files are read with the stdlib; everything else (and wav encodings the
    stdlib can't read) goes through ffmpeg. Errors name the file.
    """
    if not path.is_file():
        raise InputError(f"{path}: file not found" if not path.exists()
                         else f"{path}: not a file")
    try:
        samples, rate = _read_wav(path)
    except (wave.Error, EOFError, ValueError):
        samples, rate = _read_with_ffmpeg(path), SAMPLE_RATE
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None
    return resample(samples, rate, SAMPLE_RATE)


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    """PCM wav (8/16/24/32-bit, any channels) -> mono float32 and its rate."""
    with wave.open(str(path), "rb") as handle:
        width, channels = handle.getsampwidth(), handle.getnchannels()
        rate, raw = handle.getframerate(), handle.readframes(handle.getnframes())
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        bytes3 = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        value = bytes3[:, 0] | (bytes3[:, 1] << 8) | (bytes3[:, 2] << 16)
        data = (np.where(value >= 1 << 23, value - (1 << 24), value) / float(1 << 23)
                ).astype(np.float32)
    elif width == 4:
        data = np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    else:
        raise wave.Error(f"unsupported sample width {width}")
    if channels > 1:
        data = data[: data.size - data.size % channels].reshape(-1, channels).mean(axis=1)
    return data.astype(np.float32), rate


def _read_with_ffmpeg(path: Path) -> np.ndarray:
    """Decode any audio ffmpeg understands to 16 kHz mono float32."""
    program = shutil.which("ffmpeg")
    if program is None:
        raise InputError(f"{path}: not a PCM wav file, and ffmpeg (needed to read it) is "
                         "not installed: sudo apt-get install ffmpeg")
    result = subprocess.run(
        [program, "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
         "-ar", str(SAMPLE_RATE), "-"], capture_output=True)
    if result.returncode != 0:
        reason = (result.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
        raise InputError(f"{path}: not a readable audio file ({reason})")
    return np.frombuffer(result.stdout, "<i2").astype(np.float32) / 32768.0


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling by FFT (rates differ) with a low-pass before decimation."""
    if rate == target or samples.size == 0:
        return samples.astype(np.float32)
    count = int(round(samples.size * target / rate))
    spectrum = np.fft.rfft(samples.astype(np.float64))
    keep = min(spectrum.size, count // 2 + 1)
    out = np.fft.irfft(spectrum[:keep], count) * (count / samples.size)
    return out.astype(np.float32)
