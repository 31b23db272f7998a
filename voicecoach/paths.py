"""Where voicecoach finds its data (prompts, sounds) and keeps its cache."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "voicecoach"
PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def prompts_dir() -> Path:
    """The ``prompts/`` folder: phrases, commands and workouts, per language."""
    return Path(os.environ.get("VOICECOACH_PROMPTS", PROJECT_ROOT / "prompts"))


def audio_dir() -> Path:
    """The ``audio/`` folder holding the earcons."""
    return Path(os.environ.get("VOICECOACH_AUDIO", PROJECT_ROOT / "audio"))


def package_data_dir() -> Path:
    """Model files shipped inside the package (``voicecoach/data/``)."""
    return PACKAGE_DIR / "data"


def cache_dir() -> Path:
    """User cache folder (``VOICECOACH_CACHE`` overrides), e.g. rendered speech."""
    override = os.environ.get("VOICECOACH_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME))


def data_dir() -> Path:
    """User data folder, e.g. the training log."""
    return Path(platformdirs.user_data_dir(APP_NAME))
