"""What a session's logged events mean: summaries, resume points, work done.

Pure functions over :class:`Event` lists, so they are testable without a database;
:mod:`voicecoach.records.training_log` stores the events and calls these to answer questions.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from voicecoach.planning.timeline import Cue, CueKind, MarkKind, Position, Timeline


class EventKind(StrEnum):
    """What happened; stored as text in the log, so never rename a value."""

    STARTED = "started"  # the session began (first event of every session)
    STEP_CONFIRMED = "step_confirmed"  # the user said "next" after a setup step
    REP_COMPLETED = "rep_completed"  # a rep's last phase ended
    HOLD_COMPLETED = "hold_completed"  # a timed hold ended
    SIDE_FINISHED = "side_finished"  # a side/set ended, all reps done or "done" said
    PAUSED = "paused"
    RESUMED = "resumed"  # carried on after a pause
    COMMAND_HEARD = "command_heard"  # detail: {"command": ..., "text": ..., ...}
    REST_SKIPPED = "rest_skipped"
    FINISHED = "finished"  # the workout reached its end
    STOPPED = "stopped"  # the user stopped; resumable
    RESUMED_SESSION = "resumed_session"  # `run --resume` continued this session


class SessionStatus(StrEnum):
    """How a session ended, from its last lifecycle event."""

    FINISHED = "finished"
    STOPPED = "stopped"  # the user said stop
    UNFINISHED = "unfinished"  # crashed, killed, or still running


@dataclass(frozen=True)
class Event:
    """One logged event."""

    id: int
    session_id: int
    at: float  # Unix time, seconds
    kind: EventKind
    position: Position | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionRecord:
    """A session's row: what was started, and with which plan."""

    id: int
    started_at: float  # Unix time, seconds
    workout: str  # the workout's title
    workout_source: str  # the workout file (path or name) to compile it again
    language: str
    plan_fingerprint: str  # :func:`plan_fingerprint` of the compiled timeline


@dataclass(frozen=True)
class SessionSummary:
    """One line of history: when, what, how long, how much."""

    id: int
    started_at: datetime  # local time
    workout: str
    workout_source: str
    language: str
    plan_fingerprint: str
    status: SessionStatus
    duration: float  # seconds of activity, excluding the gaps before resumes
    reps: dict[str, dict[str, int]]  # exercise name -> side ("" = no sides) -> reps
    holds: int
    pauses: int
    resumes: int  # how many times the session was continued with --resume
    last_position: Position | None

    @property
    def finished(self) -> bool:
        return self.status is SessionStatus.FINISHED

    @property
    def reps_per_side(self) -> dict[str, int]:
        """Reps over all exercises, per side ("" for exercises without sides)."""
        total: Counter[str] = Counter()
        for sides in self.reps.values():
            total.update(sides)
        return dict(sorted(total.items()))

    @property
    def total_reps(self) -> int:
        return sum(self.reps_per_side.values())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data for other tools."""
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "workout": self.workout,
            "workout_source": self.workout_source,
            "language": self.language,
            "status": self.status.value,
            "finished": self.finished,
            "duration_seconds": round(self.duration, 1),
            "reps": self.reps,
            "reps_per_side": self.reps_per_side,
            "total_reps": self.total_reps,
            "holds": self.holds,
            "pauses": self.pauses,
            "resumes": self.resumes,
        }


UnitKey = tuple[Any, ...]
"""Identity of one unit of work: a setup step, a rep or a hold."""

UNIT_MARKS = (MarkKind.STEP, MarkKind.REP, MarkKind.HOLD)
LIFECYCLE = (EventKind.STARTED, EventKind.RESUMED_SESSION, EventKind.FINISHED,
             EventKind.STOPPED)


def unit_key(mark: MarkKind, position: Position) -> UnitKey:
    """The key of the unit a STEP/REP/HOLD at ``position`` is; phases don't matter."""
    if mark is MarkKind.STEP:
        return ("step", position.exercise, position.round, position.step)
    kind = "rep" if mark is MarkKind.REP else "hold"
    return (kind, position.exercise, position.round, position.set, position.side,
            position.rep)


def side_key(position: Position) -> UnitKey:
    """The key of the side (of one set of one exercise in one round) at ``position``."""
    return (position.exercise, position.round, position.set, position.side)


_EVENT_UNIT = {EventKind.STEP_CONFIRMED: MarkKind.STEP,
               EventKind.REP_COMPLETED: MarkKind.REP,
               EventKind.HOLD_COMPLETED: MarkKind.HOLD}


def status_from(last_lifecycle: EventKind | None) -> SessionStatus:
    """Finished or stopped if the last lifecycle event says so, else unfinished."""
    if last_lifecycle is EventKind.FINISHED:
        return SessionStatus.FINISHED
    if last_lifecycle is EventKind.STOPPED:
        return SessionStatus.STOPPED
    return SessionStatus.UNFINISHED


def status_of(events: Sequence[Event]) -> SessionStatus:
    """The status of a session with these events."""
    lifecycle = [e.kind for e in events if e.kind in LIFECYCLE]
    return status_from(lifecycle[-1] if lifecycle else None)


@dataclass(frozen=True)
class SessionFacts:
    """What a summary is made of; the log aggregates these in SQL, so listing a
    year of sessions does not mean reading every event."""

    reps: dict[str, dict[str, int]]  # distinct reps done, per exercise and side
    holds: int  # distinct holds done
    pauses: int
    last_lifecycle: EventKind | None  # the last started/resumed/finished/stopped
    segments: tuple[tuple[float, float], ...]  # (start, last event) per start and resume
    last_position: Position | None


def summarize(record: SessionRecord, facts: SessionFacts) -> SessionSummary:
    """The history line of one session."""
    return SessionSummary(
        id=record.id,
        started_at=datetime.fromtimestamp(record.started_at).astimezone(),
        workout=record.workout,
        workout_source=record.workout_source,
        language=record.language,
        plan_fingerprint=record.plan_fingerprint,
        status=status_from(facts.last_lifecycle),
        duration=sum(max(0.0, end - start) for start, end in facts.segments),
        reps={name: dict(sorted(sides.items())) for name, sides in facts.reps.items()},
        holds=facts.holds,
        pauses=facts.pauses,
        resumes=max(0, len(facts.segments) - 1),
        last_position=facts.last_position,
    )


def plan_fingerprint(timeline: Timeline) -> str:
    """A hash of the plan's structure (exercises, sides, reps, steps), not its timing.

    Speech lengths change with the voice; the structure is what a resume point
    refers to, so only that goes in.
    """
    digest = hashlib.sha256()
    for cue in timeline.cues:
        if cue.kind is CueKind.MARK and cue.mark is not None and cue.mark not in (
                MarkKind.PHASE, MarkKind.END):
            p = cue.position
            digest.update(repr((cue.mark.value, p.exercise, p.exercise_name, p.round,
                                p.set, p.side, p.rep, p.reps, p.step)).encode())
    return digest.hexdigest()[:16]


def done_units(events: Iterable[Event], timeline: Timeline | None = None) -> set[UnitKey]:
    """Keys of every unit the events say was done.

    A ``side_finished`` event (all reps, or the user said "done") marks every unit of
    that side done, which needs the ``timeline`` to know which units those are.
    """
    done: set[UnitKey] = set()
    finished_sides: set[UnitKey] = set()
    for event in events:
        if event.position is None:
            continue
        mark = _EVENT_UNIT.get(event.kind)
        if mark is not None:
            done.add(unit_key(mark, event.position))
        elif event.kind is EventKind.SIDE_FINISHED:
            finished_sides.add(side_key(event.position))
    if timeline is not None and finished_sides:
        for cue in timeline.cues:
            if (cue.kind is CueKind.MARK and cue.mark in (MarkKind.REP, MarkKind.HOLD)
                    and side_key(cue.position) in finished_sides):
                done.add(unit_key(cue.mark, cue.position))
    return done


@dataclass(frozen=True)
class ResumePoint:
    """Where ``run --resume`` carries on in a compiled timeline."""

    session_id: int
    cue_index: int  # resume with ``timeline.resumed_at(cue_index)``
    position: Position | None  # the first unfinished unit; None if nothing is left
    units_done: int
    units_total: int

    @property
    def complete(self) -> bool:
        """Every unit was done: nothing to resume."""
        return self.position is None


def _unit_marks(timeline: Timeline) -> list[tuple[int, Cue, UnitKey]]:
    return [(i, c, unit_key(c.mark, c.position)) for i, c in enumerate(timeline.cues)
            if c.kind is CueKind.MARK and c.mark in UNIT_MARKS]


def _block_end(timeline: Timeline, index: int, key: UnitKey | None) -> int:
    """Index just past the block of the MARK at ``index``: cues within its span or,
    for a unit, cues carrying its position (e.g. the gate after a step's speech)."""
    mark = timeline.cues[index]
    end_time = mark.time + mark.duration
    j = index + 1
    while j < len(timeline.cues):
        cue = timeline.cues[j]
        inside = cue.time < end_time - 1e-9 and not (
            cue.kind is CueKind.MARK and cue.mark in UNIT_MARKS + (MarkKind.REST,))
        same_unit = (key is not None and not (cue.kind is CueKind.MARK and cue.mark
                                              in UNIT_MARKS)
                     and _cue_unit(cue, key) == key)
        if not (inside or same_unit):
            break
        j += 1
    return j


def _cue_unit(cue: Cue, like: UnitKey) -> UnitKey:
    """``cue``'s position seen as a key of the same kind as ``like``."""
    mark = {"step": MarkKind.STEP, "rep": MarkKind.REP, "hold": MarkKind.HOLD}[like[0]]
    return unit_key(mark, cue.position)


def resume_point(session_id: int, events: Sequence[Event], timeline: Timeline) -> ResumePoint:
    """The first unfinished unit after the last one done, and the cue to restart at.

    Work is done in timeline order, so resuming goes after the *last* unit done
    (units skipped on the way, e.g. reps cut short with "done", stay skipped). The
    restart cue is just after that unit's cues and after any rest that followed it,
    so the coach announces the next side or set but does not make the user rest again.
    """
    units = _unit_marks(timeline)
    done = done_units(events, timeline)
    done_indices = [n for n, (_, _, key) in enumerate(units) if key in done]
    units_done = len(done_indices)
    if not done_indices:
        first = units[0][1].position if units else None
        return ResumePoint(session_id, 0, first, 0, len(units))
    last = done_indices[-1]
    if last + 1 >= len(units):
        return ResumePoint(session_id, len(timeline.cues), None, units_done, len(units))
    mark_index, _, key = units[last]
    start = _block_end(timeline, mark_index, key)
    while (start < len(timeline.cues) and timeline.cues[start].kind is CueKind.MARK
           and timeline.cues[start].mark is MarkKind.REST):
        start = _block_end(timeline, start, None)
    next_index, next_cue, _ = units[last + 1]
    return ResumePoint(session_id, min(start, next_index), next_cue.position,
                       units_done, len(units))


@dataclass(frozen=True)
class DoneSide:
    """What was done of one side (or the only side) of one set."""

    exercise: int
    exercise_name: str
    round: int
    set: int
    side: str
    reps_done: int
    reps_planned: int
    holds_done: int


@dataclass(frozen=True)
class DoneWork:
    """What a session actually did, in the order it was done."""

    steps_confirmed: int
    sides: tuple[DoneSide, ...]

    @property
    def units(self) -> int:
        return self.steps_confirmed + sum(s.reps_done + s.holds_done for s in self.sides)


def done_work(events: Sequence[Event]) -> DoneWork:
    """Which exercises, sides and reps a session's events say were done."""
    order: list[UnitKey] = []
    reps: dict[UnitKey, set[int]] = {}
    holds: dict[UnitKey, set[int]] = {}
    planned: dict[UnitKey, int] = {}
    names: dict[UnitKey, str] = {}
    steps: set[UnitKey] = set()
    for event in events:
        position = event.position
        if position is None:
            continue
        if event.kind is EventKind.STEP_CONFIRMED:
            steps.add(unit_key(MarkKind.STEP, position))
            continue
        if event.kind not in (EventKind.REP_COMPLETED, EventKind.HOLD_COMPLETED):
            continue
        side = side_key(position)
        if side not in reps:
            order.append(side)
            reps[side], holds[side] = set(), set()
            names[side] = position.exercise_name
        target = reps if event.kind is EventKind.REP_COMPLETED else holds
        target[side].add(position.rep)
        planned[side] = max(planned.get(side, 0), position.reps)
    sides = tuple(DoneSide(exercise=k[0], exercise_name=names[k], round=k[1], set=k[2],
                           side=k[3], reps_done=len(reps[k]), reps_planned=planned[k],
                           holds_done=len(holds[k])) for k in order)
    return DoneWork(steps_confirmed=len(steps), sides=sides)


def trim_to_done(timeline: Timeline, events: Sequence[Event]) -> Timeline:
    """The timeline of what was actually done, for exporting a session.

    Units (steps, reps, holds) not done are cut out, and so is every side with
    nothing done, and (unless the session finished) everything planned after the
    last unit done; later cues move earlier to close the gaps.
    """
    done = done_units(events)  # only what was logged: reps cut short by "done" go too
    cues = timeline.cues
    sides_with_work = {side_key(c.position) for c in cues
                       if c.kind is CueKind.MARK and c.mark in UNIT_MARKS[1:]
                       and unit_key(c.mark, c.position) in done}
    cut: list[tuple[int, int]] = []  # [start, end) cue index ranges to drop
    for i, cue in enumerate(cues):
        if cue.kind is not CueKind.MARK:
            continue
        if cue.mark in UNIT_MARKS and unit_key(cue.mark, cue.position) not in done:
            cut.append((i, _block_end(timeline, i, unit_key(cue.mark, cue.position))))
        elif cue.mark is MarkKind.SIDE and side_key(cue.position) not in sides_with_work:
            end = _side_end(timeline, i)
            cut.append((i, end))
    done_marks = [i for i, c in enumerate(cues) if c.kind is CueKind.MARK
                  and c.mark in UNIT_MARKS and unit_key(c.mark, c.position) in done]
    if done_marks:  # what was planned after the last thing done never happened
        last = done_marks[-1]
        mark = cues[last].mark
        assert mark is not None  # done_marks are MARK cues
        tail = _block_end(timeline, last, unit_key(mark, cues[last].position))
        end = next((i for i in range(tail, len(cues)) if cues[i].kind is CueKind.MARK
                    and cues[i].mark is MarkKind.END), len(cues))
        if tail < end and not _finished(events):
            cut.append((tail, end))
    kept: list[Cue] = []
    shift = 0.0
    next_kept = 0
    for start, end in _merged(cut):
        kept.extend(replace(c, time=c.time - shift) for c in cues[next_kept:start])
        if end < len(cues):
            shift += cues[end].time - cues[start].time
        next_kept = end
    kept.extend(replace(c, time=c.time - shift) for c in cues[next_kept:])
    return replace(timeline, cues=tuple(kept))


def _finished(events: Sequence[Event]) -> bool:
    return status_of(events) is SessionStatus.FINISHED


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping union of [start, end) index ranges."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _side_end(timeline: Timeline, index: int) -> int:
    """Index of the next SIDE/EXERCISE/END mark after the SIDE mark at ``index``."""
    for j in range(index + 1, len(timeline.cues)):
        cue = timeline.cues[j]
        if cue.kind is CueKind.MARK and cue.mark in (MarkKind.SIDE, MarkKind.EXERCISE,
                                                     MarkKind.SET, MarkKind.END):
            return j
    return len(timeline.cues)
