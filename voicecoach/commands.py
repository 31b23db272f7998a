"""The command vocabulary: ``prompts/<lang>/commands.toml`` -> :class:`CommandVocabulary`.

Each top-level table of the file is a canonical (English) command name with a ``say``
list of the words and short phrases that mean it. An optional top-level ``filler`` list
names ordinary words a grammar-restricted recogniser may use to absorb speech that is
not a command (its "garbage" words); they never match a command. An optional ``wake``
names the language's wake word for shared rooms (``run --wake``: "coach, next"):
:meth:`CommandVocabulary.with_wake` makes every alias start with it. An optional
``ordinary`` list names everyday phrases that hold a command word without being a
command ("well done", "next week"): a transcript's alias inside one of them is no
command.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from voicecoach.errors import InputError
from voicecoach.paths import prompts_dir
from voicecoach.tomlfile import read_toml


class Command(StrEnum):
    """A command to the coach, by voice or key; the value is its canonical (English)
    name, the table name in ``commands.toml``."""

    NEXT = "next"
    DONE = "done"
    PAUSE = "pause"
    RESUME = "resume"
    REPEAT = "repeat"
    STOP = "stop"
    PAUSE_OR_RESUME = "pause/resume"
    """Keys only (p, space): pause, or resume when paused."""


SPOKEN_COMMANDS = tuple(c for c in Command if c is not Command.PAUSE_OR_RESUME)
"""The commands every vocabulary must define, in this order."""

FILE_NAME = "commands.toml"
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*", re.UNICODE)


def words_of(text: str) -> tuple[str, ...]:
    """Lower-case words of ``text`` without punctuation ("Okay, next!" -> okay next)."""
    return tuple(match.group(0) for match in _WORD.finditer(text.lower()))


def _starts(tokens: Sequence[str], words: tuple[str, ...]) -> list[int]:
    """Indices in ``tokens`` where the word sequence ``words`` begins."""
    return [start for start in range(len(tokens) - len(words) + 1)
            if tuple(tokens[start:start + len(words)]) == words]


@dataclass(frozen=True)
class CommandVocabulary:
    """Canonical command name -> the phrases (aliases) that say it, for one language."""

    language: str
    commands: dict[Command, tuple[str, ...]]
    filler: tuple[str, ...] = ()
    source: Path | None = field(default=None, compare=False)
    default_wake: str | None = None
    """The language's wake word (``wake`` in the file), for ``--wake`` without a word."""
    wake: str | None = None
    """The wake word every alias starts with, once :meth:`with_wake` made it required."""
    ordinary: tuple[str, ...] = ()
    """Everyday phrases holding a command word that are no command ("well done")."""
    companions: tuple[str, ...] = ()
    """Words a command may come with ("okay", "please"): see :meth:`said_alone`."""

    def with_wake(self, word: str | None = None) -> CommandVocabulary:
        """This vocabulary with ``word`` (default: the language's wake word) said before
        every alias: "next" becomes "coach next", and "next" alone means nothing."""
        where = self.source or self.language
        chosen = word if word is not None else self.default_wake
        if chosen is None:
            raise InputError(f"{where}: no wake word for {self.language!r}; "
                             f"name one with --wake WORD or add wake = \"...\" to the file")
        wake = " ".join(words_of(chosen))
        if not wake:
            raise InputError(f"--wake {chosen!r}: expected a word, such as "
                             f"{self.default_wake or 'coach'!r}")
        if self.wake is not None:
            raise InputError(f"{where}: the wake word is already {self.wake!r}")
        taken = {alias for aliases in self.commands.values() for alias in aliases}
        clash = [w for w in words_of(wake) if w in taken or w in self.filler]
        if clash:
            raise InputError(f"--wake {chosen!r}: {clash[0]!r} is a command or filler word "
                             f"in {where}; choose another wake word")
        commands = {name: tuple(f"{wake} {alias}" for alias in aliases)
                    for name, aliases in self.commands.items()}
        # A grammar engine must be able to hear the wake word and the bare commands as
        # ordinary words: else it forces "stop now" onto "coach stop", and where it
        # mishears the command after the wake word it loses the wake word too.
        filler = dict.fromkeys(self.filler + (wake,) + tuple(sorted(taken)))
        return replace(self, commands=commands, filler=tuple(filler), wake=wake)

    def phrases(self) -> list[str]:
        """Every alias, longest first (so "stop workout" is tried before "stop")."""
        unique = {phrase for aliases in self.commands.values() for phrase in aliases}
        return sorted(unique, key=lambda p: (-len(words_of(p)), p))

    def words(self) -> list[str]:
        """Every distinct word used by some alias, in a stable order."""
        seen: dict[str, None] = {}
        for phrase in self.phrases():
            for word in words_of(phrase):
                seen.setdefault(word, None)
        return list(seen)

    def command_for(self, phrase: str) -> Command | None:
        """The canonical name whose alias is exactly ``phrase`` (case/punctuation-blind)."""
        wanted = words_of(phrase)
        for name, aliases in self.commands.items():
            if any(words_of(alias) == wanted for alias in aliases):
                return name
        return None

    def find(self, words: Sequence[str]) -> list[tuple[Command, int, int]]:
        """Commands said inside a word sequence: (name, first index, end index), in order.

        Aliases are matched greedily left to right, longest alias first, without overlap.
        """
        tokens = [w.lower() for w in words]
        alias_words = [(words_of(p), p) for p in self.phrases()]
        ordinary = self._ordinary_words(tokens)
        found: list[tuple[Command, int, int]] = []
        index = 0
        while index < len(tokens):
            for alias, phrase in alias_words:
                if alias and tuple(tokens[index:index + len(alias)]) == alias \
                        and not any(ordinary[index:index + len(alias)]):
                    name = self.command_for(phrase)
                    assert name is not None
                    found.append((name, index, index + len(alias)))
                    index += len(alias)
                    break
            else:
                index += 1
        return found

    def _ordinary_words(self, tokens: list[str]) -> list[bool]:
        """Per token: whether it belongs to one of the ``ordinary`` phrases."""
        covered = [False] * len(tokens)
        for phrase in self.ordinary:
            words = words_of(phrase)
            for start in _starts(tokens, words):
                covered[start:start + len(words)] = [True] * len(words)
        return covered

    def said_alone(self, words: Sequence[str]) -> bool:
        """Whether ``words`` (a whole utterance, as a transcriber wrote it) are commands
        said to the coach: nothing but aliases, the wake word and companion words ("okay,
        next", "I'm done"), not a command word inside a reply ("Next one's yours"). With
        no companions listed, any words are."""
        if not self.companions:
            return True
        tokens = [word.lower() for word in words]
        allowed = set(self.companions) | set(words_of(self.wake or ""))
        covered = [token in allowed for token in tokens]
        for _, first, end in self.find(tokens):
            covered[first:end] = [True] * (end - first)
        return all(covered)

    def match(self, text: str) -> Command | None:
        """The canonical command said in ``text`` ("okay, next" -> "next"), else None.

        When several commands are said, the last one wins: it is the user's final word.
        """
        found = self.find(words_of(text))
        return found[-1][0] if found else None


def available_languages() -> list[str]:
    """Languages with a command vocabulary: folders of prompts/ holding commands.toml."""
    root = prompts_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / FILE_NAME).is_file())


def _string_list(value: object, path: Path, where: str) -> tuple[str, ...]:
    """A non-empty list of non-empty strings, or an InputError naming the field."""
    if not isinstance(value, list) or not value:
        raise InputError(f"{path}: {where} must be a non-empty list of words or phrases")
    items: list[str] = []
    for item in value:
        if not isinstance(item, str) or not words_of(item):
            raise InputError(f"{path}: {where} holds {item!r}; expected a word or phrase")
        items.append(" ".join(words_of(item)))
    return tuple(items)


def _word_list(data: dict[str, object], path: Path, key: str,
               aliases: set[str]) -> tuple[str, ...]:
    """The optional list ``key`` of words that are no command (filler, companions)."""
    words = _string_list(data[key], path, key) if key in data else ()
    clash = sorted(set(words) & aliases)
    if clash:
        raise InputError(f"{path}: {key} holds command word(s) {', '.join(clash)}; remove them")
    return words


def parse_vocabulary(data: dict[str, object], path: Path, language: str) -> CommandVocabulary:
    """Validate the parsed TOML of a commands file (errors name the file and field)."""
    declared = data.get("language", language)
    if declared != language:
        raise InputError(f"{path}: language = {declared!r} but the file is in the "
                         f"{language!r} folder; make them agree")
    commands: dict[Command, tuple[str, ...]] = {}
    for name, table in data.items():
        if name in ("language", "filler", "wake", "ordinary", "companions"):
            continue
        if name not in SPOKEN_COMMANDS:
            raise InputError(f"{path}: unknown command [{name}]; "
                             f"commands are {', '.join(SPOKEN_COMMANDS)}")
        if not isinstance(table, dict) or "say" not in table:
            raise InputError(f"{path}: [{name}] needs a say = [...] list")
        commands[Command(name)] = _string_list(table["say"], path, f"[{name}].say")
    missing = [name for name in SPOKEN_COMMANDS if name not in commands]
    if missing:
        raise InputError(f"{path}: missing command table(s) {', '.join(f'[{m}]' for m in missing)}")
    owner: dict[str, Command] = {}
    for name, aliases in commands.items():
        for alias in aliases:
            if owner.setdefault(alias, name) != name:
                raise InputError(f"{path}: {alias!r} is said by both [{owner[alias]}] "
                                 f"and [{name}]; give it to one command")
    filler = _word_list(data, path, "filler", set(owner))
    wake = data.get("wake")
    if wake is not None and not (isinstance(wake, str) and words_of(wake)):
        raise InputError(f"{path}: wake = {wake!r}: expected a word, such as \"coach\"")
    if wake is not None and set(words_of(wake)) & (set(owner) | set(filler)):
        raise InputError(f"{path}: wake = {wake!r} is also a command or filler word; "
                         f"choose another")
    ordinary = _string_list(data["ordinary"], path, "ordinary") if "ordinary" in data else ()
    plain = [phrase for phrase in ordinary
             if not any(_starts(words_of(phrase), words_of(alias)) for alias in owner)]
    if plain:
        raise InputError(f"{path}: ordinary phrase {plain[0]!r} holds no command word; "
                         f"list only phrases such as \"well done\"")
    companions = _word_list(data, path, "companions", set(owner))
    return CommandVocabulary(language=language, commands=commands, filler=filler, source=path,
                             default_wake=" ".join(words_of(wake)) if wake else None,
                             ordinary=ordinary, companions=companions)


def load_vocabulary(language: str) -> CommandVocabulary:
    """The command vocabulary of ``language`` (prompts/<language>/commands.toml)."""
    path = prompts_dir() / language / FILE_NAME
    if not path.is_file():
        known = ", ".join(available_languages()) or "none"
        raise InputError(f"no command vocabulary for language {language!r} "
                         f"(expected {path}); available: {known}")
    return parse_vocabulary(read_toml(path), path, language)


def resolve_wake(language: str, word: str | None) -> str | None:
    """The wake word ``--wake [WORD]`` asks for, checked against the language's commands:
    None (no ``--wake``) stays None, "" is the language's own (``wake`` in the file)."""
    if word is None:
        return None
    return load_vocabulary(language).with_wake(word or None).wake
