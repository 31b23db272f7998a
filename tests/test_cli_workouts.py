"""``list``, ``show`` and language handling through the real CLI and real espeak-ng."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach.commands import Command, load_vocabulary
from voicecoach.errors import InputError
from voicecoach.planning.phrases import REQUIRED_KEYS, available_languages, load_phrases


def voicecoach(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**__import__("os").environ, "VOICECOACH_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_list_names_the_builtins(tmp_path: Path) -> None:
    result = voicecoach("list", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("hip-thrust", "glute-bridge-hold", "lower-body-circuit"):
        assert name in result.stdout


def test_show_prints_phases_and_total_time(tmp_path: Path) -> None:
    result = voicecoach("show", "hip-thrust", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for word in ("drive", "top", "lower", "reset", "eccentric", "up, every 1 s", "Total:",
                 "3 wait(s) for 'next'"):
        assert word in out, word
    assert "warning" not in out  # the built-in cues fit their phases with real speech


@pytest.mark.parametrize("name", ["hip-thrust", "glute-bridge-hold", "lower-body-circuit"])
@pytest.mark.parametrize("language", ["en", "ko"])
def test_builtin_cues_fit_their_phases_in_real_speech(tmp_path: Path, name: str,
                                                      language: str) -> None:
    result = voicecoach("show", name, "--lang", language, cache=tmp_path / language)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stdout, result.stdout


@pytest.mark.parametrize("language", ["en", "ko"])
def test_shortest_lowering_still_fits_its_cue(tmp_path: Path, language: str) -> None:
    """At 2 s the lowering has two beats: the two halves of its cue, no count, no crowding."""
    result = voicecoach("show", "hip-thrust", "--lang", language, "--phase-seconds", "lower=2",
                        cache=tmp_path / language)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stdout, result.stdout


def test_show_unknown_workout_exit_2_lists_names(tmp_path: Path) -> None:
    result = voicecoach("show", "squats-of-doom", cache=tmp_path)
    assert result.returncode == 2
    assert "hip-thrust" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_unknown_language_names_the_available_ones(tmp_path: Path) -> None:
    result = voicecoach("list", "--lang", "xx", cache=tmp_path)
    assert result.returncode == 2
    assert "'xx'" in result.stderr and "en" in result.stderr and "ko" in result.stderr


def test_both_languages_have_every_phrase() -> None:
    assert {"en", "ko"} <= set(available_languages())
    for language in ("en", "ko"):
        phrases = load_phrases(language)
        assert set(REQUIRED_KEYS) <= set(phrases.templates)
        assert len(phrases.counts) >= 10 and phrases.side("left") != "left"


INSTRUCTIONS = {  # (words that ask for a spoken command, words that ask for a key)
    "en": (("say next", "say resume"), ("press",)),
    "ko": (("말하세요", "말하면"), ("누르세요", "누르면")),
}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_prompts_fit_the_mode(language: str) -> None:
    """A keys-only session was told to "say next"; an exported file said "say next"
    though it just leaves a gap. Keys: press keys; export: nothing to say or press."""
    from voicecoach.planning.phrases import PromptMode
    from voicecoach.planning.timeline import CueKind, compile_timeline
    from voicecoach.planning.workout import load_workout

    speak, press = INSTRUCTIONS[language]

    def said(mode: PromptMode, wake: str = "") -> tuple[str, str]:
        """What the compiled plan says, and what the live session may say (pause, gate,
        the questions before a spoken stop or done)."""
        phrases = load_phrases(language, mode, wake)
        timeline = compile_timeline(load_workout("hip-thrust", language), phrases,
                                    lambda text: 1.0)
        plan = " ".join(c.text for c in timeline.cues if c.kind is CueKind.SPEECH)
        asked = ("paused", "waiting") + (() if mode is PromptMode.KEYS else (
            "confirm_stop", "confirm_done"))  # keys act at once: no question
        live = " ".join(phrases.say(key) for key in asked)
        return plan.lower(), live.lower()

    for text in said(PromptMode.VOICE):
        assert any(w in text for w in speak) and not any(w in text for w in press), text
    for text in said(PromptMode.KEYS):
        assert any(w in text for w in press) and not any(w in text for w in speak), text
    export, _ = said(PromptMode.EXPORT)  # a file has no live phrases
    assert not any(w in export for w in speak + press), export
    # --wake: every request to speak names the wake word before the command.
    wake = load_vocabulary(language).default_wake
    assert wake
    plan, live = said(PromptMode.WAKE, wake)
    assert not any(w in plan + live for w in press), (plan, live)
    asked = re.findall(rf"{wake}, (\w+)", plan + " " + live)
    commands = load_vocabulary(language).commands
    assert {load_vocabulary(language).match(word) for word in asked} >= {
        Command.NEXT, Command.RESUME, Command.STOP, Command.DONE}, asked
    assert len(asked) == 7, asked  # plan: next; live: resume, next, stop+resume, done+resume
    assert all(w in {a for aliases in commands.values() for a in aliases} for w in asked)
    with pytest.raises(InputError, match="wake word"):
        load_phrases(language, PromptMode.WAKE)


def test_a_mode_may_only_replace_phrases_of_say(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "xx"
    folder.mkdir()
    text = Path(load_phrases("en").source).read_text(encoding="utf-8")
    (folder / "phrases.toml").write_text(text + '\n[modes.keys.extra]\n', encoding="utf-8")
    monkeypatch.setattr("voicecoach.planning.phrases.prompts_dir", lambda: tmp_path)
    with pytest.raises(InputError, match="modes.keys"):
        load_phrases("xx")
    (folder / "phrases.toml").write_text(text.replace("[modes.export]", "[modes.shout]"),
                                         encoding="utf-8")
    with pytest.raises(InputError, match="modes.shout"):
        load_phrases("xx")


def test_catalogue_missing_a_phrase_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "xx"
    folder.mkdir()
    text = (Path(load_phrases("en").source)).read_text(encoding="utf-8")
    (folder / "phrases.toml").write_text(text.replace('switch_sides = "Switch sides."\n', ""),
                                         encoding="utf-8")
    monkeypatch.setenv("VOICECOACH_PROMPTS", str(tmp_path))
    with pytest.raises(InputError, match="switch_sides"):
        load_phrases("xx")


def test_ctrl_c_while_starting_up_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # Building the parser imports every subcommand's libraries (numpy, PortAudio), the
    # longest stretch of start-up: an early Ctrl-C lands there.
    from voicecoach import cli

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["list"]) == 130
    assert capsys.readouterr().err == "voicecoach: error: interrupted\n"


@pytest.mark.parametrize("argv, mode, wake", [
    (["run", "hip-thrust"], "voice", None),
    (["run", "hip-thrust", "--wake"], "wake", "coach"),
    (["run", "hip-thrust", "--wake", "Hey Buddy"], "wake", "hey buddy"),
    (["run", "hip-thrust", "--lang", "ko", "--wake"], "wake", "코치"),
    (["run", "hip-thrust", "--wake", "--keys-only"], "keys", "coach"),
])
def test_run_wake_asks_for_the_wake_word(argv: list[str], mode: str, wake: str | None) -> None:
    from voicecoach.cli import build_parser
    from voicecoach.cli._options import plan_request

    request = plan_request(build_parser().parse_args(argv))
    assert (request.mode.value, request.wake) == (mode, wake)
    if mode == "wake":
        phrases = load_phrases(request.language, request.mode, request.wake or "")
        assert f"{wake}, " in phrases.say("waiting")
