"""Pictures: the workout timeline and training volume, written atomically."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import datetime
from pathlib import Path

import pytest
from timeline_samples import small

from voicecoach.errors import InputError, OutputError
from voicecoach.planning.timeline import CueKind, Timeline
from voicecoach.records.history import SessionStatus, SessionSummary
from voicecoach.records.plots import (
    plot_history,
    plot_timeline,
    reps_per_day,
    timeline_rows,
    volume_figure,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


def compiled(name: str) -> Timeline:
    """A built-in workout through the real compiler (speech length from text length)."""
    from voicecoach.planning.plan import PlanRequest, load_plan_workout
    from voicecoach.planning.timeline import compile_timeline
    workout, phrases = load_plan_workout(PlanRequest(name))
    return compile_timeline(workout, phrases, lambda text: 0.2 + 0.065 * len(text))


def svg_texts(path: Path) -> list[str]:
    root = ElementTree.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_rows_one_per_setup_and_side_and_every_cue_placed() -> None:
    timeline = small()
    rows = timeline_rows(timeline)
    assert [r.label for r in rows] == [
        "start", "Bench press: setup", "Bench press · set 1", "Bench press · set 2",
        "Single-arm row: setup", "Single-arm row · set 1 · left",
        "Single-arm row · set 1 · right", "Side plank · set 1 · left",
        "Side plank · set 1 · right", "end"]
    assert sum(len(r.cues) for r in rows) == len(timeline.cues)
    assert all(r.end >= r.start for r in rows)
    counted = [c for c in timeline.cues if c.kind is CueKind.SPEECH and c.counted]
    assert counted and all(any(c in r.cues for r in rows) for c in counted)


def test_timeline_png_and_svg(tmp_path: Path) -> None:
    png = plot_timeline(small(), tmp_path / "plan.png")
    assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 20_000
    svg = plot_timeline(small(), tmp_path / "plan.svg")
    texts = svg_texts(svg)
    for label in ("Bench press · set 2  (", "rest 20 s", "lowering (eccentric)",
                  "drive up (concentric)", "pause / hold (isometric)", "timed hold",
                  "spoken count (beat)", "one", "setup step"):
        assert any(label in t for t in texts), label
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.png", "plan.svg"]


@pytest.mark.parametrize("name", ["lower-body-circuit", "glute-bridge-hold"])
def test_compiled_workouts_draw(tmp_path: Path, name: str) -> None:
    timeline = compiled(name)
    rows = timeline_rows(timeline)
    assert sum(len(r.cues) for r in rows) == len(timeline.cues)
    target = tmp_path / f"{name}.png"
    target.write_bytes(b"old picture")  # replaced whole, not appended to
    plot_timeline(timeline, target)
    assert target.read_bytes()[:8] == PNG_MAGIC


def test_bad_extension_and_unwritable_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        plot_timeline(small(), tmp_path / "plan.jpeg")
    assert "plan.jpeg" in str(error.value)
    with pytest.raises(OutputError) as error:
        plot_timeline(small(), tmp_path / "missing" / "plan.png")
    assert "missing" in str(error.value) and "\n" not in str(error.value)
    assert list(tmp_path.iterdir()) == []


def summary(day: str, reps: dict[str, dict[str, int]], ident: int = 1) -> SessionSummary:
    return SessionSummary(id=ident, started_at=datetime.fromisoformat(day).astimezone(),
                          workout="W", workout_source="w.toml", language="en",
                          plan_fingerprint="", status=SessionStatus.FINISHED,
                          duration=60.0, reps=reps, holds=0, pauses=0, resumes=0,
                          last_position=None)


def test_history_volume_per_day_and_picture(tmp_path: Path) -> None:
    sessions = [summary("2026-03-01T08:00", {"Squat": {"": 10}}),
                summary("2026-03-01T18:00", {"Squat": {"": 5}, "Row": {"left": 4, "right": 4}}),
                summary("2026-03-04T08:00", {"Row": {"left": 6, "right": 6}})]
    days = reps_per_day(sessions)
    assert {d.isoformat(): v for d, v in days.items()} == {
        "2026-03-01": {"Squat": 15, "Row": 8}, "2026-03-04": {"Row": 12}}
    svg = plot_history(sessions, tmp_path / "volume.svg")
    texts = svg_texts(svg)
    for label in ("Squat", "Row", "reps per day", "date (2026)", "Mar 01", "23", "12"):
        assert label in texts, label
    png = plot_history(sessions, tmp_path / "volume.png")
    assert png.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(InputError):
        plot_history([summary("2026-03-01T08:00", {})], tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()


@pytest.mark.parametrize("days", [[1], [1, 2], [1, 4], list(range(1, 29)), list(range(1, 200, 5)),
                                  list(range(1, 1200, 40))])
def test_volume_plot_labels_days_readably(days: list[int]) -> None:
    """One day of data drew hour ticks (06:00, 12:00...) that crowded the dates; every
    span gets day labels only, none overlapping another."""
    from datetime import timedelta

    import matplotlib.pyplot as plt

    first = datetime.fromisoformat("2026-03-01T08:00")
    sessions = [summary((first + timedelta(days=d - 1)).isoformat(), {"Squat": {"": 5}}, d)
                for d in days]
    figure = volume_figure(sessions)
    try:
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        labels = [t for t in figure.axes[0].get_xticklabels() if t.get_text()]
        texts = [t.get_text() for t in labels]
        assert texts and all(":" not in t for t in texts), texts
        boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)
        for left, right in zip(boxes, boxes[1:]):
            assert left.x1 < right.x0, texts
        if len(days) == 1:
            assert texts == ["Mar 01"]
        offset = figure.axes[0].xaxis.get_offset_text().get_text()
        assert offset == "", offset  # no stray date beside the axis
    finally:
        plt.close(figure)
