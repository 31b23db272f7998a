"""The phrase catalogue: what the coach says that is not workout text, per language.

Lives in ``prompts/<lang>/phrases.toml`` so another language is a folder away. What
the coach tells the user to do depends on how they answer it (:class:`PromptMode`):
``[say]`` is for a session that listens; ``[modes.keys]`` and ``[modes.export]``
replace the phrases that would tell a keys-only user to speak, or an exported file's
listener to say something nothing hears; ``[modes.wake]`` asks for commands after the
wake word (``run --wake``), its templates naming it as ``{wake}``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from voicecoach.errors import InputError
from voicecoach.paths import prompts_dir
from voicecoach.tomlfile import read_toml

REQUIRED_KEYS = (
    "workout_start", "exercise_start", "round_start", "set_start", "side_start",
    "reps_start", "rep_cue", "last_rep_cue", "switch_sides", "rest", "rest_remaining",
    "rest_over", "hold_start", "hold_remaining", "hold_over", "exercise_done",
    "workout_done", "chapter_side", "paused", "resumed", "stopping", "finishing_early", "waiting",
    "confirm_stop", "confirm_done",
    "resuming_at_rep", "resuming_at", "mic_lost", "no_mic",
)
"""Every key the code asks for; a catalogue missing one is rejected on load."""


class PromptMode(StrEnum):
    """How the user answers the coach, which decides how the coach asks."""

    VOICE = "voice"  # a live session that listens: "say next"
    KEYS = "keys"  # a live session on the keyboard only: "press Enter"
    EXPORT = "export"  # an audio file: nothing answers, gates are fixed pauses
    WAKE = "wake"  # a live session that listens for the wake word first: "say coach, next"


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
    variants: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per :class:`PromptMode`, the templates replacing ``[say]``'s (``[modes.keys]``...)."""
    mode: PromptMode = PromptMode.VOICE
    said: dict[str, str] = field(default_factory=dict)
    """``[say]`` as written, whatever the mode (what :meth:`for_mode` starts from)."""
    wake: str = ""
    """The wake word ``{wake}`` stands for (:attr:`PromptMode.WAKE`)."""

    def for_mode(self, mode: PromptMode, wake: str | None = None) -> Phrases:
        """These phrases as said to a user answering in ``mode`` (``wake``: the word
        commands start with, which :attr:`PromptMode.WAKE` needs)."""
        mode = PromptMode(mode)
        wake = self.wake if wake is None else wake
        if mode is PromptMode.WAKE and not wake:
            raise InputError(f"{self.source}: prompts for a wake word need the word")
        said = self.said or self.templates
        templates = {**said, **self.variants.get(mode.value, {})}
        return replace(self, templates=templates, mode=mode, said=dict(said), wake=wake)

    def say(self, key: str, **values: object) -> str:
        """The phrase ``key`` with its placeholders filled in."""
        return self.templates[key].format(**{"wake": self.wake, **values})

    def count(self, n: int) -> str:
        """The count word for ``n`` (1-based); digits past the end of the list."""
        return self.counts[n - 1] if 1 <= n <= len(self.counts) else str(n)

    def side(self, side: str) -> str:
        """The spoken name of a side ("left", "right")."""
        return self.sides.get(side, side)


def available_languages() -> list[str]:
    """Languages with a phrase catalogue under prompts/."""
    return sorted(p.parent.name for p in prompts_dir().glob("*/phrases.toml"))


def load_phrases(language: str, mode: PromptMode = PromptMode.VOICE,
                 wake: str = "") -> Phrases:
    """Load and check ``prompts/<language>/phrases.toml``, as said in ``mode`` (``wake``:
    the word :attr:`PromptMode.WAKE`'s phrases ask for)."""
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
    _check_templates(path, "say", templates)
    modes = data.get("modes", {})
    if not isinstance(modes, dict):
        raise InputError(f"{path}: modes: expected tables like [modes.keys]")
    variants: dict[str, dict[str, str]] = {}
    for name, table in modes.items():
        where = f"modes.{name}"
        if name not in {m.value for m in PromptMode} - {PromptMode.VOICE.value}:
            raise InputError(f"{path}: {where}: unknown mode; use keys, export or wake")
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise InputError(f"{path}: {where}: expected a table of phrase templates")
        unknown = sorted(set(table) - set(REQUIRED_KEYS))
        if unknown:
            raise InputError(f"{path}: {where}: not a phrase of [say]: {', '.join(unknown)}")
        _check_templates(path, where, table)
        variants[name] = dict(table)
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
    phrases = Phrases(language, path, dict(templates), tuple(counts), dict(sides),
                      dict(pronounce), variants)
    return phrases if mode is PromptMode.VOICE else phrases.for_mode(mode, wake)


def _check_templates(path: Path, where: str, templates: dict[str, str]) -> None:
    for key, template in templates.items():
        try:
            list(string.Formatter().parse(template))
        except ValueError as error:
            raise InputError(f"{path}: {where}.{key}: bad template: {error}") from None
