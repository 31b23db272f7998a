"""The compiled timeline: tempo, gates, positions and chapters come from the plan."""

from __future__ import annotations

import pytest

from voicecoach.planning.phrases import load_phrases
from voicecoach.planning.timeline import CueKind, MarkKind, Timeline, compile_timeline
from voicecoach.planning.workout import PhaseKind, load_workout, with_phase_seconds


def words_per_second(text: str) -> float:
    """A stand-in speech length for structure tests (real speech is tested elsewhere)."""
    return 0.35 * len(text.split())


def compiled(name: str, language: str = "en", **phases: float) -> Timeline:
    workout = load_workout(name, language)
    if phases:
        workout = with_phase_seconds(workout, phases)
    return compile_timeline(workout, load_phrases(language), words_per_second)


def lowering_counts(timeline: Timeline) -> list[list[float]]:
    """Times of the counted speech cues, grouped per rep."""
    reps: dict[tuple[str, int], list[float]] = {}
    for cue in timeline.cues:
        if cue.kind is CueKind.SPEECH and cue.counted and cue.position.rep:
            reps.setdefault((cue.position.side, cue.position.rep), []).append(cue.time)
    return list(reps.values())


@pytest.mark.parametrize("language", ["en", "ko"])
def test_hip_thrust_counts_every_second_on_both_sides(language: str) -> None:
    timeline = compiled("hip-thrust", language)
    counts = lowering_counts(timeline)
    assert len(counts) == 12
    for times in counts:
        assert len(times) == 3
        assert [b - a for a, b in zip(times, times[1:])] == pytest.approx([1.0, 1.0])
    sides = [c.position.side for c in timeline.cues if c.mark is MarkKind.REP]
    assert sides == ["left"] * 6 + ["right"] * 6


def test_lowering_override_changes_the_count() -> None:
    counts = lowering_counts(compiled("hip-thrust", lower=2))
    assert {len(times) for times in counts} == {2}


@pytest.mark.parametrize("language,words", [("en", ["Lower slowly", "foot still up", "three"]),
                                            ("ko", ["느리게 내려", "발은 위로", "셋"])])
def test_counts_are_the_phase_cue_then_numbers(language: str, words: list[str]) -> None:
    """The lowering cue says it is slow and that the foot stays up; too long for one
    beat, it is split over the first two, and the count goes on on the third."""
    timeline = compiled("hip-thrust", language)
    first_rep = [c.text for c in timeline.cues if c.counted and c.position.rep == 1
                 and c.position.side == "left"]
    assert first_rep == words


def test_a_cue_split_over_beats_replaces_their_counts() -> None:
    from dataclasses import replace

    from voicecoach.planning.workout import CountStyle

    workout = load_workout("hip-thrust")
    exercise = workout.exercises[0]
    phases = tuple(replace(p, seconds=4, max_seconds=4, count=CountStyle.DOWN, say="a",
                           say_next=("b", "c")) if p.name == "lower" else p
                   for p in exercise.phases)
    workout = replace(workout, exercises=(replace(exercise, phases=phases),))
    timeline = compile_timeline(workout, load_phrases("en"), words_per_second)
    first_rep = [c for c in timeline.cues if c.counted and c.position.rep == 1
                 and c.position.side == "left"]
    assert [c.text for c in first_rep] == ["a", "b", "c", "one"]
    assert [b.time - a.time for a, b in zip(first_rep, first_rep[1:])] == pytest.approx([1, 1, 1])


def test_cues_are_in_time_order_and_phases_tile_each_rep() -> None:
    timeline = compiled("hip-thrust")
    times = [c.time for c in timeline.cues]
    assert times == sorted(times)
    reps = [c for c in timeline.cues if c.mark is MarkKind.REP]
    phases = [c for c in timeline.cues if c.mark is MarkKind.PHASE]
    assert len(phases) == 4 * len(reps)
    for rep in reps:
        inside = [p for p in phases if rep.time - 1e-9 <= p.time < rep.time + rep.duration - 1e-9]
        assert sum(p.duration for p in inside) == pytest.approx(rep.duration)
        assert [p.position.phase_kind for p in inside] == [k.value for k in (
            PhaseKind.CONCENTRIC, PhaseKind.ISOMETRIC, PhaseKind.ECCENTRIC, PhaseKind.TRANSITION)]


def test_a_gate_follows_each_setup_step_after_its_speech() -> None:
    timeline = compiled("hip-thrust")
    assert timeline.gates == 3
    for index, cue in enumerate(timeline.cues):
        if cue.kind is CueKind.GATE:
            step_speech = [c for c in timeline.cues[:index] if c.kind is CueKind.SPEECH][-1]
            assert step_speech.position.step == cue.position.step
            assert cue.time >= step_speech.time + step_speech.duration


@pytest.mark.parametrize("language", ["en", "ko"])
def test_hip_thrust_tip_comes_before_the_bar_is_loaded(language: str) -> None:
    """"Learn the range of motion without weight first" is advice for before the bar is on
    the hips: it leads step 2 (loading), after step 1 is confirmed, not after the setup."""
    workout = load_workout("hip-thrust", language)
    exercise = workout.exercises[0]
    timeline = compiled("hip-thrust", language)
    speech = [c for c in timeline.cues if c.kind in (CueKind.SPEECH, CueKind.GATE)]
    texts = [c.text for c in speech]
    tip = texts.index(exercise.tip)
    assert texts[tip - 1] == "step 1" and speech[tip - 1].kind is CueKind.GATE
    assert texts[tip + 1] == exercise.setup[1]  # loading the bar
    assert speech[tip].position.step == 2


def test_tip_follows_the_last_step_by_default() -> None:
    exercise = load_workout("glute-bridge-hold").exercises[0]
    timeline = compiled("glute-bridge-hold")
    texts = [c.text for c in timeline.cues if c.kind in (CueKind.SPEECH, CueKind.GATE)]
    assert texts[texts.index(exercise.tip) - 1] == f"step {len(exercise.setup)}"


def test_sequential_speech_never_overlaps_outside_tempo() -> None:
    # Beats (a count, or a cue split over beats) are checked with real speech lengths by
    # test_cli_workouts.py; this stand-in length is too rough for a one-second beat.
    for name in ("hip-thrust", "glute-bridge-hold", "lower-body-circuit"):
        assert [(a, b) for a, b in compiled(name).crowded_speech() if not b.counted] == []


def test_gaps_shift_later_cues_and_chapters() -> None:
    timeline = compiled("hip-thrust")
    no_gap, gapped = timeline.scheduled(0.0), timeline.scheduled(4.0)
    last = len(timeline.cues) - 1
    assert gapped[last].time - no_gap[last].time == pytest.approx(4.0 * timeline.gates)
    chapters = timeline.chapters(4.0)
    assert [c.title for c in chapters] == ["Eccentric single-leg hip thrust",
                                           "Eccentric single-leg hip thrust: Left side",
                                           "Eccentric single-leg hip thrust: Right side"]
    assert chapters[0].start == 0 and chapters[-1].end == pytest.approx(timeline.total_seconds(4.0))
    assert chapters[0].end == chapters[1].start and chapters[1].end == chapters[2].start


@pytest.mark.parametrize("language", ["en", "ko"])
def test_setup_is_its_own_chapter_and_a_side_starts_with_its_side(language: str) -> None:
    """The intro and setup used to open the "Left side" chapter; they have their own."""
    timeline = compiled("hip-thrust", language)
    scheduled = timeline.scheduled(3.0)
    chapters = timeline.chapters(3.0)
    sides = [item.time for item in scheduled if item.cue.mark is MarkKind.SIDE]
    steps = [item.time for item in scheduled if item.cue.mark is MarkKind.STEP]
    assert len(chapters) == 3 and [c.start for c in chapters[1:]] == pytest.approx(sides)
    assert all(chapters[0].start <= t < chapters[0].end for t in steps)


def test_exercise_without_setup_still_opens_with_its_first_side() -> None:
    timeline = compiled("lower-body-circuit")
    titles = [c.title for c in timeline.chapters(3.0)]
    # round 2 reads no setup: the lunge's chapters are its sides only
    assert titles[-4:] == ["Tempo squat", "Reverse lunge: Left side", "Reverse lunge: Right side",
                           "Wall sit"]


@pytest.mark.parametrize("name", ["hip-thrust", "glute-bridge-hold", "lower-body-circuit"])
@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_title_is_not_said_twice_in_a_row(name: str, language: str) -> None:
    """A workout named after its one exercise said the name in the intro and again at
    once as the exercise's announcement."""
    workout = load_workout(name, language)
    speech = [c.text for c in compiled(name, language).cues if c.kind is CueKind.SPEECH]
    first = workout.exercises[0].name
    assert first.casefold() in " ".join(speech[:3]).casefold()  # said once, early
    for before, after in zip(speech, speech[1:]):
        assert not (first.casefold() in before.casefold() and first.casefold() in after.casefold()), (before, after)


def test_hold_calls_time_and_counts_down() -> None:
    timeline = compiled("glute-bridge-hold")
    holds = [c for c in timeline.cues if c.mark is MarkKind.HOLD]
    assert len(holds) == 3 and all(h.duration == pytest.approx(30) for h in holds)
    hold = holds[0]
    inside = [c for c in timeline.cues if c.kind is CueKind.SPEECH
              and hold.time <= c.time < hold.time + hold.duration]
    assert [c.text for c in inside] == ["20 seconds left.", "10 seconds left.", "three", "two", "one"]
    assert [c.time - hold.time for c in inside] == pytest.approx([10, 20, 27, 28, 29])


def test_circuit_rests_and_rounds() -> None:
    timeline = compiled("lower-body-circuit")
    rests = [c.duration for c in timeline.cues if c.mark is MarkKind.REST]
    # per round: squat->lunge 20, lunge sides 10, lunge->wall sit 20; 45 between rounds
    assert rests == pytest.approx([20, 10, 20, 45, 20, 10, 20])
    setup_steps = [c for c in timeline.cues if c.mark is MarkKind.STEP]
    assert len(setup_steps) == 3  # setup is read in the first round only


def test_resumed_timeline_starts_at_zero() -> None:
    timeline = compiled("hip-thrust")
    index = next(i for i, c in enumerate(timeline.cues)
                 if c.mark is MarkKind.REP and c.position.side == "right" and c.position.rep == 4)
    resumed = timeline.resumed_at(index)
    assert resumed.cues[0].time == 0 and resumed.cues[0].position.rep == 4
    assert len(lowering_counts(resumed)) == 3
