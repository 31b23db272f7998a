"""Where voicecoach finds its data (prompts, sounds) and keeps its cache."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "voicecoach"
PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def shipped_dir(package_name: str, source_name: str) -> Path:
    """A data folder that ships with voicecoach, wherever this install keeps it.

    A built install (wheel, ``pip install .``, pipx) has it inside the package as
    ``voicecoach/<package_name>`` (pyproject.toml maps it there); a source checkout,
    run in place or installed editable, at the top of the repo as ``<source_name>``.
    The package's own folder comes first, so an installed voicecoach never reads a
    folder that merely happens to sit next to it.
    """
    inside = PACKAGE_DIR / package_name
    return inside if inside.is_dir() else PROJECT_ROOT / source_name


def prompts_dir() -> Path:
    """The ``prompts/`` folder: phrases, commands and workouts, per language
    (``VOICECOACH_PROMPTS`` overrides)."""
    return Path(os.environ.get("VOICECOACH_PROMPTS", shipped_dir("prompts", "prompts")))


def audio_dir() -> Path:
    """The ``audio/`` folder holding the earcons (``VOICECOACH_AUDIO`` overrides)."""
    return Path(os.environ.get("VOICECOACH_AUDIO", shipped_dir("sounds", "audio")))


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
