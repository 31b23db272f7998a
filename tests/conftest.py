"""Shared fixtures: the headless audio rigs of tests/rigs.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lets test modules `import rigs`

from rigs import AlsaFileRig, PulseRig, pulse_rig


@pytest.fixture
def alsa_file_rig(tmp_path: Path) -> AlsaFileRig:
    """An unpaced ALSA file-plugin rig for one test (run code with rig.run_python)."""
    return AlsaFileRig.create(tmp_path / "alsa-rig")


@pytest.fixture(scope="session")
def pulse() -> Iterator[PulseRig]:
    """One private PulseAudio daemon (real-time) shared by the whole test session."""
    with pulse_rig() as rig:
        yield rig


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests in the real-time PulseAudio room are ``realtime``: `pytest -m "not realtime"`
    is the fast tier for everyday work; CI runs everything."""
    for item in items:
        if "pulse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realtime)
