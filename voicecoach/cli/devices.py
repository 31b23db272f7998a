"""``voicecoach devices``: list audio inputs and outputs (for `run --input/--output`)."""

from __future__ import annotations

import argparse

from voicecoach.devices import Device, Kind, list_devices


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "devices", help="list audio input and output devices",
        description="List the audio devices PortAudio sees. Pass an index or part of "
                    "a name to --output / --input of `voicecoach run`.")
    parser.add_argument("--kind", choices=("input", "output"),
                        help="list only inputs or only outputs")
    parser.set_defaults(handler=run)


def _line(device: Device, kind: Kind) -> str:
    default = device.default_input if kind == "input" else device.default_output
    marker = "*" if default else " "
    return (f"{marker} {device.index:3d}  {device.name}  ({device.hostapi}, "
            f"{device.channels(kind)} ch, {device.default_samplerate:g} Hz)"
            + ("  [default]" if default else ""))


def run(args: argparse.Namespace) -> int:
    devices = list_devices()
    kinds: list[Kind] = [args.kind] if args.kind else ["output", "input"]
    for number, kind in enumerate(kinds):
        if number:
            print()
        usable = [d for d in devices if d.channels(kind) > 0]
        print(f"{kind.capitalize()}s:")
        if not usable:
            hint = "; use `voicecoach export` to make an audio file" if kind == "output" else ""
            print(f"  (no {kind} devices{hint})")
        for device in usable:
            print(_line(device, kind))
    return 0
