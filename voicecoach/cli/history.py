"""``history``: the training log as a table, JSON or CSV, a volume plot, or one
session's events; ``--session ID --export FILE`` renders what that session did."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from voicecoach.errors import InputError
from voicecoach.planning.timeline import Timeline
from voicecoach.records.history import (
    Event,
    SessionRecord,
    SessionStatus,
    SessionSummary,
    done_work,
    plan_fingerprint,
    trim_to_done,
)
from voicecoach.records.training_log import TrainingLog, default_db_path

CSV_FIELDS = ("id", "started_at", "workout", "workout_source", "language", "status",
              "duration_seconds", "total_reps", "reps_left", "reps_right", "reps_no_side",
              "holds", "pauses", "resumes")
EVENT_FIELDS = ("id", "at", "kind", "exercise", "exercise_name", "round", "set", "side",
                "rep", "reps", "phase", "step", "detail")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "history", help="show the training log",
        description="Show logged sessions (date, workout, duration, reps per side, pauses, "
                    "finished), or one session's events with --session.")
    parser.add_argument("--db", type=Path, metavar="PATH",
                        help="training log file (default: $VOICECOACH_DB or "
                             f"{default_db_path()})")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON for other tools")
    output.add_argument("--csv", action="store_true", help="print CSV for other tools")
    parser.add_argument("--plot", type=Path, metavar="FILE.png|svg",
                        help="also draw reps per day per exercise to this picture")
    parser.add_argument("--session", type=int, metavar="ID",
                        help="show this session's events instead of the session list")
    parser.add_argument("--export", type=Path, metavar="FILE",
                        help="with --session: render what that session did to an audio file")
    parser.add_argument("--gap", type=float, default=3.0, metavar="SECONDS",
                        help="with --export: pause at each wait for 'next' (default 3)")
    parser.set_defaults(handler=run_history)


def run_history(args: argparse.Namespace) -> int:
    if args.export is not None and args.session is None:
        raise InputError("--export needs --session ID: which session to render")
    path = args.db if args.db is not None else default_db_path()
    if not path.exists():
        if args.session is not None or args.plot is not None:
            raise InputError(f"no training log at {path}; run a workout first or pass --db")
        print_sessions([], args, path)
        return 0
    # Writable: open normally, so a log from an older voicecoach is upgraded first.
    with TrainingLog(path, readonly=not os.access(path, os.W_OK)) as log:
        if args.session is not None:
            summary = log.summary(args.session)
            events = log.events(args.session)
            if args.export is not None:
                written = export_session(log.session(args.session), events, args.export,
                                         gap=args.gap)
                print(f"wrote {written}: {clock(summary.duration)} of training, "
                      f"{reps_text(summary)}")
                return 0
            print_events(summary, events, args)
            return 0
        sessions = log.sessions()
    if args.plot is not None:
        from voicecoach.extras import import_plots  # matplotlib is slow to import

        import_plots().plot_history(sessions, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    print_sessions(sessions, args, path)
    return 0


# -- the session list -----------------------------------------------------------


def csv_row(summary: SessionSummary) -> dict[str, Any]:
    data = summary.to_dict()
    sides = summary.reps_per_side
    data.update(reps_left=sides.get("left", 0), reps_right=sides.get("right", 0),
                reps_no_side=sides.get("", 0))
    return {name: data[name] for name in CSV_FIELDS}


def print_sessions(sessions: list[SessionSummary], args: argparse.Namespace,
                   path: Path) -> None:
    if args.json:
        json.dump([s.to_dict() for s in sessions], sys.stdout, indent=2, ensure_ascii=False)
        print()
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_row(s) for s in sessions)
    elif not sessions:
        print(f"No sessions logged yet in {path}.")
    else:
        Console().print(session_table(sessions, path))


def session_table(sessions: list[SessionSummary], path: Path) -> Table:
    """The session list; fits an 80-column terminal by wrapping text, never cutting it."""
    table = Table(title=f"Training log ({path})", title_justify="left")
    for name, justify, wrap in (("id", "right", False), ("date", "left", True),
                                ("workout", "left", True), ("time", "right", False),
                                ("reps per side", "left", True), ("pauses", "right", False),
                                ("finished", "left", True)):
        table.add_column(name, justify=justify, no_wrap=not wrap,  # type: ignore[arg-type]
                         overflow="fold")
    for s in sessions:
        table.add_row(str(s.id), s.started_at.strftime("%Y-%m-%d %H:%M"), s.workout,
                      clock(s.duration), reps_text(s), str(s.pauses), status_text(s))
    if any(s.status is not SessionStatus.FINISHED for s in sessions):
        table.caption = RESUME_HINT
        table.caption_justify = "left"
    return table


RESUME_HINT = "Stopped or interrupted sessions carry on with `voicecoach run WORKOUT --resume`."


def clock(seconds: float) -> str:
    """Seconds as m:ss, or h:mm:ss from an hour."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def reps_text(summary: SessionSummary) -> str:
    """E.g. "L 6 / R 6", "24", or "24 + L 6 / R 6" for a mix; holds added."""
    sides = summary.reps_per_side
    parts = []
    if sides.get(""):
        parts.append(str(sides[""]))
    paired = [f"{side[0].upper()} {n}" for side, n in sides.items() if side]
    if paired:
        parts.append(" / ".join(paired))
    text = " + ".join(parts) or "0"
    if summary.holds:
        text += f", {summary.holds} hold{'s' if summary.holds > 1 else ''}"
    return text


def status_text(summary: SessionSummary) -> str:
    if summary.status is SessionStatus.FINISHED:
        return "yes" + (f" (resumed {summary.resumes}x)" if summary.resumes else "")
    if summary.status is SessionStatus.STOPPED:
        return "stopped"
    return "interrupted"


# -- one session's events -------------------------------------------------------


def event_row(event: Event) -> dict[str, Any]:
    p = event.position
    return {
        "id": event.id,
        "at": datetime.fromtimestamp(event.at).astimezone().isoformat(timespec="milliseconds"),
        "kind": event.kind.value,
        "exercise": p.exercise if p else None,
        "exercise_name": p.exercise_name if p else None,
        "round": p.round if p else None,
        "set": p.set if p else None,
        "side": p.side if p else None,
        "rep": p.rep if p else None,
        "reps": p.reps if p else None,
        "phase": p.phase if p else None,
        "step": p.step if p else None,
        "detail": event.detail,
    }


def print_events(summary: SessionSummary, events: list[Event],
                 args: argparse.Namespace) -> None:
    rows = [event_row(e) for e in events]
    if args.json:
        json.dump({"session": summary.to_dict(), "events": rows}, sys.stdout, indent=2,
                  ensure_ascii=False)
        print()
        return
    if args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=EVENT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**r, "detail": json.dumps(r["detail"], ensure_ascii=False)}
                         for r in rows)
        return
    table = Table(title=f"Session {summary.id}: {summary.workout}, "
                        f"{summary.started_at:%Y-%m-%d %H:%M}, {clock(summary.duration)}, "
                        f"{reps_text(summary)}, {status_text(summary)}",
                  title_justify="left")
    for name in ("time", "event", "where", "detail"):
        table.add_column(name)
    for event, row in zip(events, rows):
        table.add_row(row["at"][11:19], event.kind.value, where(event),
                      json.dumps(event.detail, ensure_ascii=False) if event.detail else "")
    Console().print(table)


def where(event: Event) -> str:
    """A short place in the workout: "Squat, set 2, left, rep 3/8" or "Squat, step 1"."""
    p = event.position
    if p is None:
        return ""
    parts = [p.exercise_name] if p.exercise_name else []
    if p.round > 1:
        parts.append(f"round {p.round}")
    if p.step:
        parts.append(f"step {p.step}")
    if p.set:
        parts.append(f"set {p.set}")
    if p.side:
        parts.append(p.side)
    if p.rep:
        parts.append(f"rep {p.rep}/{p.reps}")
    return ", ".join(parts)


# -- rendering what a session did -------------------------------------------------


def export_session(record: SessionRecord, events: list[Event], output: Path, *,
                   gap: float = 3.0) -> Path:
    """Render the guided audio of what session ``record`` actually did to ``output``.

    The workout is compiled again from ``record.workout_source`` with the options the
    session was started with, checked against the logged plan fingerprint, cut to the
    steps, reps and holds the events say were done (:func:`trim_to_done`), then mixed
    and encoded by the same path as ``voicecoach export``.
    """
    # Imported here: speech, mixing and encoding are slow to import and only needed now.
    from voicecoach.planning.plan import PlanRequest
    from voicecoach.playback.export import export_workout

    if not done_work(events).units:
        raise InputError(f"session {record.id} has no steps, reps or holds logged; "
                         f"nothing to render")
    options = events[0].detail if events else {}
    request = PlanRequest(workout=record.workout_source, language=record.language or "en",
                          voice=options.get("voice"), rate=int(options.get("rate", 165)),
                          phase_seconds=tuple(options.get("phase_seconds", ())))

    def what_was_done(timeline: Timeline) -> Timeline:
        if record.plan_fingerprint and plan_fingerprint(timeline) != record.plan_fingerprint:
            raise InputError(f"workout {record.workout_source} changed since session "
                             f"{record.id} was logged; cannot tell what was done")
        return trim_to_done(timeline, events)

    day = datetime.fromtimestamp(record.started_at).strftime("%Y-%m-%d")
    export_workout(request, output, gap=gap, transform=what_was_done,
                   title=f"{record.workout} ({day}, session {record.id})")
    return output
