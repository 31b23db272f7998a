"""``voicecoach listen``: print the spoken commands heard from the microphone or in files.

With ``--file`` (repeatable) each recording is fed to the recogniser block by block as
the live session feeds its microphone, so it gets the same decisions; with ``--json``,
every command heard is one JSON line {"file", "command", "text", "start", "end",
"confidence"}; ``command`` is the canonical English name whatever the language.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
from pathlib import Path

import numpy as np

from voicecoach.audio import MIC_BLOCK_SECONDS, RECOGNIZER_RATE, read_recording
from voicecoach.cli._options import add_wake_argument
from voicecoach.devices import Device
from voicecoach.errors import DeviceError
from voicecoach.recognition.base import CommandHeard, Recognizer, recognize_samples
from voicecoach.recognition.factory import ENGINE_HELP, ENGINES, create_recognizer


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
    add_wake_argument(parser)
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per command heard")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.file:
        recordings = [(name, read_recording(Path(name))) for name in args.file]
        # As the live session hears its microphone, block by block, so a recording
        # reproduces what a user saw (slow second opinions inline: same answers each run).
        recognizer = create_recognizer(args.lang, args.engine, args.model, live=True,
                                       threaded=False, wake=args.wake)
        for name, samples in recordings:
            for heard in recognize_samples(recognizer, samples, MIC_BLOCK_SECONDS):
                _print(heard, args.json, name)
        return 0
    from voicecoach.devices import resolve_device

    device = resolve_device(args.input, "input")  # before the (slow) model load
    recognizer = create_recognizer(args.lang, args.engine, args.model, live=True,
                                   wake=args.wake)
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


def listen_microphone(recognizer: Recognizer, chosen: Device, as_json: bool) -> int:
    """Print commands from the input device until interrupted (Ctrl+C)."""
    import sounddevice as sd

    chunks: queue.Queue[np.ndarray] = queue.Queue()
    try:
        stream = sd.InputStream(device=chosen.index, samplerate=RECOGNIZER_RATE, channels=1,
                                dtype="float32", blocksize=int(MIC_BLOCK_SECONDS * RECOGNIZER_RATE),
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
