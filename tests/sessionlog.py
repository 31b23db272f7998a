"""Reading the training log of a CLI session that may still be starting up."""

from __future__ import annotations

from pathlib import Path

from voicecoach.errors import InputError
from voicecoach.records.training_log import Event, TrainingLog


def logged(db: Path) -> list[Event]:
    """The events logged so far in the only session ([] before the log is set up: the
    file may exist before its schema is written)."""
    try:
        with TrainingLog(db, readonly=True) as log:
            sessions = log.sessions()
            return log.events(sessions[0].id) if sessions else []
    except InputError:  # not created yet, or its schema not written yet
        return []
