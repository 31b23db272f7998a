"""The ``voicecoach`` command: a thin argparse layer over the library.

Each subcommand is a module in this package with ``register(subparsers)``, which adds
its parser and sets ``handler`` to a function ``(args) -> int``. Errors the user can fix
(:class:`~voicecoach.errors.VoicecoachError`) print as one line with a non-zero exit.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from voicecoach import __version__
from voicecoach.errors import VoicecoachError

PROG = "voicecoach"


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand module of this package registered."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Hands-free, voice-guided audio workout coach."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="say what happens inside (-v), and in detail (-vv), on stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    for name in sorted(modules):
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(subparsers)
    return parser


def configure_logging(verbosity: int) -> None:
    """Warnings only by default; ``-v`` adds what happens (INFO), ``-vv`` detail (DEBUG)."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 \
        else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr,
                        format=f"{PROG}: %(levelname)s %(name)s: %(message)s")


def fail(message: str, exit_code: int) -> int:
    """Print a one-line error to stderr and return the exit code."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    try:
        # Inside the try: building the parser imports the subcommands' libraries
        # (numpy, PortAudio...), which takes long enough for an early Ctrl-C to land.
        args = build_parser().parse_args(argv)
        configure_logging(args.verbose)
        return int(args.handler(args) or 0)
    except VoicecoachError as error:
        return fail(str(error), error.exit_code)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
