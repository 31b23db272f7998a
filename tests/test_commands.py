"""The command vocabulary: real prompts/<lang>/commands.toml files and validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicecoach.commands import (
    SPOKEN_COMMANDS,
    available_languages,
    load_vocabulary,
    parse_vocabulary,
    resolve_wake,
    words_of,
)
from voicecoach.errors import InputError

KOREAN = {"다음": "next", "완료": "done", "멈춰": "pause", "계속": "resume", "다시": "repeat",
          "그만": "stop"}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_shipped_vocabularies_define_every_command(language: str) -> None:
    vocabulary = load_vocabulary(language)
    assert set(vocabulary.commands) == set(SPOKEN_COMMANDS)
    assert language in available_languages()
    for name in SPOKEN_COMMANDS:
        assert vocabulary.match(vocabulary.commands[name][0]) == name
    assert not set(vocabulary.filler) & set(vocabulary.phrases())


def test_english_canonical_names_and_phrases() -> None:
    vocabulary = load_vocabulary("en")
    for name in SPOKEN_COMMANDS:
        assert vocabulary.match(name) == name
    assert vocabulary.match("Okay, next!") == "next"
    assert vocabulary.match("next please") == "next"
    assert vocabulary.match("stop workout") == "stop"
    assert vocabulary.match("lower slowly") is None
    assert vocabulary.match("") is None
    assert vocabulary.phrases()[0].count(" ") >= 1  # longest first


def test_korean_commands_map_to_english_names() -> None:
    vocabulary = load_vocabulary("ko")
    for word, name in KOREAN.items():
        assert vocabulary.match(word) == name
    assert vocabulary.match("좋아 다음") == "next"
    assert vocabulary.match("천천히 내려") is None


def test_find_reports_positions_and_last_match_wins() -> None:
    vocabulary = load_vocabulary("en")
    words = list(words_of("okay stop workout then next"))
    assert vocabulary.find(words) == [("stop", 1, 3), ("next", 4, 5)]
    assert vocabulary.match("pause no resume") == "resume"


def _parse(tmp_path: Path, text: str):
    path = tmp_path / "commands.toml"
    path.write_text(text, encoding="utf-8")
    import tomllib

    return parse_vocabulary(tomllib.loads(text), path, "xx")


FULL = "".join(f'[{name}]\nsay = ["{name}"]\n' for name in SPOKEN_COMMANDS)


def test_valid_minimal_file(tmp_path: Path) -> None:
    vocabulary = _parse(tmp_path, FULL)
    assert vocabulary.language == "xx" and vocabulary.filler == ()


@pytest.mark.parametrize("text, fragment", [
    (FULL.replace('[stop]\nsay = ["stop"]\n', ""), "[stop]"),
    (FULL + '[jump]\nsay = ["jump"]\n', "[jump]"),
    (FULL.replace('say = ["next"]', "say = []"), "[next].say"),
    (FULL.replace('say = ["next"]', "say = [3]"), "[next].say"),
    (FULL.replace('say = ["done"]', 'say = ["next"]'), "'next'"),
    ('filler = ["pause"]\n' + FULL, "filler"),
    ('language = "ko"\n' + FULL, "language"),
    ('wake = "stop"\n' + FULL, "wake"),
    ('wake = 3\n' + FULL, "wake"),
    ('ordinary = ["good job"]\n' + FULL, "ordinary"),
    ('ordinary = "well done"\n' + FULL, "ordinary"),
    ('companions = ["okay", "stop"]\n' + FULL, "companions"),
    ('companions = []\n' + FULL, "companions"),
])
def test_invalid_files_name_file_and_field(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(InputError) as error:
        _parse(tmp_path, text)
    message = str(error.value)
    assert str(tmp_path / "commands.toml") in message and fragment in message
    assert "\n" not in message


def test_a_command_word_inside_an_ordinary_phrase_is_no_command(tmp_path: Path) -> None:
    vocabulary = _parse(tmp_path, 'ordinary = ["well done", "next week"]\n' + FULL)
    assert vocabulary.match("Well done!") is None
    assert vocabulary.match("See you next week?") is None
    assert vocabulary.match("Okay, done.") == "done"
    assert vocabulary.match("Well done. Next.") == "next"
    assert [name for name, _, _ in vocabulary.find(words_of("done well done"))] == ["done"]
    assert vocabulary.with_wake("coach").match("coach well done") is None


def test_a_command_said_alone_comes_with_companion_words_only(tmp_path: Path) -> None:
    vocabulary = _parse(tmp_path, 'companions = ["okay", "please", "i\'m"]\n' + FULL)
    for said in ["next", "Okay, next!", "I'm done.", "Pause, please.", "stop stop"]:
        assert vocabulary.said_alone(words_of(said)), said
    for said in ["Next one's yours.", "Done already?", "What's next?", "okay then"]:
        assert not vocabulary.said_alone(words_of(said)), said
    assert vocabulary.with_wake("coach").said_alone(words_of("Coach, next please."))
    # Without a list nothing is checked (a grammar engine's words are aliases and filler).
    assert _parse(tmp_path, FULL).said_alone(words_of("Next one's yours."))


def test_unknown_language_lists_available(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="'xx'.*available:.*en"):
        load_vocabulary("xx")


@pytest.mark.parametrize("language, word", [("en", "coach"), ("ko", "코치")])
def test_a_wake_word_goes_before_every_alias(language: str, word: str) -> None:
    plain = load_vocabulary(language)
    woken = plain.with_wake()
    assert plain.default_wake == word and woken.wake == word and plain.wake is None
    for name, aliases in plain.commands.items():
        assert woken.commands[name] == tuple(f"{word} {alias}" for alias in aliases)
        assert woken.match(f"{word}, {aliases[0]}") == name
        assert woken.match(aliases[0]) is None  # the bare command means nothing
    assert woken.match(f"well done, {word}") is None
    # A grammar engine may hear the wake word or a bare command as plain words, so it
    # need not force them onto a woken command.
    assert word in woken.filler and set(plain.phrases()) <= set(woken.filler)


def test_the_wake_word_is_checked_against_the_commands() -> None:
    assert resolve_wake("en", None) is None
    assert resolve_wake("en", "") == "coach"
    assert resolve_wake("en", "Hey Buddy!") == "hey buddy"
    assert load_vocabulary("en").with_wake("hey buddy").match("hey buddy stop") == "stop"
    for bad, fragment in [("next", "'next' is a command"), ("okay", "'okay' is a command or filler"),
                          ("...", "expected a word")]:
        with pytest.raises(InputError) as error:
            resolve_wake("en", bad)
        assert fragment.split(" is")[0] in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(InputError, match="already"):
        load_vocabulary("en").with_wake().with_wake()
