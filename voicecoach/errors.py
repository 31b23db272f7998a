"""Errors a user can act on.

Every error that reaches the CLI is a :class:`VoicecoachError`: the CLI prints its
message as one line and exits with its ``exit_code``, never with a traceback.
"""

from __future__ import annotations


class VoicecoachError(Exception):
    """A problem the user can fix; ``str(error)`` is the one-line message."""

    exit_code: int = 1


class InputError(VoicecoachError):
    """Bad input named by the user: a workout file, a field, an option value."""

    exit_code = 2


class MissingDependencyError(VoicecoachError):
    """A system program or library is missing; the message names what to install."""

    exit_code = 3


class DeviceError(VoicecoachError):
    """An audio device is missing or unusable; the message names the device."""

    exit_code = 4


class OutputError(VoicecoachError):
    """An output file could not be written; no partial file is left behind."""

    exit_code = 5
