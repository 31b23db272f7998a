"""``voicecoach history``: table, JSON, CSV, events, plot, errors, and session export."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from audioprobe import probe
from timeline_samples import small

from voicecoach.cli import main
from voicecoach.planning.timeline import CueKind, MarkKind, Timeline
from voicecoach.records.history import trim_to_done
from voicecoach.records.training_log import (
    MIGRATIONS,
    SCHEMA_VERSION,
    EventKind,
    TrainingLog,
    plan_fingerprint,
)

DAY = 86400.0
MONDAY = 1_780_000_000.0  # 2026-05-28


def units(timeline: Timeline) -> list[tuple[EventKind, object]]:
    kinds = {MarkKind.STEP: EventKind.STEP_CONFIRMED, MarkKind.REP: EventKind.REP_COMPLETED,
             MarkKind.HOLD: EventKind.HOLD_COMPLETED}
    return [(kinds[c.mark], c.position) for c in timeline.cues
            if c.kind is CueKind.MARK and c.mark in kinds]


def fill_log(path: Path) -> None:
    """Three sessions on two days: finished, stopped with a pause, and one cut short."""
    timeline = small()
    with TrainingLog(path) as log:
        for day, (count, end) in enumerate(((len(units(timeline)), EventKind.FINISHED),
                                            (10, EventKind.STOPPED), (4, None))):
            at = MONDAY + DAY * (day // 2) + 3600 * day
            session = log.start_session(timeline.title, "sample.toml", "en",
                                        plan_fingerprint(timeline), at=at)
            for n, (kind, position) in enumerate(units(timeline)[:count]):
                log.record(session, kind, position, at=at + 10 * (n + 1))
                if n == 5:
                    log.record(session, EventKind.PAUSED, at=at + 10 * (n + 1) + 1)
                    log.record(session, EventKind.RESUMED, at=at + 10 * (n + 1) + 5)
            if end is not None:
                log.record(session, end, at=at + 10 * (count + 1))


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "log.sqlite3"
    fill_log(path)
    return path


def test_table_lists_every_session(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "Sample workout" in line]
    assert len(lines) == 3
    assert "6 + L 3 / R 3, 2 holds" in lines[0] and "yes" in lines[0]
    assert "3:00" in lines[0]  # 17 units 10 s apart, finished 10 s later
    assert "6 + L 1" in lines[1] and "stopped" in lines[1] and " 1 " in lines[1]
    assert "interrupted" in lines[2]


def test_table_fits_80_columns_without_cutting_text(db: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """At 80 columns the status column was cut ("(interrupt…"); now text wraps, whole."""
    long_name = "Eccentric single-leg hip thrust"
    with TrainingLog(db) as log:
        log.start_session(long_name, "hip-thrust.toml", "en", "", at=MONDAY + 3 * DAY)
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["history", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines), out
    assert "…" not in out, out
    words = out.split()
    for word in ["yes", "stopped", "interrupted", *long_name.split()]:
        assert word in words, (word, out)
    assert "voicecoach run WORKOUT --resume" in out


def test_json_and_csv_for_other_tools(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--db", str(db), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["status"] for s in data] == ["finished", "stopped", "unfinished"]
    assert data[0]["reps"] == {"Bench press": {"": 6},
                               "Single-arm row": {"left": 3, "right": 3}}
    assert data[1]["pauses"] == 1 and data[2]["total_reps"] == 2

    assert main(["history", "--db", str(db), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["reps_no_side"], r["reps_left"], r["reps_right"]) for r in rows] == [
        ("6", "3", "3"), ("6", "1", "0"), ("2", "0", "0")]
    assert [r["id"] for r in rows] == ["1", "2", "3"]


def test_environment_names_the_default_log(db: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICECOACH_DB", str(db))
    assert main(["history", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    monkeypatch.setenv("VOICECOACH_DB", str(db.parent / "none.sqlite3"))
    assert main(["history"]) == 0
    assert "No sessions logged yet" in capsys.readouterr().out
    assert main(["history", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not (db.parent / "none.sqlite3").exists()


def test_one_sessions_events(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--db", str(db), "--session", "2"]) == 0
    out = capsys.readouterr().out
    assert "Session 2" in out and "paused" in out and "stopped" in out
    assert "Single-arm row, set 1, left, rep 1/3" in out
    assert main(["history", "--db", str(db), "--session", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["session"]["id"] == 2
    assert [e["kind"] for e in data["events"]][:2] == ["started", "step_confirmed"]
    assert data["events"][-1]["kind"] == "stopped"
    assert main(["history", "--db", str(db), "--session", "2", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(data["events"]) and rows[1]["step"] == "1"


def test_plot_writes_a_png(db: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "volume.png"
    assert main(["history", "--db", str(db), "--plot", str(target), "--json"]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(json.loads(capsys.readouterr().out)) == 3  # stdout stays clean JSON


@pytest.mark.parametrize("args, words", [
    (["--session", "99"], "no session 99"),
    (["--export", "x.mp3"], "--export needs --session"),
    (["--plot", "volume.txt"], "volume.txt"),
])
def test_mistakes_are_one_line_errors(db: Path, capsys: pytest.CaptureFixture[str],
                                      args: list[str], words: str) -> None:
    assert main(["history", "--db", str(db), *args]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_corrupt_log_is_reported_and_left_alone(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log.sqlite3"
    path.write_bytes(b"\x00garbage" * 500)
    assert main(["history", "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and err.count("\n") == 1
    assert path.read_bytes() == b"\x00garbage" * 500


TINY_WORKOUT = """
name = "Tiny press"
description = "Two reps a side, for tests."

[[exercise]]
name = "Tiny press"
setup = ["Hold the band."]
sides = ["left", "right"]
reps = 2
sets = 1
rest_between_sides = 0

[[exercise.phase]]
name = "press"
kind = "concentric"
seconds = 1
say = "Press"

[[exercise.phase]]
name = "lower"
kind = "eccentric"
seconds = 2
say = "Lower"
count = "up"
count_every = 1.0
"""


def test_export_renders_what_the_session_did(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from voicecoach.planning.phrases import PromptMode
    from voicecoach.planning.plan import PlanRequest, load_plan_workout
    from voicecoach.planning.timeline import compile_timeline
    from voicecoach.playback.speech import SpeechRenderer, default_voice

    monkeypatch.setenv("VOICECOACH_CACHE", str(tmp_path / "cache"))
    source = tmp_path / "tiny.toml"
    source.write_text(TINY_WORKOUT)
    workout, phrases = load_plan_workout(PlanRequest(str(source), mode=PromptMode.EXPORT))
    speech = SpeechRenderer(default_voice("en"), cache_dir=tmp_path / "cache")
    timeline = compile_timeline(workout, phrases, speech.duration)
    db = tmp_path / "log.sqlite3"
    with TrainingLog(db) as log:
        session = log.start_session(workout.name, str(source), "en",
                                    plan_fingerprint(timeline))
        done = units(timeline)[:4]  # the step, both left reps, one right rep
        for kind, position in done:
            log.record(session, kind, position)
        log.record(session, EventKind.STOPPED)
        events = log.events(session)
    target = tmp_path / "done.mp3"
    assert main(["history", "--db", str(db), "--session", str(session),
                 "--export", str(target), "--gap", "1"]) == 0
    assert f"wrote {target}" in capsys.readouterr().out
    expected = trim_to_done(timeline, events).total_seconds(1.0)
    length = probe(target).duration
    assert abs(length - expected) < 0.3, (length, expected)
    assert length < timeline.total_seconds(1.0) - 2.0  # the last right rep is not in it


def test_a_log_from_an_older_version_is_upgraded_and_listed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO sessions (started_at, workout, workout_source, plan_fingerprint) "
               "VALUES (1780000000, 'Old squats', 'squat.toml', '')")
    db.execute("INSERT INTO events (session_id, at, kind) VALUES (1, 1780000000, 'started')")
    db.execute("INSERT INTO events (session_id, at, kind) VALUES (1, 1780000060, 'finished')")
    db.close()
    assert main(["history", "--db", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(s["workout"], s["status"], s["duration_seconds"]) for s in data] == [
        ("Old squats", "finished", 60.0)]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
