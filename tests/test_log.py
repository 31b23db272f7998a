"""The SQLite training log: durability, migrations, hostile files, concurrency, resume."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from timeline_samples import small

from voicecoach.errors import InputError, OutputError, VoicecoachError
from voicecoach.planning.timeline import CueKind, MarkKind, Position, Timeline
from voicecoach.records.history import done_work, trim_to_done
from voicecoach.records.training_log import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    EventKind,
    SessionStatus,
    TrainingLog,
    default_db_path,
    plan_fingerprint,
)


def unit_positions(timeline: Timeline, mark: MarkKind) -> list[Position]:
    return [c.position for c in timeline.cues if c.kind is CueKind.MARK and c.mark is mark]


def start(log: TrainingLog, timeline: Timeline, at: float | None = None) -> int:
    return log.start_session(timeline.title, "sample.toml", "en", plan_fingerprint(timeline),
                             at=at)


def one_line_error(error: pytest.ExceptionInfo[VoicecoachError], path: Path) -> str:
    message = str(error.value)
    assert "\n" not in message
    assert str(path) in message
    return message


# -- basics ---------------------------------------------------------------------


def test_events_round_trip_with_positions_and_details(tmp_path: Path) -> None:
    timeline = small()
    reps = unit_positions(timeline, MarkKind.REP)
    with TrainingLog(tmp_path / "sub" / "log.sqlite3") as log:
        session = start(log, timeline)
        log.record(session, EventKind.REP_COMPLETED, reps[0])
        log.record(session, EventKind.COMMAND_HEARD, reps[1],
                   {"command": "pause", "text": "wait", "confidence": 0.8})
        log.record(session, EventKind.PAUSED)
        events = log.events(session)
    assert [e.kind for e in events] == [EventKind.STARTED, EventKind.REP_COMPLETED,
                                        EventKind.COMMAND_HEARD, EventKind.PAUSED]
    assert events[1].position == reps[0]
    assert events[2].detail == {"command": "pause", "text": "wait", "confidence": 0.8}
    assert events[3].position is None
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_file_is_wal_full_sync_and_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with TrainingLog(path) as log:
        assert log._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    db.close()


def test_default_path_honours_environment(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICECOACH_DB", raising=False)
    assert default_db_path().name == "log.sqlite3"
    monkeypatch.setenv("VOICECOACH_DB", str(tmp_path / "mine.db"))
    assert default_db_path() == tmp_path / "mine.db"
    with TrainingLog() as log:
        start(log, small())
    assert (tmp_path / "mine.db").stat().st_size > 0


def test_records_from_another_thread(tmp_path: Path) -> None:
    with TrainingLog(tmp_path / "log.sqlite3") as log:
        session = start(log, small())
        worker = threading.Thread(target=log.record, args=(session, EventKind.PAUSED))
        worker.start()
        worker.join()
        assert log.events(session)[-1].kind is EventKind.PAUSED


# -- migrations -----------------------------------------------------------------


def make_old_log(path: Path, version: int) -> None:
    """A log as version ``version`` of the code left it, with a session and events."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    for target in range(version):
        for statement in MIGRATIONS[target]:
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")
    for session in (1, 2):
        db.execute("INSERT INTO sessions (started_at, workout, workout_source, "
                   "plan_fingerprint) VALUES (?, ?, ?, ?)",
                   (1_700_000_000.0 + session * 86400, f"Old {session}", "old.toml", "fp"))
        db.execute("INSERT INTO events (session_id, at, kind) VALUES (?, ?, 'started')",
                   (session, 1_700_000_000.0 + session * 86400))
        for rep in (1, 2, 3):
            db.execute(
                "INSERT INTO events (session_id, at, kind, exercise, exercise_name, round, "
                "set_no, side, rep, reps, phase, step, detail) VALUES "
                "(?, ?, 'rep_completed', 0, 'Squat', 1, 1, 'left', ?, 3, 'lower', 0, ?)",
                (session, 1_700_000_000.0 + session * 86400 + rep * 5, rep,
                 '{"note": "old"}'))
    db.execute("INSERT INTO events (session_id, at, kind) VALUES (1, ?, 'finished')",
               (1_700_000_000.0 + 86400 + 30,))
    db.close()


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_migrates_every_earlier_version_keeping_data(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.sqlite3"
    make_old_log(path, version)
    with TrainingLog(path) as log:
        sessions = log.sessions()
        assert [s.workout for s in sessions] == ["Old 1", "Old 2"]
        assert [s.status for s in sessions] == [SessionStatus.FINISHED,
                                                SessionStatus.UNFINISHED]
        assert all(s.reps == {"Squat": {"left": 3}} for s in sessions)
        assert all(s.language == "" for s in sessions)
        events = log.events(1)
        assert events[1].detail == {"note": "old"}
        assert events[1].position is not None and events[1].position.phase_kind == ""
        # New columns are usable right away.
        new = start(log, small())
        log.record(new, EventKind.REP_COMPLETED,
                   Position(0, "Squat", 1, 1, "left", 1, 3, "lower", "eccentric"))
        assert log.events(new)[-1].position.phase_kind == "eccentric"
        assert log.session(new).language == "en"
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 9 + 2  # old rows + the new session's two
    db.close()


def test_empty_file_becomes_a_log(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    with TrainingLog(path) as log:
        assert log.sessions() == []


# -- hostile files: one-line errors, file bytes untouched -----------------------


def assert_refused(path: Path, expected: type[VoicecoachError], words: str,
                   **kwargs: object) -> None:
    before = path.read_bytes()
    with pytest.raises(expected) as error:
        TrainingLog(path, **kwargs)
    assert words in one_line_error(error, path)
    assert path.read_bytes() == before


def test_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    path.write_text("these are my notes, not a database\n" * 50)
    assert_refused(path, InputError, "not an SQLite database")
    assert_refused(path, InputError, "not an SQLite database", readonly=True)


def test_refuses_a_corrupt_database(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with TrainingLog(path) as log:
        start(log, small())
    data = bytearray(path.read_bytes())
    data[100:len(data)] = os.urandom(len(data) - 100)  # header kept, pages garbage
    path.write_bytes(bytes(data))
    assert_refused(path, InputError, "corrupt")


def test_refuses_another_programs_database(tmp_path: Path) -> None:
    path = tmp_path / "places.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE bookmarks (url TEXT)")
    db.commit()
    db.close()
    assert_refused(path, InputError, "not a voicecoach training log")


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    TrainingLog(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    assert_refused(path, InputError, "newer voicecoach")


def test_locked_database_times_out_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    log = TrainingLog(path, busy_timeout=0.2)
    session = start(log, small())
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holding the lock
    try:
        with pytest.raises(OutputError) as error:
            log.record(session, EventKind.PAUSED)
        assert "locked" in one_line_error(error, path)
        assert_refused(path, OutputError, "locked", busy_timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    log.record(session, EventKind.PAUSED)  # usable again once the lock is gone
    assert log.events(session)[-1].kind is EventKind.PAUSED
    log.close()


def run_as_unprivileged(code: str) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` without root's power to ignore file permissions."""
    drop = (["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"]
            if os.geteuid() == 0 else [])
    return subprocess.run([*drop, sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=60)


READONLY_PROBE = """
import sys
from voicecoach.errors import VoicecoachError
from voicecoach.records.training_log import TrainingLog
try:
    TrainingLog(sys.argv[1] if len(sys.argv) > 1 else {path!r}).close()
except VoicecoachError as error:
    print(type(error).__name__, error)
else:
    print("opened")
"""


def test_read_only_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with TrainingLog(path) as log:
        start(log, small())
    os.chmod(path, 0o444)
    before = path.read_bytes()
    result = run_as_unprivileged(READONLY_PROBE.format(path=str(path)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OutputError"), result.stdout
    assert "read-only" in result.stdout or "readable and writable" in result.stdout
    assert str(path) in result.stdout and result.stdout.count("\n") == 1
    assert path.read_bytes() == before


def test_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    os.chmod(folder, 0o555)
    result = run_as_unprivileged(READONLY_PROBE.format(path=str(folder / "log.sqlite3")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OutputError"), result.stdout
    assert str(folder / "log.sqlite3") in result.stdout
    assert list(folder.iterdir()) == []


def test_readonly_mode_reads_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with TrainingLog(path) as log:
        session = start(log, small())
        log.record(session, EventKind.FINISHED)
    before = path.read_bytes()
    with TrainingLog(path, readonly=True) as log:
        assert log.sessions()[0].finished
        with pytest.raises(OutputError):
            log.record(session, EventKind.PAUSED)
    assert path.read_bytes() == before
    with pytest.raises(InputError) as error:
        TrainingLog(tmp_path / "missing.sqlite3", readonly=True)
    one_line_error(error, tmp_path / "missing.sqlite3")
    assert not (tmp_path / "missing.sqlite3").exists()


# -- concurrency and crash safety -----------------------------------------------

WRITER = """
import sys
from voicecoach.records.training_log import TrainingLog, EventKind
from voicecoach.planning.timeline import Position
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = TrainingLog(path)
session = log.start_session(name, name + ".toml", "en", "fp")
print(session, flush=True)
sys.stdin.readline()  # start together
for rep in range(1, count + 1):
    log.record(session, EventKind.REP_COMPLETED,
               Position(0, name, 1, 1, "", rep, count, "lower", "eccentric"))
log.record(session, EventKind.FINISHED)
"""


def test_two_processes_log_every_event(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    count = 150
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(count)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for name in ("alpha", "beta")]
    sessions = [int(w.stdout.readline()) for w in writers]
    for w in writers:
        w.stdin.write("go\n")
        w.stdin.flush()
    for w in writers:
        assert w.wait(timeout=120) == 0
    with TrainingLog(path, readonly=True) as log:
        for session, name in zip(sessions, ("alpha", "beta")):
            summary = log.summary(session)
            assert summary.reps == {name: {"": count}}
            assert summary.finished
            assert len(log.events(session)) == count + 2
        ids = [e.id for s in sessions for e in log.events(s)]
        assert len(set(ids)) == len(ids)


CRASHER = """
import os, signal, sys
from voicecoach.records.training_log import TrainingLog, EventKind
from voicecoach.planning.timeline import Position
log = TrainingLog(sys.argv[1])
session = log.start_session("Crash", "crash.toml", "en", "fp")
stop_after = int(sys.argv[2])
rep = 0
while True:
    rep += 1
    event = log.record(session, EventKind.REP_COMPLETED,
                       Position(0, "Crash", 1, 1, "left", rep, 1000, "lower", "eccentric"))
    print(event, flush=True)
    if rep == stop_after:
        os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("stop_after", [25, 0], ids=["kills-itself", "killed-mid-stream"])
def test_every_committed_event_survives_sigkill(tmp_path: Path, stop_after: int) -> None:
    path = tmp_path / "log.sqlite3"
    child = subprocess.Popen([sys.executable, "-c", CRASHER, str(path), str(stop_after)],
                             stdout=subprocess.PIPE, text=True)
    committed: list[int] = []
    if stop_after:
        committed = [int(line) for line in child.stdout]
    else:  # kill it from outside while it is writing
        while len(committed) < 40:
            committed.append(int(child.stdout.readline()))
        child.send_signal(signal.SIGKILL)
        committed += [int(line) for line in child.stdout]
    assert child.wait(timeout=60) == -signal.SIGKILL
    with TrainingLog(path) as log:
        session = log.unfinished_session()
        assert session is not None and session.status is SessionStatus.UNFINISHED
        logged = {e.id for e in log.events(session.id)}
    assert set(committed) <= logged
    assert len(logged) - 1 - len(committed) <= 1  # at most the event in flight besides
    if stop_after:
        assert len(committed) == stop_after


# -- sessions, status, resume ---------------------------------------------------


def test_summaries_status_and_unfinished_session(tmp_path: Path) -> None:
    timeline = small()
    reps = unit_positions(timeline, MarkKind.REP)
    day = 1_780_000_000.0
    with TrainingLog(tmp_path / "log.sqlite3") as log:
        done = start(log, timeline, at=day)
        for i, position in enumerate(reps):
            log.record(done, EventKind.REP_COMPLETED, position, at=day + 10 * (i + 1))
        log.record(done, EventKind.PAUSED, at=day + 300)
        log.record(done, EventKind.RESUMED, at=day + 320)
        log.record(done, EventKind.FINISHED, at=day + 400)
        stopped = start(log, timeline, at=day + 1000)
        log.record(stopped, EventKind.REP_COMPLETED, reps[0], at=day + 1010)
        log.record(stopped, EventKind.STOPPED, at=day + 1020)
        assert log.unfinished_session().id == stopped
        crashed = log.start_session("Other", "other.toml", "ko", "fp2", at=day + 2000)
        log.record(crashed, EventKind.REP_COMPLETED, reps[0], at=day + 2005)
        assert log.unfinished_session().id == crashed
        assert log.unfinished_session(workout_source="sample.toml").id == stopped
        # Resuming the stopped one later: the gap does not count as training time.
        log.record(stopped, EventKind.RESUMED_SESSION, at=day + 5000)
        log.record(stopped, EventKind.REP_COMPLETED, reps[1], at=day + 5030)
        log.record(stopped, EventKind.FINISHED, at=day + 5040)
        summaries = {s.id: s for s in log.sessions()}
    first = summaries[done]
    assert first.status is SessionStatus.FINISHED and first.duration == 400
    assert first.pauses == 1
    assert first.reps == {"Bench press": {"": 6}, "Single-arm row": {"left": 3, "right": 3}}
    assert first.reps_per_side == {"": 6, "left": 3, "right": 3}
    assert summaries[stopped].finished and summaries[stopped].resumes == 1
    assert summaries[stopped].duration == 20 + 40
    assert summaries[crashed].status is SessionStatus.UNFINISHED
    assert summaries[crashed].language == "ko"


def resumed_units(timeline: Timeline, index: int) -> list[tuple[MarkKind, Position]]:
    return [(c.mark, c.position) for c in timeline.resumed_at(index).cues
            if c.kind is CueKind.MARK and c.mark in (MarkKind.STEP, MarkKind.REP,
                                                      MarkKind.HOLD, MarkKind.REST)]


def test_resume_point_mid_side_after_side_and_after_done(tmp_path: Path) -> None:
    timeline = small()
    steps = unit_positions(timeline, MarkKind.STEP)
    reps = unit_positions(timeline, MarkKind.REP)
    with TrainingLog(tmp_path / "log.sqlite3") as log:
        session = start(log, timeline)
        point = log.resume_point(session, timeline)
        assert point.cue_index == 0 and point.position == steps[0] and point.units_done == 0

        for step in steps[:2]:
            log.record(session, EventKind.STEP_CONFIRMED, step)
        log.record(session, EventKind.REP_COMPLETED, reps[0])
        point = log.resume_point(session, timeline)
        assert point.position == reps[1]
        assert resumed_units(timeline, point.cue_index)[0] == (MarkKind.REP, reps[1])

        # Last rep of set 1 done: resume announces set 2 but skips the rest.
        for rep in reps[1:3]:
            log.record(session, EventKind.REP_COMPLETED, rep)
        point = log.resume_point(session, timeline)
        assert point.position == reps[3]
        resumed = timeline.resumed_at(point.cue_index)
        assert resumed_units(timeline, point.cue_index)[0] == (MarkKind.REP, reps[3])
        assert resumed.cues[0].time == 0
        assert any(c.kind is CueKind.MARK and c.mark is MarkKind.SIDE
                   for c in resumed.cues[:3])

        # "done" after one rep of set 2: the set counts as finished.
        log.record(session, EventKind.REP_COMPLETED, reps[3])
        log.record(session, EventKind.SIDE_FINISHED, reps[3])
        point = log.resume_point(session, timeline)
        row_step = steps[2]
        assert point.position == row_step and row_step.exercise_name == "Single-arm row"
        assert point.units_done == 2 + 6

        for position in steps[2:] + reps[6:] + unit_positions(timeline, MarkKind.HOLD):
            kind = (EventKind.HOLD_COMPLETED if position.phase == "hold" else
                    EventKind.STEP_CONFIRMED if position.step else EventKind.REP_COMPLETED)
            log.record(session, kind, position)
        point = log.resume_point(session, timeline)
        assert point.complete and point.cue_index == len(timeline.cues)
        assert point.units_done == point.units_total


def test_resume_refuses_a_changed_workout(tmp_path: Path) -> None:
    from timeline_samples import SMALL, Plan, build
    with TrainingLog(tmp_path / "log.sqlite3") as log:
        session = start(log, small())
        changed = build(SMALL + (Plan("Curl"),))
        with pytest.raises(InputError) as error:
            log.resume_point(session, changed)
        assert "changed" in str(error.value) and "sample.toml" in str(error.value)
    assert plan_fingerprint(small()) == plan_fingerprint(small())


def test_done_work_and_trimmed_timeline(tmp_path: Path) -> None:
    timeline = small()
    reps = unit_positions(timeline, MarkKind.REP)
    with TrainingLog(tmp_path / "log.sqlite3") as log:
        session = start(log, timeline)
        for position in reps[:3] + reps[6:8]:  # set 1 of bench, 2 reps of the row's left
            log.record(session, EventKind.REP_COMPLETED, position)
        log.record(session, EventKind.SIDE_FINISHED, reps[7])  # "done": rep 3 not done
        events = log.events(session)
        assert log.resume_point(session, timeline).position == reps[9]  # the right side
    work = done_work(events)
    assert [(s.exercise_name, s.set, s.side, s.reps_done, s.reps_planned)
            for s in work.sides] == [("Bench press", 1, "", 3, 3),
                                     ("Single-arm row", 1, "left", 2, 3)]
    trimmed = trim_to_done(timeline, events)
    kept_reps = [c.position for c in trimmed.cues
                 if c.kind is CueKind.MARK and c.mark is MarkKind.REP]
    assert kept_reps == reps[:3] + reps[6:8]
    assert not any(c.kind is CueKind.MARK and c.mark is MarkKind.HOLD for c in trimmed.cues)
    times = [c.time for c in trimmed.cues]
    assert times == sorted(times) and times[0] == 0
    assert trimmed.duration < timeline.duration
    # Nothing overlaps: each kept rep still lasts as long as before.
    rep_marks = [c for c in trimmed.cues if c.kind is CueKind.MARK and c.mark is MarkKind.REP]
    for before, after in zip(rep_marks, rep_marks[1:]):
        assert after.time >= before.time + before.duration - 1e-9


def test_resume_in_a_compiled_workout_skips_the_rest_but_announces_the_side(
        tmp_path: Path) -> None:
    from voicecoach.planning.plan import PlanRequest, load_plan_workout
    from voicecoach.planning.timeline import compile_timeline
    workout, phrases = load_plan_workout(PlanRequest("hip-thrust"))
    timeline = compile_timeline(workout, phrases, lambda text: 0.2 + 0.065 * len(text))
    steps = unit_positions(timeline, MarkKind.STEP)
    reps = unit_positions(timeline, MarkKind.REP)
    left = [p for p in reps if p.side == "left"]
    with TrainingLog(tmp_path / "log.sqlite3") as log:
        session = start(log, timeline)
        for position in steps:
            log.record(session, EventKind.STEP_CONFIRMED, position)
        for position in left:
            log.record(session, EventKind.REP_COMPLETED, position)
        point = log.resume_point(session, timeline)
    assert point.position.side == "right" and point.position.rep == 1
    resumed = timeline.resumed_at(point.cue_index).cues
    first_mark = next(c for c in resumed if c.kind is CueKind.MARK)
    assert first_mark.mark is MarkKind.SIDE and first_mark.position.side == "right"
    assert not any(c.kind is CueKind.MARK and c.mark is MarkKind.REST for c in resumed)
    assert resumed[0].time == 0


def test_a_rep_logged_twice_counts_once_and_one_summary_matches_the_list(
        tmp_path: Path) -> None:
    timeline = small()
    reps = unit_positions(timeline, MarkKind.REP)
    holds = unit_positions(timeline, MarkKind.HOLD)
    with TrainingLog(tmp_path / "log.sqlite3") as log:
        session = start(log, timeline)
        for position in (reps[0], reps[1], reps[1], reps[6], holds[0], holds[0]):
            kind = EventKind.HOLD_COMPLETED if position in holds else EventKind.REP_COMPLETED
            log.record(session, kind, position)
        other = start(log, timeline)
        summary = log.summary(session)
        assert summary == log.sessions()[0]
        assert summary.reps == {"Bench press": {"": 2}, "Single-arm row": {"left": 1}}
        assert summary.holds == 1 and summary.last_position == holds[0]
        assert log.summary(other).total_reps == 0 and log.summary(other).last_position is None
