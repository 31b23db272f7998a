"""The live view of a session: what the coach is doing and what it heard.

Drawn with Rich on stderr, and only when stderr is a terminal, so piped output, logs
and the end-to-end tests see nothing of it. The session hands it a plain
:class:`ViewState` snapshot several times a second; the view owns no logic.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

BAR_WIDTH = 30
METER_WIDTH = 20
METER_FLOOR_DB = -60.0


@dataclass(frozen=True)
class ViewState:
    """One snapshot of the session for the live view."""

    workout: str = ""
    exercise: str = ""
    step_text: str = ""  # the setup step or announcement said last
    side: str = ""
    rep: int = 0
    reps: int = 0
    phase: str = ""
    phase_progress: float = 0.0  # 0..1 through the current phase (the tempo bar)
    status: str = ""  # e.g. "waiting for next", "paused", "counting"
    last_command: str = ""
    mic_level_db: float | None = None  # None: no microphone (keys only)
    hint: str = ""


def bar(fraction: float, width: int) -> str:
    """A text bar ``fraction`` full (clamped to 0..1)."""
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "█" * filled + "·" * (width - filled)


def meter_fraction(level_db: float) -> float:
    """A dBFS level as 0..1 on the meter (METER_FLOOR_DB is empty, 0 dBFS full)."""
    return max(0.0, min(1.0, 1.0 - level_db / METER_FLOOR_DB))


def render_view(state: ViewState) -> Panel:
    """The Rich renderable of one snapshot."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    table.add_row("exercise", state.exercise or "-")
    if state.step_text:
        table.add_row("says", Text(state.step_text, overflow="fold"))
    if state.side:
        table.add_row("side", state.side)
    if state.reps:
        table.add_row("rep", f"{state.rep}/{state.reps}")
    if state.phase:
        table.add_row("phase", f"{state.phase:<10} {bar(state.phase_progress, BAR_WIDTH)}")
    table.add_row("status", state.status or "-")
    table.add_row("heard", state.last_command or "-")
    if state.mic_level_db is None:
        table.add_row("mic", "none (keys only)")
    else:
        table.add_row("mic", f"{bar(meter_fraction(state.mic_level_db), METER_WIDTH)} "
                             f"{state.mic_level_db:5.0f} dB")
    parts: list[Table | Text] = [table]
    if state.hint:
        parts.append(Text(state.hint, style="dim"))
    return Panel(Group(*parts), title=state.workout or "voicecoach", expand=False)


class LiveView:
    """A Rich Live panel on ``stream`` (stderr), or nothing when it is not a terminal."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None):
        stream = stream if stream is not None else sys.stderr
        if enabled is None:
            try:
                enabled = stream.isatty()
            except (ValueError, AttributeError):
                enabled = False
        self.enabled = enabled
        self._live: Live | None = None
        if enabled:
            self._live = Live(console=Console(file=stream), auto_refresh=False,
                              transient=False, redirect_stdout=False, redirect_stderr=False)

    def __enter__(self) -> LiveView:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def update(self, state: ViewState) -> None:
        """Redraw with a new snapshot (cheap no-op when disabled)."""
        if self._live is not None:
            self._live.update(render_view(state), refresh=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
