"""How fast does SpeechRenderer turn phrases into clips, cold and from the cache?

For each language it renders the phrase catalogue's phrases (every template with
sample values, plus the count words) and prints milliseconds per phrase:

* cold: empty cache, every phrase synthesised by espeak-ng, processed, written;
* warm: a new renderer on the same cache folder (a new session), read from disk;
* memory: the same renderer again (within one session).

Also prints engine start-up (first SpeechRenderer in the process). Each figure is the
median of ``--repeats`` runs, each in a fresh temporary cache.

    scripts/dev benchmarks/speech_speed.py [--repeats 3] [--lang en ko]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from voicecoach.planning.phrases import load_phrases
from voicecoach.playback.speech import SpeechRenderer, default_voice

SAMPLE_VALUES = {
    "workout": "Hip thrust", "exercise": "Hip thrust", "side": "Left", "reps": 8, "n": 2,
    "total": 3, "seconds": 30, "say": "lower", "count": "three", "rep": 4, "set": 2,
}


class _Sample(dict):
    """Sample placeholder values; any placeholder not listed reads as "3"."""

    def __missing__(self, key: str) -> str:
        return "3"


def catalogue_texts(language: str) -> list[str]:
    """Every phrase template filled with sample values, then every count word."""
    phrases = load_phrases(language)
    values = _Sample(SAMPLE_VALUES)
    filled = [template.format_map(values) for template in phrases.templates.values()]
    return list(dict.fromkeys(filled + list(phrases.counts)))


def per_phrase_ms(renderer: SpeechRenderer, texts: list[str]) -> float:
    start = time.perf_counter()
    renderer.render_all(texts)
    return 1000.0 * (time.perf_counter() - start) / len(texts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lang", nargs="+", default=["en", "ko"])
    args = parser.parse_args()

    start = time.perf_counter()
    SpeechRenderer(default_voice("en"), cache_dir=Path(tempfile.mkdtemp()))
    print(f"engine start-up: {1000 * (time.perf_counter() - start):.0f} ms")

    for language in args.lang:
        voice, texts = default_voice(language), catalogue_texts(language)
        cold, warm, memory = [], [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as cache:
                first = SpeechRenderer(voice, cache_dir=Path(cache))
                cold.append(per_phrase_ms(first, texts))
                memory.append(per_phrase_ms(first, texts))
                second = SpeechRenderer(voice, cache_dir=Path(cache))
                warm.append(per_phrase_ms(second, texts))
                assert second.synthesised == 0, "warm run synthesised"
        audio_s = sum(second.duration(text) for text in texts)
        print(
            f"{language} ({voice}, {len(texts)} phrases, {audio_s:.1f} s of speech): "
            f"cold {statistics.median(cold):.1f} ms/phrase, "
            f"warm {statistics.median(warm):.2f} ms/phrase, "
            f"memory {1000 * statistics.median(memory):.1f} us/phrase"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
