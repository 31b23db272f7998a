"""Messages into the coaching loop: commands heard by voice or typed on the keyboard."""

from __future__ import annotations

from dataclasses import dataclass

from voicecoach.commands import Command


@dataclass(frozen=True)
class Heard:
    """A command from the microphone or the keyboard."""

    command: Command
    text: str = ""  # what was recognised (voice) or the key's meaning
    source: str = "voice"  # "voice", "keys", or "confirmed" (said again when asked)
    confidence: float | None = None
    engine: str = ""  # the recogniser that heard it (inside the hybrid: which of its two)
    rejected: str = ""  # why it is not obeyed ("echo": the coach's own voice), "" if it is
    echo_db: float | None = None  # residual after removing the playback (recognition.echo)
    # When (time.monotonic()) the spoken command ended by the microphone clock, the last
    # sample fed to the recogniser before it reported the command was captured, it was
    # reported, and its echo check was done: the stages of the command's latency.
    said_end: float | None = None
    fed_until: float | None = None
    emitted_at: float | None = None
    judged_at: float | None = None
