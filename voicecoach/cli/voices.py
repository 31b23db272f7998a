"""``voicecoach voices``: list the espeak-ng voice ids that ``--voice`` accepts."""

from __future__ import annotations

import argparse

from voicecoach.errors import InputError
from voicecoach.playback.speech import default_voice, list_voices, voices_for


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``voices`` subcommand."""
    parser = subparsers.add_parser(
        "voices",
        help="list the speech voices usable with --voice",
        description="List the espeak-ng voice ids usable with --voice "
        "(the one marked * is the default for its language).",
    )
    parser.add_argument(
        "--lang", metavar="CODE", help='only voices for this language, e.g. "en", "ko", "en-gb"'
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print one voice per line: id, language, name; each language's default is starred."""
    voices = voices_for(args.lang) if args.lang else list_voices()
    if not voices:
        raise InputError(
            f"no voice for language {args.lang!r}; run `voicecoach voices` to list all voices"
        )
    if args.lang:
        defaults = {default_voice(args.lang)}
    else:  # every language shown gets its default marked, not just one asked for
        languages = {voice.languages[0].split("-")[0] for voice in voices if voice.languages}
        defaults = {default_voice(language) for language in languages}
    width = max(len(voice.id) for voice in voices)
    for voice in voices:
        mark = "*" if voice.id in defaults else " "
        print(f"{mark} {voice.id:<{width}}  {', '.join(voice.languages):<16} {voice.name}")
    return 0
