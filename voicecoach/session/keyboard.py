"""Keyboard fallback: keys -> the same commands the recogniser produces.

Enter = next, p = pause/resume (toggles), r = repeat, d = done, q = stop. On a TTY the
terminal goes into cbreak mode (one key at a time, no echo) and is restored on
exit; otherwise stdin is read line by line, the first character of each line being the
key (an empty line is Enter), which lets tests and scripts drive a session through a
pipe.
"""

from __future__ import annotations

import os
import select
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from voicecoach.commands import Command

KEYS: dict[str, Command] = {
    "\r": Command.NEXT, "\n": Command.NEXT, "": Command.NEXT, "n": Command.NEXT,
    "p": Command.PAUSE_OR_RESUME, " ": Command.PAUSE_OR_RESUME,
    "r": Command.REPEAT, "d": Command.DONE, "q": Command.STOP, "\x1b": Command.STOP,
}
"""Key -> command (``p`` toggles: the session makes it pause or resume by its state)."""

HELP = "keys: Enter next, p pause/resume, r repeat, d done, q stop"


def command_for_key(key: str) -> Command | None:
    """The command a key press (or a line's first character) stands for, if any."""
    return KEYS.get(key.lower()[:1] if key not in ("\r", "\n") else key)


class KeyboardListener:
    """Reads keys in a daemon thread and calls ``on_command(name)`` for each command."""

    def __init__(self, on_command: Callable[[Command], None], stream: TextIO | None = None):
        self.on_command = on_command
        self.stream = stream if stream is not None else sys.stdin
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved_tty: list | None = None  # termios attributes to restore

    @property
    def is_tty(self) -> bool:
        try:
            return self.stream.isatty()
        except (ValueError, AttributeError):
            return False

    def start(self) -> None:
        """Start listening; on a TTY, switch the terminal to cbreak mode first."""
        if self.stream is None or self.stream.closed:
            return
        if self.is_tty:
            self._enter_cbreak()
        self._thread = threading.Thread(target=self._run, name="voicecoach-keys", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop listening and restore the terminal."""
        self._stop.set()
        self._restore()

    def __enter__(self) -> KeyboardListener:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _enter_cbreak(self) -> None:
        import termios
        import tty

        fd = self.stream.fileno()
        try:
            self._saved_tty = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        except termios.error:
            self._saved_tty = None

    def _restore(self) -> None:
        if self._saved_tty is None:
            return
        import termios

        try:
            termios.tcsetattr(self.stream.fileno(), termios.TCSADRAIN, self._saved_tty)
        except (termios.error, ValueError, OSError):
            pass
        self._saved_tty = None

    def _run(self) -> None:
        try:
            fd = self.stream.fileno()
        except (ValueError, OSError, AttributeError):
            return
        tty = self.is_tty
        pending = b""
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
            except (ValueError, OSError):
                return
            if not ready:
                continue
            try:
                data = os.read(fd, 64)
            except OSError:
                return
            if not data:  # end of input: keys are simply no longer available
                return
            if tty:
                for key in data.decode(errors="ignore"):
                    self._emit(key)
                continue
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                self._emit(line.decode(errors="ignore").strip() or "\n")

    def _emit(self, key: str) -> None:
        command = command_for_key(key)
        if command is not None:
            self.on_command(command)
