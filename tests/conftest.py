"""Shared fixtures: the headless audio rigs of tests/rigs.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lets test modules `import rigs`

from rigs import AlsaFileRig, PulseRig, pulse_rig  # noqa: E402


@pytest.fixture
def alsa_file_rig(tmp_path: Path) -> AlsaFileRig:
    """An unpaced ALSA file-plugin rig for one test (run code with rig.run_python)."""
    return AlsaFileRig.create(tmp_path / "alsa-rig")


@pytest.fixture(scope="session")
def pulse() -> Iterator[PulseRig]:
    """One private PulseAudio daemon (real-time) shared by the whole test session."""
    with pulse_rig() as rig:
        yield rig
