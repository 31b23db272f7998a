"""The training log: every session's events in one SQLite file.

Durability: WAL journal with ``synchronous=FULL`` and one committed transaction per
event, so a killed process loses nothing it recorded and a pulled plug loses at most
the event being written (``NORMAL`` would only fsync the WAL at checkpoints, so a
power cut could lose the last several events). An event costs one fsync, a few
milliseconds, at most a few times a second.

Safety: an existing file is checked read-only first (SQLite header, our application
id, schema version) and only then opened for writing, so a file that is not ours,
is corrupt, or comes from a newer voicecoach is reported and never rewritten.
Several processes may log to one file at once: each write takes the write lock
with ``BEGIN IMMEDIATE`` and waits up to ``busy_timeout`` for it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from voicecoach.errors import InputError, OutputError, VoicecoachError
from voicecoach.paths import data_dir
from voicecoach.planning.timeline import Position, Timeline
from voicecoach.records.history import (
    LIFECYCLE,
    Event,
    EventKind,
    ResumePoint,
    SessionFacts,
    SessionRecord,
    SessionStatus,
    SessionSummary,
    plan_fingerprint,
    resume_point,
    summarize,
)

__all__ = [
    "APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "Event", "EventKind", "ResumePoint",
    "SessionRecord", "SessionStatus", "SessionSummary", "TrainingLog", "default_db_path",
    "plan_fingerprint",
]

SQLITE_MAGIC = b"SQLite format 3\x00"
APPLICATION_ID = 0x56434C47  # "VCLG" in the SQLite header marks the file as ours

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # v0 -> v1: sessions and their events; the position is spread over columns so
    # other tools can query it.
    (
        f"PRAGMA application_id = {APPLICATION_ID}",
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at REAL NOT NULL,
            workout TEXT NOT NULL,
            workout_source TEXT NOT NULL,
            plan_fingerprint TEXT NOT NULL)""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            exercise INTEGER, exercise_name TEXT, round INTEGER, set_no INTEGER,
            side TEXT, rep INTEGER, reps INTEGER, phase TEXT, step INTEGER,
            detail TEXT NOT NULL DEFAULT '{}')""",
    ),
    # v1 -> v2: sessions remember their language, so a resume speaks the same one.
    (
        "ALTER TABLE sessions ADD COLUMN language TEXT NOT NULL DEFAULT ''",
    ),
    # v2 -> v3: the phase kind (concentric, eccentric, ...) of an event's position,
    # and an index for reading one session's events in order.
    (
        "ALTER TABLE events ADD COLUMN phase_kind TEXT",
        "CREATE INDEX events_by_session ON events(session_id, id)",
    ),
)
"""``MIGRATIONS[v]`` takes a version-``v`` database to ``v + 1``. Append only."""

SCHEMA_VERSION = len(MIGRATIONS)

_POSITION_COLUMNS = ("exercise", "exercise_name", "round", "set_no", "side", "rep",
                     "reps", "phase", "phase_kind", "step")
_EVENT_COLUMNS = ("id", "session_id", "at", "kind", *_POSITION_COLUMNS, "detail")
_LIFECYCLE_SQL = ", ".join(f"'{kind.value}'" for kind in LIFECYCLE)
_SESSION_COLUMNS = ("id", "started_at", "workout", "workout_source", "language",
                    "plan_fingerprint")


def default_db_path() -> Path:
    """``VOICECOACH_DB`` if set, else ``log.sqlite3`` in the user data folder."""
    override = os.environ.get("VOICECOACH_DB")
    return Path(override) if override else data_dir() / "log.sqlite3"


class TrainingLog:
    """One SQLite training log; safe to share between threads and processes.

    ``readonly=True`` never writes or creates anything (for ``history``); the file
    must then exist.
    """

    def __init__(self, path: Path | str | None = None, *, readonly: bool = False,
                 busy_timeout: float = 10.0) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        self._lock = threading.Lock()
        existing_version = self._inspect()
        if readonly and existing_version < SCHEMA_VERSION:
            raise InputError(f"{self.path} uses log schema v{existing_version}; open it "
                             f"once for writing (e.g. run a workout) to upgrade it to "
                             f"v{SCHEMA_VERSION}")
        self._db = self._connect_readonly() if readonly else self._connect_readwrite()
        if not readonly:
            try:
                self._migrate()
            except BaseException:
                self._db.close()
                raise

    # -- opening ---------------------------------------------------------------

    def _inspect(self) -> int:
        """Check an existing file read-only; return its schema version (0 if new)."""
        path = self.path
        if path.is_dir():
            raise InputError(f"{path} is a folder, not a training log; pass --db FILE")
        if not path.exists():
            if self.readonly:
                raise InputError(f"no training log at {path}; run a workout first or "
                                 f"pass --db FILE")
            return 0
        try:
            with path.open("rb") as handle:
                header = handle.read(100)
        except OSError as error:
            raise OutputError(f"cannot read training log {path}: {error.strerror}; "
                              f"check its permissions or pass --db ANOTHER_FILE") from None
        if not self.readonly:
            # SQLite silently falls back to read-only; find out now, not mid-workout.
            try:
                os.close(os.open(path, os.O_RDWR))
            except OSError:
                raise OutputError(f"training log {path} is read-only; make it writable "
                                  f"or pass --db ANOTHER_FILE") from None
        if not header:
            return 0
        if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
            raise InputError(f"{path} is not a voicecoach training log (not an SQLite "
                             f"database); move it aside or pass --db ANOTHER_FILE")
        # Header fields may be stale while newer pages sit in the WAL, so ask SQLite.
        try:
            probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                    timeout=self.busy_timeout)
            try:
                # One read transaction: another process may be creating the log right now,
                # and three separate reads could see before and after its first commit.
                probe.execute("BEGIN")
                tables = probe.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                version = probe.execute("PRAGMA user_version").fetchone()[0]
                app_id = probe.execute("PRAGMA application_id").fetchone()[0]
                probe.execute("COMMIT")
            finally:
                probe.close()
        except sqlite3.Error as error:
            raise self._explain(error) from None
        if app_id != APPLICATION_ID and (tables or version):
            raise InputError(f"{path} is an SQLite database but not a voicecoach training "
                             f"log; pass --db ANOTHER_FILE")
        if version > SCHEMA_VERSION:
            raise InputError(f"{path} was written by a newer voicecoach (log schema "
                             f"v{version}, this one knows v{SCHEMA_VERSION}); upgrade "
                             f"voicecoach or pass --db ANOTHER_FILE")
        return version

    def _connect_readonly(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                 timeout=self.busy_timeout, isolation_level=None,
                                 check_same_thread=False)
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        except sqlite3.Error as error:
            raise self._explain(error) from None
        return db

    def _connect_readwrite(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"cannot create the folder for training log {self.path}: "
                              f"{error.strerror}; pass --db FILE somewhere writable") from None
        try:
            db = sqlite3.connect(self.path, timeout=self.busy_timeout,
                                 isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise self._explain(error) from None
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            mode = self._switch_to_wal(db)
            if mode.lower() != "wal":
                raise OutputError(f"cannot use write-ahead logging for {self.path} "
                                  f"(journal mode stays {mode}); pass --db FILE on a "
                                  f"local disk")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
        except BaseException as error:
            db.close()
            if isinstance(error, sqlite3.Error):
                raise self._explain(error) from None
            raise
        return db

    def _switch_to_wal(self, db: sqlite3.Connection) -> str:
        """Set write-ahead logging, retrying while another process holds the file.

        Changing the journal mode of a new file can fail with "database is locked" at
        once, without SQLite's busy handler waiting (two processes creating one log at
        the same moment), so the wait up to ``busy_timeout`` is done here.
        """
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                return str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as error:
                text = str(error).lower()
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION, one transaction, under the write lock."""
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:  # upgraded by a newer process meanwhile
                raise InputError(f"{self.path} was written by a newer voicecoach (log "
                                 f"schema v{version}); upgrade voicecoach")
            for target in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[target]:
                    db.execute(statement)
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _explain(self, error: sqlite3.Error) -> VoicecoachError:
        """A one-line, actionable message for an SQLite error on this file."""
        text = str(error).lower()
        path = self.path
        if "locked" in text or "busy" in text:
            return OutputError(f"training log {path} is locked by another program for "
                               f"more than {self.busy_timeout:g} s; close it and retry")
        if "readonly" in text or "read-only" in text:
            return OutputError(f"training log {path} (or its folder) is read-only; make "
                               f"it writable or pass --db ANOTHER_FILE")
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return InputError(f"training log {path} is corrupt ({error}); move it aside "
                              f"(it is left untouched) or pass --db ANOTHER_FILE")
        if "full" in text:
            return OutputError(f"training log {path}: the disk is full; free some space "
                               f"or pass --db FILE on another disk")
        if "unable to open" in text:
            return OutputError(f"cannot open training log {path}: check that it and its "
                               f"folder are readable and writable, or pass --db FILE")
        return OutputError(f"training log {path}: {error}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One committed write transaction, taken with the write lock up front."""
        if self.readonly:
            raise OutputError(f"training log {self.path} was opened read-only")
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self._explain(error) from None
            try:
                yield db
                db.execute("COMMIT")
            except BaseException as error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error):
                    raise self._explain(error) from None
                raise

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as error:
                raise self._explain(error) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> TrainingLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------

    def start_session(self, workout: str, workout_source: str, language: str,
                      plan_fingerprint: str, *, options: dict[str, Any] | None = None,
                      at: float | None = None) -> int:
        """Begin a session (logs ``started``); returns its id for :meth:`record`.

        ``workout_source`` must load the workout again (a built-in name or an absolute
        path); ``options`` are how it was compiled and voiced (e.g. ``phase_seconds``,
        ``voice``, ``rate``), kept as the ``started`` event's detail for resume/export.
        """
        at = time.time() if at is None else at
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO sessions (started_at, workout, workout_source, language, "
                "plan_fingerprint) VALUES (?, ?, ?, ?, ?)",
                (at, workout, workout_source, language, plan_fingerprint))
            session_id = int(cursor.lastrowid or 0)
            self._insert_event(db, session_id, EventKind.STARTED, None, options, at)
        return session_id

    def record(self, session_id: int, event: EventKind, position: Position | None = None,
               detail: dict[str, Any] | None = None, *, at: float | None = None) -> int:
        """Log one event, committed (and fsynced) before returning; returns its id.

        Blocks for an fsync: call it from the session loop, not an audio callback.
        """
        with self._write() as db:
            return self._insert_event(db, session_id, EventKind(event), position, detail,
                                      time.time() if at is None else at)

    @staticmethod
    def _insert_event(db: sqlite3.Connection, session_id: int, kind: EventKind,
                      position: Position | None, detail: dict[str, Any] | None,
                      at: float) -> int:
        if position is None:
            values: tuple[Any, ...] = (None,) * len(_POSITION_COLUMNS)
        else:
            p = position
            values = (p.exercise, p.exercise_name, p.round, p.set, p.side, p.rep, p.reps,
                      p.phase, p.phase_kind, p.step)
        columns = ("session_id", "at", "kind", *_POSITION_COLUMNS, "detail")
        cursor = db.execute(
            f"INSERT INTO events ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            (session_id, at, kind.value, *values, json.dumps(detail or {}, sort_keys=True)))
        return int(cursor.lastrowid or 0)

    # -- reading ---------------------------------------------------------------

    def session(self, session_id: int) -> SessionRecord:
        """The session's row; InputError naming the id if there is none."""
        rows = self._read(f"SELECT {', '.join(_SESSION_COLUMNS)} FROM sessions "
                          f"WHERE id = ?", (session_id,))
        if not rows:
            raise InputError(f"no session {session_id} in training log {self.path}; "
                             f"`voicecoach history` lists them")
        return SessionRecord(*rows[0])

    def events(self, session_id: int) -> list[Event]:
        """Every event of one session, in the order they were recorded."""
        rows = self._read(f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events "
                          f"WHERE session_id = ? ORDER BY id", (session_id,))
        return [_event(row) for row in rows]

    def sessions(self) -> list[SessionSummary]:
        """Every session, oldest first, summarised."""
        return self._summaries(None)

    def summary(self, session_id: int) -> SessionSummary:
        """One session, summarised; InputError naming the id if there is none."""
        self.session(session_id)
        return self._summaries(session_id)[0]

    def _summaries(self, session_id: int | None) -> list[SessionSummary]:
        """Summaries from aggregate queries (one session, or all of them)."""
        only, events_only, args = "", "", tuple[int, ...]()
        if session_id is not None:
            only, events_only, args = "WHERE id = ?", "AND session_id = ?", (session_id,)
        records = [SessionRecord(*row) for row in self._read(
            f"SELECT {', '.join(_SESSION_COLUMNS)} FROM sessions {only} ORDER BY id", args)]
        reps: dict[int, dict[str, dict[str, int]]] = {}
        for sid, name, side, count in self._read(
                "SELECT session_id, exercise_name, side, count(*) FROM (SELECT DISTINCT "
                "session_id, exercise, exercise_name, round, set_no, side, rep FROM events "
                f"WHERE kind = 'rep_completed' {events_only}) GROUP BY 1, 2, 3", args):
            reps.setdefault(sid, {}).setdefault(name or "", {})[side or ""] = count
        holds = dict(self._read(
            "SELECT session_id, count(*) FROM (SELECT DISTINCT session_id, exercise, "
            "round, set_no, side, rep FROM events WHERE kind = 'hold_completed' "
            f"{events_only}) GROUP BY 1", args))
        totals = {sid: (pauses, last_at) for sid, pauses, last_at in self._read(
            "SELECT session_id, sum(kind = 'paused'), max(at) FROM events "
            f"WHERE 1 {events_only} GROUP BY 1", args)}
        lifecycle = {sid: EventKind(kind) for sid, kind in self._read(
            "SELECT session_id, kind FROM events WHERE id IN (SELECT max(id) FROM events "
            f"WHERE kind IN ({_LIFECYCLE_SQL}) {events_only} GROUP BY session_id)", args)}
        resumes: dict[int, list[tuple[float, float | None]]] = {}
        for sid, at, before in self._read(
                "SELECT r.session_id, r.at, (SELECT max(e.at) FROM events e WHERE "
                "e.session_id = r.session_id AND e.id < r.id) FROM events r "
                f"WHERE r.kind = 'resumed_session' {events_only.replace('AND ', 'AND r.')} "
                "ORDER BY r.id", args):
            resumes.setdefault(sid, []).append((at, before))
        positions = {row[1]: _event(row).position for row in self._read(
            f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events WHERE id IN (SELECT max(id) "
            f"FROM events WHERE exercise IS NOT NULL {events_only} GROUP BY session_id)",
            args)}
        return [summarize(record, _facts(record, reps, holds, totals, lifecycle, resumes,
                                         positions)) for record in records]

    def unfinished_session(self, workout_source: str | None = None) -> SessionSummary | None:
        """The most recent session not finished (stopped, crashed or killed), if any.

        ``workout_source`` limits it to sessions of that workout.
        """
        args: tuple[Any, ...] = ()
        where = ""
        if workout_source is not None:
            where, args = "AND s.workout_source = ?", (workout_source,)
        rows = self._read(
            "SELECT s.id FROM sessions s WHERE coalesce((SELECT e.kind FROM events e "
            f"WHERE e.session_id = s.id AND e.kind IN ({_LIFECYCLE_SQL}) ORDER BY e.id "
            f"DESC LIMIT 1), '') != '{EventKind.FINISHED.value}' {where} "
            "ORDER BY s.id DESC LIMIT 1", args)
        return self.summary(rows[0][0]) if rows else None

    def resume_point(self, session_id: int, timeline: Timeline) -> ResumePoint:
        """Where to carry on session ``session_id`` in its (re)compiled ``timeline``.

        InputError if the workout's structure changed since the session was logged.
        """
        record = self.session(session_id)
        fingerprint = plan_fingerprint(timeline)
        if record.plan_fingerprint and record.plan_fingerprint != fingerprint:
            raise InputError(f"workout {record.workout_source} changed since session "
                             f"{session_id} was logged; run it again without --resume")
        return resume_point(session_id, self.events(session_id), timeline)


def _facts(record: SessionRecord, reps: dict[int, dict[str, dict[str, int]]],
           holds: dict[int, int], totals: dict[int, tuple[int, float]],
           lifecycle: dict[int, EventKind],
           resumes: dict[int, list[tuple[float, float | None]]],
           positions: dict[int, Position | None]) -> SessionFacts:
    """One session's facts out of the per-session query results."""
    pauses, last_at = totals.get(record.id, (0, record.started_at))
    resumed = resumes.get(record.id, [])
    starts = [record.started_at] + [at for at, _ in resumed]
    # A segment ends with the last event before the next resume.
    ends = [before if before is not None else start
            for (_, before), start in zip(resumed, starts)] + [last_at]
    return SessionFacts(reps=reps.get(record.id, {}), holds=holds.get(record.id, 0),
                        pauses=int(pauses or 0), last_lifecycle=lifecycle.get(record.id),
                        segments=tuple(zip(starts, ends)),
                        last_position=positions.get(record.id))


def _event(row: tuple[Any, ...]) -> Event:
    (event_id, session_id, at, kind, exercise, exercise_name, round_, set_no, side, rep,
     reps, phase, phase_kind, step, detail) = row
    position = None
    if exercise is not None:
        position = Position(exercise=exercise, exercise_name=exercise_name or "",
                            round=round_, set=set_no, side=side or "", rep=rep, reps=reps,
                            phase=phase or "", phase_kind=phase_kind or "", step=step)
    return Event(id=event_id, session_id=session_id, at=at, kind=EventKind(kind),
                 position=position, detail=json.loads(detail or "{}"))
