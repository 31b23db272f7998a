"""The latency trace: when each command was said, heard, judged and acted on."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

trace_log = logging.getLogger("voicecoach.trace")
"""Latency trace: one JSON object per line at DEBUG (``VOICECOACH_TRACE`` in ``run``),
every time ``time.monotonic()`` seconds; benchmarks/latency.py reads it."""


def trace(stage: str, **fields: Any) -> None:
    """One line of the latency trace, when it is on."""
    if trace_log.isEnabledFor(logging.DEBUG):
        trace_log.debug(json.dumps({"stage": stage, "t": time.monotonic(), **fields}))
