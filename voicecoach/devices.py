"""Audio devices as PortAudio sees them, and turning a user's ``--device`` into one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import sounddevice as sd

from voicecoach.errors import DeviceError

logger = logging.getLogger(__name__)

Kind = Literal["input", "output"]


@dataclass(frozen=True)
class Device:
    """One PortAudio device."""

    index: int
    name: str
    hostapi: str
    input_channels: int
    output_channels: int
    default_samplerate: float
    default_input: bool
    default_output: bool

    def channels(self, kind: Kind) -> int:
        return self.input_channels if kind == "input" else self.output_channels


def _default_index(kind: Kind) -> int:
    """The default device index for ``kind``, or -1 when there is none."""
    try:
        return int(sd.query_devices(kind=kind)["index"])
    except (sd.PortAudioError, ValueError, KeyError, TypeError):
        return -1


def list_devices() -> list[Device]:
    """Every device PortAudio knows, with default markers."""
    hostapis = [api["name"] for api in sd.query_hostapis()]
    default_in, default_out = _default_index("input"), _default_index("output")
    return [Device(index=int(info["index"]), name=str(info["name"]),
                   hostapi=hostapis[info["hostapi"]],
                   input_channels=int(info["max_input_channels"]),
                   output_channels=int(info["max_output_channels"]),
                   default_samplerate=float(info["default_samplerate"]),
                   default_input=info["index"] == default_in,
                   default_output=info["index"] == default_out)
            for info in sd.query_devices()]


def resolve_device(spec: str | int | None, kind: Kind) -> Device:
    """The device meant by ``spec``: None (the default), an index, or a name substring.

    A name that is exactly a device's name wins over substring matches; a substring
    matching several devices is an error listing them.
    """
    devices = [d for d in list_devices() if d.channels(kind) > 0]
    if spec is None or spec == "":
        for device in devices:
            if device.default_input if kind == "input" else device.default_output:
                logger.info("%s: the default device, %r", kind, device.name)
                return device
        raise DeviceError(f"no default audio {kind} device; run `voicecoach devices` "
                          f"to list devices and pass --{kind}")
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        for device in devices:
            if device.index == index:
                return device
        raise DeviceError(f"no audio {kind} device with index {index}; "
                          "run `voicecoach devices` to list devices")
    exact = [d for d in devices if d.name.lower() == text.lower()]
    matches = exact or [d for d in devices if text.lower() in d.name.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise DeviceError(f"no audio {kind} device named {text!r}; "
                          "run `voicecoach devices` to list devices")
    names = ", ".join(f"{d.index}: {d.name}" for d in matches)
    raise DeviceError(f"audio {kind} device {text!r} matches several devices ({names}); "
                      "give its index from `voicecoach devices`")
