"""Pictures: training volume over time, and one workout's timeline.

matplotlib with the Agg backend (no display needed); the file's extension picks the
format, and files are written atomically (temp file, then ``os.replace``).
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from voicecoach.errors import InputError, OutputError
from voicecoach.planning.timeline import Cue, CueKind, MarkKind, Timeline
from voicecoach.records.history import SessionSummary

FORMATS = ("png", "svg", "pdf")

PHASE_COLOURS = {
    "concentric": "#d1495b",  # drive up
    "isometric": "#edae49",  # pauses and holds
    "eccentric": "#00798c",  # lowering
    "transition": "#8fb996",
}
PHASE_LABELS = {
    "concentric": "drive up (concentric)",
    "isometric": "pause / hold (isometric)",
    "eccentric": "lowering (eccentric)",
    "transition": "transition",
}
REST_COLOUR = "#cfd2d6"
SETUP_COLOUR = "#9db4c0"
SPEECH_COLOUR = "#5c6670"
COUNT_COLOUR = "#1b1b1b"
GATE_COLOUR = "#6a4c93"
HOLD_HATCH = "#a8741a"


def check_plot_path(path: Path | str) -> Path:
    """``path`` if its extension is a format we draw; InputError naming it otherwise."""
    path = Path(path)
    if path.suffix.lower().lstrip(".") not in FORMATS:
        raise InputError(f"{path}: plots are written as {', '.join('.' + f for f in FORMATS)};"
                         f" pick one of those extensions")
    return path


def save_figure(figure: Figure, path: Path | str) -> Path:
    """Write ``figure`` to ``path`` atomically; OutputError if that fails."""
    path = check_plot_path(path)
    temp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        with plt.rc_context({"svg.fonttype": "none"}):  # SVG text stays text
            figure.savefig(temp, dpi=110, bbox_inches="tight")
        os.replace(temp, path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {error.strerror or error}; check the "
                          f"folder exists and is writable") from None
    finally:
        plt.close(figure)
    return path


# -- history --------------------------------------------------------------------


def reps_per_day(sessions: Sequence[SessionSummary]) -> dict[date, dict[str, int]]:
    """Reps done per calendar day (local time) per exercise."""
    days: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for session in sessions:
        for exercise, sides in session.reps.items():
            days[session.started_at.date()][exercise] += sum(sides.values())
    return {day: dict(per) for day, per in sorted(days.items())}


def plot_history(sessions: Sequence[SessionSummary], path: Path | str) -> Path:
    """Stacked bars of reps per day, one colour per exercise."""
    path = check_plot_path(path)
    return save_figure(volume_figure(sessions), path)


DAY_TICKS = 8
"""At most this many labelled days on the volume plot's axis (more would collide)."""


def volume_figure(sessions: Sequence[SessionSummary]) -> Figure:
    """The figure of :func:`plot_history`; InputError when no reps are logged."""
    days = reps_per_day(sessions)
    if not days:
        raise InputError("no reps logged yet, nothing to plot; finish some reps first")
    exercises = sorted({name for per in days.values() for name in per})
    figure, axes = plt.subplots(figsize=(max(6.0, min(14.0, 2.0 + 0.35 * len(days))), 4.5))
    x = mdates.date2num(list(days))
    bottom = [0] * len(days)
    colours = plt.get_cmap("tab10" if len(exercises) <= 10 else "tab20")
    for n, exercise in enumerate(exercises):
        heights = [days[day].get(exercise, 0) for day in days]
        axes.bar(x, heights, width=0.8, bottom=bottom, label=exercise,
                 color=colours(n % colours.N), edgecolor="white", linewidth=0.5)
        bottom = [b + h for b, h in zip(bottom, heights)]
    for xi, total in zip(x, bottom):
        axes.annotate(str(total), (xi, total), ha="center", va="bottom", fontsize=8,
                      xytext=(0, 2), textcoords="offset points")
    # The data are whole days: ticks fall on days (never hours, which AutoDateLocator
    # picks for a short span and which collided with the dates), at most DAY_TICKS of them.
    span = int(round(x[-1] - x[0])) + 1
    if span <= 31 * DAY_TICKS:
        locator: mdates.DateLocator = mdates.DayLocator(
            interval=max(1, math.ceil(span / DAY_TICKS)))
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=DAY_TICKS)
    years = sorted({d.year for d in days})
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%b %d" if len(years) == 1
                                                        else "%Y-%m-%d"))
    axes.set_xlim(x[0] - 0.6, x[-1] + 0.6)
    axes.set_ylim(0, max(bottom) * 1.15)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(f"date ({years[0]})" if len(years) == 1 else "date")
    axes.set_ylabel("reps per day")
    axes.set_title("Training volume per exercise")
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                title="exercise")
    if len(locator()) > 5:
        figure.autofmt_xdate(rotation=30, ha="right")
    figure.tight_layout()
    return figure


# -- timeline -------------------------------------------------------------------


@dataclass
class Row:
    """One horizontal lane of the timeline picture: a setup or one exercise side."""

    label: str
    start: float
    end: float = 0.0
    cues: list[Cue] = field(default_factory=list)


def timeline_rows(timeline: Timeline) -> list[Row]:
    """Cues grouped into lanes: each exercise's setup, then each side of each set.

    Grouping follows cue order, so whatever follows a side (switching, a rest, the
    exercise's last words) stays in that side's lane; words before the first lane
    and after the last form "start" and "end" lanes.
    """
    rows: list[Row] = []
    current: Row | None = None
    loose: list[Cue] = []  # cues waiting for a lane (before the first one)
    after_end = False
    for cue in timeline.cues:
        if cue.kind is CueKind.MARK and cue.mark is MarkKind.SIDE:
            current = Row(_side_label(cue), cue.time)
            rows.append(current)
        elif cue.kind is CueKind.MARK and cue.mark is MarkKind.STEP:
            label = f"{cue.position.exercise_name}: setup"
            if current is None or current.label != label:
                current = Row(label, cue.time)
                rows.append(current)
        elif after_end and (current is None or current.label != "end"):
            current = Row("end", cue.time)  # words after the END mark
            rows.append(current)
        after_end = after_end or (cue.kind is CueKind.MARK and cue.mark is MarkKind.END)
        if current is None:
            loose.append(cue)
        else:
            current.cues.append(cue)
    if loose:
        rows.insert(0, Row("start", loose[0].time, cues=loose))
    for row in rows:
        row.end = max((_cue_end(c) for c in row.cues), default=row.start)
    return rows


def _side_label(cue: Cue) -> str:
    p = cue.position
    parts = [p.exercise_name or cue.text]
    if p.round > 1:
        parts.append(f"round {p.round}")
    if p.set:
        parts.append(f"set {p.set}")
    if p.side:
        parts.append(p.side)
    return " · ".join(parts)


def _cue_end(cue: Cue) -> float:
    if cue.kind is CueKind.MARK and cue.mark in (MarkKind.SIDE, MarkKind.SET,
                                                 MarkKind.EXERCISE, MarkKind.WORKOUT):
        return cue.time  # containers: their lane ends with what is drawn in them
    return cue.time + cue.duration


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def plot_timeline(timeline: Timeline, path: Path | str) -> Path:
    """The workout drawn lane by lane: phases coloured, counts and waits marked.

    x is seconds from the start of each lane (the lane's start on the plan clock is
    in its label), so a long workout stays readable: one lane per exercise side.
    """
    path = check_plot_path(path)
    rows = timeline_rows(timeline)
    if not rows:
        raise InputError(f"workout {timeline.title!r} has nothing to draw")
    width = max(row.end - row.start for row in rows) or 1.0
    figure, axes = plt.subplots(figsize=(13.0, 1.9 + 0.62 * len(rows)),
                                layout="constrained")
    seconds_per_inch = width / 11.0
    for y, row in enumerate(rows):
        _draw_row(axes, y, row, seconds_per_inch)
    axes.set_yticks(range(len(rows)))
    axes.set_yticklabels([f"{row.label}  ({_clock(row.start)})" for row in rows],
                         fontsize=9)
    axes.set_ylim(len(rows) - 0.4, -0.75)
    axes.set_xlim(-0.01 * width, width * 1.01)
    axes.set_xlabel("seconds from the start of each lane (lane start on the plan clock "
                    "in brackets; waits for \"next\" take no time)")
    axes.set_title(f"{timeline.title}: {_clock(timeline.duration)} plus "
                   f"{timeline.gates} waits for \"next\"", fontsize=11)
    axes.grid(axis="x", alpha=0.25)
    axes.set_axisbelow(True)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.tick_params(axis="y", length=0)
    figure.legend(handles=_legend(timeline), loc="outside lower center", ncol=5,
                  frameon=False, fontsize=8)
    return save_figure(figure, path)


def _draw_row(axes: plt.Axes, y: int, row: Row, seconds_per_inch: float) -> None:
    bar = 0.42
    for cue in row.cues:
        x = cue.time - row.start
        if cue.kind is CueKind.MARK and cue.mark is MarkKind.PHASE:
            colour = PHASE_COLOURS.get(cue.position.phase_kind, "#999999")
            axes.broken_barh([(x, cue.duration)], (y - bar / 2, bar), color=colour,
                             edgecolor="white", linewidth=0.4)
        elif cue.kind is CueKind.MARK and cue.mark is MarkKind.HOLD:
            axes.broken_barh([(x, cue.duration)], (y - bar / 2, bar),
                             facecolor=PHASE_COLOURS["isometric"], hatch="//",
                             edgecolor=HOLD_HATCH, linewidth=0.0)
        elif cue.kind is CueKind.MARK and cue.mark is MarkKind.REST:
            axes.broken_barh([(x, cue.duration)], (y - bar / 2, bar), color=REST_COLOUR)
            axes.text(x + cue.duration / 2, y, f"rest {cue.duration:g} s", ha="center",
                      va="center", fontsize=7, color="#333333", clip_on=True)
        elif cue.kind is CueKind.MARK and cue.mark is MarkKind.REP:
            axes.plot([x, x], [y - bar / 2 - 0.06, y + bar / 2], color="#333333",
                      linewidth=0.8)
        elif cue.kind is CueKind.SPEECH and cue.counted:
            axes.plot([x], [y - bar / 2 - 0.1], marker="v", markersize=3.5,
                      color=COUNT_COLOUR, linestyle="none")
        elif cue.kind is CueKind.SPEECH:
            if cue.position.step and not cue.counted:
                axes.broken_barh([(x, cue.duration)], (y - bar / 2, bar),
                                 color=SETUP_COLOUR)
            axes.broken_barh([(x, cue.duration)], (y + bar / 2 + 0.05, 0.07),
                             color=SPEECH_COLOUR)
        elif cue.kind is CueKind.GATE:
            axes.plot([x], [y], marker="D", markersize=6, color=GATE_COLOUR,
                      linestyle="none")
    _label_counts(axes, y, row, seconds_per_inch, bar)


def _label_counts(axes: plt.Axes, y: int, row: Row, seconds_per_inch: float,
                  bar: float) -> None:
    """Write the counted words above their beats where there is room for them."""
    room = 0.28 * seconds_per_inch  # about a short word at 7 pt
    last = float("-inf")
    for cue in row.cues:
        if cue.kind is CueKind.SPEECH and cue.counted:
            x = cue.time - row.start
            if x - last >= room:
                axes.text(x, y - bar / 2 - 0.16, cue.text, ha="center", va="bottom",
                          fontsize=6.5, color=COUNT_COLOUR, clip_on=True)
                last = x


def _legend(timeline: Timeline) -> list[Patch | Line2D]:
    kinds = {c.position.phase_kind for c in timeline.cues
             if c.kind is CueKind.MARK and c.mark is MarkKind.PHASE}
    handles: list[Patch | Line2D] = [Patch(color=PHASE_COLOURS[k], label=PHASE_LABELS[k])
                                     for k in PHASE_COLOURS if k in kinds]
    marks = {c.mark for c in timeline.cues if c.kind is CueKind.MARK}
    if MarkKind.HOLD in marks:
        handles.append(Patch(facecolor=PHASE_COLOURS["isometric"], hatch="//",
                             edgecolor=HOLD_HATCH, linewidth=0.0, label="timed hold"))
    if MarkKind.REST in marks:
        handles.append(Patch(color=REST_COLOUR, label="rest"))
    if MarkKind.STEP in marks:
        handles.append(Patch(color=SETUP_COLOUR, label="setup step"))
    handles += [
        Patch(color=SPEECH_COLOUR, label="speech"),
        Line2D([], [], marker="v", color=COUNT_COLOUR, linestyle="none", markersize=5,
               label="spoken count (beat)"),
    ]
    if MarkKind.REP in marks:
        handles.append(Line2D([], [], marker="|", color="#333333", linestyle="none",
                              markersize=9, label="rep starts"))
    if timeline.gates:
        handles.append(Line2D([], [], marker="D", color=GATE_COLOUR, linestyle="none",
                              markersize=6, label="waits for \"next\""))
    return handles
