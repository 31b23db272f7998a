"""The committed earcons: loadable, in range, click-free, and what make_earcons.py makes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio import PLAYBACK_RATE, read_wav
from voicecoach.errors import InputError, VoicecoachError
from voicecoach.paths import PROJECT_ROOT
from voicecoach.playback.earcons import EARCON_NAMES, load_earcon


@pytest.mark.parametrize("name", EARCON_NAMES)
def test_earcon_is_short_soft_and_click_free(name: str) -> None:
    samples = load_earcon(name)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert 0.02 < samples.size / PLAYBACK_RATE < 0.6
    peak_dbfs = 20 * np.log10(np.abs(samples).max())
    assert -7.0 < peak_dbfs < -5.0
    assert abs(samples[0]) < 1e-3 and abs(samples[-1]) < 1e-3  # starts and ends silent
    # No step bigger than a full-scale 2 kHz sine would make: no clicks.
    assert np.abs(np.diff(samples)).max() < 2 * np.pi * 2000 / PLAYBACK_RATE
    assert load_earcon(name) is samples  # loaded once
    assert not samples.flags.writeable


def test_earcons_are_distinct() -> None:
    fingerprints = {load_earcon(name).tobytes() for name in EARCON_NAMES}
    assert len(fingerprints) == len(EARCON_NAMES)
    assert load_earcon("tick").size < min(load_earcon(n).size for n in EARCON_NAMES if n != "tick")


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    script = PROJECT_ROOT / "audio" / "make_earcons.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, capture_output=True)
    for name in EARCON_NAMES:
        generated, rate = read_wav(tmp_path / f"{name}.wav")
        committed = load_earcon(name)
        assert rate == PLAYBACK_RATE and generated.size == committed.size, name
        # Allow a couple of 16-bit steps for libm differences between machines.
        np.testing.assert_allclose(generated, committed, atol=2 / 32768, err_msg=name)


def test_missing_or_corrupt_earcon_names_the_file_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICECOACH_AUDIO", str(tmp_path))
    with pytest.raises(VoicecoachError, match=r"start\.wav is missing.*make_earcons\.py"):
        load_earcon("start")
    (tmp_path / "tick.wav").write_bytes(b"RIFF\x00\x00garbage")
    with pytest.raises(VoicecoachError, match=r"tick\.wav .*make_earcons\.py"):
        load_earcon("tick")


def test_unknown_earcon_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown earcon 'gong'"):
        load_earcon("gong")
