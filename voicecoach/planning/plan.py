"""From a workout name to a compiled timeline: the shared first half of every path.

``show``, ``export`` and ``run`` all start here, so a workout is loaded, overridden,
voiced and compiled the same way whatever happens to the timeline next.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from voicecoach.planning.phrases import Phrases, PromptMode, load_phrases
from voicecoach.planning.timeline import Timeline, compile_timeline
from voicecoach.planning.workout import (
    Workout,
    load_workout,
    parse_phase_override,
    with_phase_seconds,
)
from voicecoach.playback.speech import SpeechRenderer, default_voice

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanRequest:
    """What the user asked for: which workout, in which language and voice."""

    workout: str
    language: str = "en"
    voice: str | None = None
    rate: int = 165
    phase_seconds: Sequence[str] = ()
    mode: PromptMode = PromptMode.VOICE
    """How the user answers: decides what the coach asks for ("say next", "press Enter")."""
    wake: str | None = None
    """The wake word commands start with (``run --wake``; mode :attr:`PromptMode.WAKE`)."""


@dataclass(frozen=True)
class Plan:
    """A compiled workout with the renderer that voiced it."""

    workout: Workout
    phrases: Phrases
    speech: SpeechRenderer
    timeline: Timeline


def load_plan_workout(request: PlanRequest) -> tuple[Workout, Phrases]:
    """The validated workout, with phase overrides applied, and its phrases."""
    phrases = load_phrases(request.language, request.mode, request.wake or "")
    workout = load_workout(request.workout, request.language)
    overrides = dict(parse_phase_override(text) for text in request.phase_seconds)
    if overrides:
        workout = with_phase_seconds(workout, overrides)
    return workout, phrases


def make_plan(request: PlanRequest, speech: SpeechRenderer | None = None) -> Plan:
    """Load, check and compile the requested workout, timing speech as it is rendered."""
    workout, phrases = load_plan_workout(request)
    if speech is None:
        speech = SpeechRenderer(request.voice or default_voice(request.language), request.rate,
                                pronounce=phrases.pronounce)
    timeline = compile_timeline(workout, phrases, speech.duration)
    logger.info("%s: %d cues, %.0f s without waits", workout.name, len(timeline.cues),
                timeline.total_seconds(0.0))
    return Plan(workout, phrases, speech, timeline)
