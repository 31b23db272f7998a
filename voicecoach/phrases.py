"""The phrase catalogue: what the coach says that is not workout text, per language.

Lives in ``prompts/<lang>/phrases.toml`` so another language is a folder away.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path

from voicecoach.errors import InputError
from voicecoach.paths import prompts_dir
from voicecoach.tomlfile import read_toml

REQUIRED_KEYS = (
    "workout_start", "exercise_start", "round_start", "set_start", "side_start",
    "reps_start", "rep_cue", "last_rep_cue", "switch_sides", "rest", "rest_remaining",
    "rest_over", "hold_start", "hold_remaining", "hold_over", "exercise_done",
    "workout_done", "chapter_side", "paused", "resumed", "stopping", "finishing_early", "waiting",
    "resuming_at_rep", "resuming_at", "mic_lost", "no_mic",
)
"""Every key the code asks for; a catalogue missing one is rejected on load."""


@dataclass(frozen=True)
class Phrases:
    """Templates and count words of one language."""

    language: str
    source: Path
    templates: dict[str, str]
    counts: tuple[str, ...]
    sides: dict[str, str]
    pronounce: dict[str, str] = field(default_factory=dict)
    """Word -> respelling for the speech engine only (``[pronounce]``): words espeak-ng
    says badly enough to be misheard; displayed text keeps the real spelling."""

    def say(self, key: str, **values: object) -> str:
        """The phrase ``key`` with its placeholders filled in."""
        return self.templates[key].format(**values)

    def count(self, n: int) -> str:
        """The count word for ``n`` (1-based); digits past the end of the list."""
        return self.counts[n - 1] if 1 <= n <= len(self.counts) else str(n)

    def side(self, side: str) -> str:
        """The spoken name of a side ("left", "right")."""
        return self.sides.get(side, side)


def available_languages() -> list[str]:
    """Languages with a phrase catalogue under prompts/."""
    return sorted(p.parent.name for p in prompts_dir().glob("*/phrases.toml"))


def load_phrases(language: str) -> Phrases:
    """Load and check ``prompts/<language>/phrases.toml``."""
    path = prompts_dir() / language / "phrases.toml"
    if not path.is_file():
        known = ", ".join(available_languages()) or "none"
        raise InputError(f"no phrases for language '{language}' ({path}); available: {known}")
    data = read_toml(path)
    templates = data.get("say")
    if not isinstance(templates, dict):
        raise InputError(f"{path}: [say]: missing table of phrase templates")
    missing = [key for key in REQUIRED_KEYS if not isinstance(templates.get(key), str)]
    if missing:
        raise InputError(f"{path}: [say]: missing phrase(s): {', '.join(missing)}")
    for key, template in templates.items():
        try:
            list(string.Formatter().parse(template))
        except ValueError as error:
            raise InputError(f"{path}: say.{key}: bad template: {error}") from None
    counts = data.get("counts")
    if not (isinstance(counts, list) and counts and all(isinstance(c, str) for c in counts)):
        raise InputError(f"{path}: counts: expected a list of count words from one")
    sides = data.get("sides", {})
    if not isinstance(sides, dict):
        raise InputError(f"{path}: sides: expected a table like left = \"Left\"")
    pronounce = data.get("pronounce", {})
    if not (isinstance(pronounce, dict) and all(
            isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip()
            for k, v in pronounce.items())):
        raise InputError(f"{path}: pronounce: expected a table like Eccentric = \"Ex-centric\"")
    return Phrases(language, path, dict(templates), tuple(counts), dict(sides), dict(pronounce))
