"""False commands in continuous non-command speech and music (target: <= 1 per hour, each
language, with the default engine).

    scripts/dev benchmarks/false_alarms.py [--lang en ko] [--engine E ...] [--minutes 12.5]
        [--from-stream N] [--split tune|held-out|all] [--category C ...] [--work DIR]
        [--keep] [--no-gate]
        [--json FILE] [--no-commands] [--generate-only]
    scripts/dev benchmarks/false_alarms.py --analyse FILE.json ...

Generates (talkcorpus.py, cached in ``--work``) ``--minutes`` of each category (trainer
chatter, two-voice conversation, narration, spoken word over music, near-miss
sentences, music alone) in each split, then decodes every stream exactly as
``voicecoach listen --file FILE --json`` does (the same loading, recogniser and
``recognize_samples``), once per engine. Every command reported is a false alarm;
it is traced to the sentence being spoken (the stream's sidecar). Prints false commands
per hour per engine, split, category and condition, the commands and engines behind
them, and the top trigger sentences.

Then the isolation analysis (isolation.py): for every false alarm, and for every command
of benchmarks/commands.py's set that the engine heard right (said with 2 s of quiet
around it, over the same microphone floor), the non-speech before and after the speech
run holding it and that run's length, as an energy detector finds them in the audio;
then rules "keep a report only if its run is short and quiet follows" and what each
costs: false alarms left per hour (tune split) against commands lost.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import talkcorpus
from isolation import HANGOVER_SECONDS, Isolation, isolation, speech_runs
from talkcorpus import CATEGORIES, SPLITS, Stream

from voicecoach.audio import MIC_BLOCK_SECONDS, read_recording
from voicecoach.commands import load_vocabulary
from voicecoach.recognition.base import Recognizer, recognize_samples
from voicecoach.recognition.factory import GATE, create_recognizer
from voicecoach.session.coach import CONFIRM_SECONDS

HERE = Path(__file__).resolve().parent

logger = logging.getLogger(__name__)

ENGINES = {"en": ["hybrid", "spotter", "pocketsphinx"], "ko": ["spotter", "vosk"]}
"""Engines measured per language, the default (``voicecoach listen``'s auto) first."""
COMMAND_LEAD = 2.0
"""Quiet before and after each command of the commands.py set in the isolation analysis."""
AFTER_GRID = (0.0, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
RUN_GRID = (0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 99.0)
BEFORE_GRID = (0.0, 0.15, 0.3, 0.5)
LEFTOVER_AFTER = 0.3
"""The false alarms a rule with this much quiet after (and the 1 % budget) leaves are
listed: about the longest wait a 300 ms reaction target could afford."""


@dataclass
class Report:
    """One command reported, with where it came from and how isolated it was."""

    engine: str
    language: str
    command: str
    text: str
    start: float
    end: float
    confidence: float
    heard_by: str
    vad: Isolation
    split: str = ""
    category: str = ""
    condition: str = ""
    file: str = ""
    sentence: str | None = None
    voice: str | None = None
    word: str | None = None
    truth: Isolation | None = None
    kind: str = "false"
    said: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def default_work() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "voicecoach" / "false-alarms"


GATED = True
"""Whether recognisers get the utterance gate (``--no-gate``: what the engines alone hear)."""
WAKE: str | None = None
"""The wake word commands must start with (``--wake``; "" the language's own), or None."""


def make_recognizer(language: str, engine: str) -> Recognizer:
    """The recogniser ``voicecoach listen --file --lang L --engine E`` makes."""
    return create_recognizer(language, engine, None, live=True, threaded=False,
                             gate=GATE if GATED else None, wake=WAKE)


def decode(recognizer: Recognizer, samples: np.ndarray) -> list:
    """As ``voicecoach listen --file`` decodes: block by block, as a live microphone."""
    return recognize_samples(recognizer, samples, MIC_BLOCK_SECONDS)


def sentence_isolation(stream: Stream, start: float, end: float) -> tuple[
        talkcorpus.Sentence | None, Isolation | None]:
    """The sentence being spoken at [start, end] and its gaps to its neighbours."""
    sentence = stream.sentence_at(start, end)
    if sentence is None:
        return None, None
    index = stream.sentences.index(sentence)
    previous = stream.sentences[index - 1].end if index else 0.0
    following = stream.sentences[index + 1].start if index + 1 < len(stream.sentences) \
        else stream.seconds
    return sentence, Isolation(round(sentence.start - previous, 3),
                               round(following - sentence.end, 3),
                               round(sentence.end - sentence.start, 3),
                               index == 0, index + 1 == len(stream.sentences),
                               round(sentence.end - end, 3))


def trigger_word(sentence: talkcorpus.Sentence, start: float, end: float,
                 heard_by: str) -> str:
    """The word of ``sentence`` most likely heard, by where the report falls in it
    (characters spread evenly over its time): an estimate, +/- a word."""
    at = end - 0.15 if heard_by == "spotter" else (start + end) / 2
    share = (at - sentence.start) / max(sentence.end - sentence.start, 1e-3)
    words = sentence.text.split()
    spans, position = [], 0
    for word in words:
        spans.append((position, position + len(word)))
        position += len(word) + 1
    target = min(max(share, 0.0), 1.0) * position
    index = min(range(len(words)), key=lambda i: abs((spans[i][0] + spans[i][1]) / 2 - target))
    return re.sub(r"[^\w']", "", words[index].lower()) or words[index]


def decode_talk(streams: list[Stream], language: str, engine: str
                ) -> tuple[list[Report], float]:
    """Every command the engine reports in the streams (all false), and decode seconds."""
    recognizer = make_recognizer(language, engine)
    reports: list[Report] = []
    spent = 0.0
    for stream in streams:
        samples = read_recording(stream.path)
        began = time.perf_counter()
        heard = decode(recognizer, samples)
        spent += time.perf_counter() - began
        runs = speech_runs(samples) if heard else []
        for found in heard:
            sentence, truth = sentence_isolation(stream, found.start, found.end)
            reports.append(Report(
                engine=engine, language=language, command=found.command, text=found.text,
                start=found.start, end=found.end, confidence=found.confidence,
                heard_by=found.engine, vad=isolation(runs, found.start, found.end,
                                                      stream.seconds),
                split=stream.split, category=stream.category, condition=stream.condition,
                file=str(stream.path), sentence=sentence.text if sentence else None,
                voice=sentence.voice if sentence else None,
                word=trigger_word(sentence, found.start, found.end, found.engine)
                if sentence else None, truth=truth))
        logger.info("%s %s: %d commands", engine, stream.path.name, len(heard))
    return reports, spent


def decode_commands(language: str, engine: str) -> tuple[list[Report], int, int]:
    """The commands.py set's commands heard right, with their isolation; and how many
    command cases there were, and how many were heard right."""
    from commandset import cases

    vocabulary = load_vocabulary(language)
    recognizer = make_recognizer(language, engine)
    noise = np.random.default_rng(7)
    reports: list[Report] = []
    total = 0
    for case in cases(language, vocabulary.commands):
        if case.expected is None:
            continue
        total += 1
        signal, start, end = case.audio(lead=COMMAND_LEAD, tail=COMMAND_LEAD)
        signal = np.clip(signal + talkcorpus.MIC_FLOOR
                         * noise.standard_normal(signal.size).astype(np.float32), -1, 1)
        heard = decode(recognizer, signal)
        if [h.command for h in heard] != [case.expected]:
            continue
        found = heard[0]
        seconds = signal.size / talkcorpus.RATE
        reports.append(Report(
            engine=engine, language=language, command=found.command, text=found.text,
            start=found.start, end=found.end, confidence=found.confidence,
            heard_by=found.engine, vad=isolation(speech_runs(signal), found.start,
                                                 found.end, seconds),
            condition=case.condition, voice=case.voice, kind=case.kind, said=case.text,
            truth=Isolation(round(start, 3), round(seconds - end, 3), round(end - start, 3),
                            True, True, round(end - found.end, 3))))
    return reports, total, len(reports)


# -- printing -------------------------------------------------------------------------
ENDING_COMMANDS = {"stop": "confirm_stop", "done": "confirm_done"}
"""The commands a live session confirms before acting (spoken stop, done mid-set), with
the question it asks."""


def question_seconds(language: str) -> dict[str, float]:
    """How long the coach's confirmation question takes to say, per ending command."""
    from voicecoach.planning.phrases import load_phrases
    from voicecoach.playback.speech import SpeechRenderer, default_voice

    phrases, speech = load_phrases(language), SpeechRenderer(default_voice(language))
    return {command: speech.duration(phrases.say(key))
            for command, key in ENDING_COMMANDS.items()}


def confirmed_endings(reports: list[Report], question: dict[str, float]) -> int:
    """Ending commands that would act despite the session's confirmation: a false stop or
    done followed, in the same stream, by the same false command before the question and
    the confirmation window (CONFIRM_SECONDS) are over. (Counted wherever they fall: done
    outside a set asks nothing and does nothing, so this over-counts done.)"""
    count = 0
    by_file: dict[str, list[Report]] = defaultdict(list)
    for report in reports:
        by_file[report.file].append(report)
    for same_file in by_file.values():
        same_file.sort(key=lambda r: r.end)
        asked: Report | None = None
        for report in same_file:
            if asked is not None and report.command == asked.command and \
                    report.end <= asked.end + question[asked.command] + CONFIRM_SECONDS:
                count += 1
                asked = None
            elif report.command in ENDING_COMMANDS:
                asked = report
            else:
                asked = None  # another command ends the question
    return count


def endings_line(language: str, reports: list[Report], hours: float) -> tuple[int, int]:
    """Print the false stop/done figures, alone and through the confirmation."""
    ending = sum(r.command in ENDING_COMMANDS for r in reports)
    confirmed = confirmed_endings(reports, question_seconds(language))
    print(f"  ending commands (stop, done): {ending} = {ending / hours:.1f} per hour; acting "
          f"through the session's confirmation (said again in time): {confirmed} = "
          f"{confirmed / hours:.2f} per hour")
    return ending, confirmed


def per_hour(count: int, seconds: float) -> str:
    return f"{count / (seconds / 3600):7.1f}" if seconds else "      -"


def summarise(engine: str, language: str, reports: list[Report], streams: list[Stream],
              spent: float) -> dict[str, object]:
    """Print and return false commands per hour by split, category and condition."""
    seconds: dict[str, float] = defaultdict(float)
    counts: Counter[str] = Counter()
    for stream in streams:
        for key in ("ALL", stream.split, stream.category, f"{stream.split}/{stream.category}",
                    f"condition {stream.condition}"):
            seconds[key] += stream.seconds
    for report in reports:
        for key in ("ALL", report.split, report.category, f"{report.split}/{report.category}",
                    f"condition {report.condition}"):
            counts[key] += 1
    audio = seconds["ALL"]
    print(f"\n[{language}] {engine}: {len(reports)} false commands in {audio / 60:.1f} min "
          f"= {len(reports) / (audio / 3600):.1f} per hour (decode {spent:.0f} s, "
          f"{spent / audio:.2f} x real time)")
    print(f"  {'':<26} {'minutes':>8} {'false':>6} {'per hour':>9}")
    table = {}
    for key in seconds:
        rate = per_hour(counts[key], seconds[key])
        print(f"  {key:<26} {seconds[key] / 60:8.1f} {counts[key]:6d} {rate:>9}")
        table[key] = {"minutes": round(seconds[key] / 60, 2), "false": counts[key],
                      "per_hour": round(counts[key] / (seconds[key] / 3600), 2)}
    by_command = Counter(r.command for r in reports)
    by_engine = Counter(r.heard_by for r in reports)
    print("  commands: " + ", ".join(f"{c} {n}" for c, n in by_command.most_common()))
    print("  heard by: " + ", ".join(f"{c} {n}" for c, n in by_engine.most_common()))
    confidences = sorted(r.confidence for r in reports)
    if confidences:
        print(f"  confidence: median {statistics.median(confidences):.2f}, "
              f">= 0.9: {sum(c >= 0.9 for c in confidences)} of {len(confidences)}")
    ending, confirmed = endings_line(language, reports, audio / 3600)
    words = Counter(f"{r.command} <- {r.word}" for r in reports if r.word)
    print("  estimated trigger words: " + ", ".join(f"{w} x{n}" for w, n in words.most_common(15)))
    sentences = Counter(r.sentence for r in reports if r.sentence)
    print("  top sentences:")
    for text, count in sentences.most_common(12):
        heard = Counter(r.command for r in reports if r.sentence == text)
        print(f"    {count} x {text!r} -> {', '.join(f'{c} {n}' for c, n in heard.items())}")
    return {"engine": engine, "language": language, "false": len(reports),
            "minutes": round(audio / 60, 2), "per_hour": round(len(reports) / (audio / 3600), 2),
            "decode_seconds": round(spent, 1), "table": table,
            "commands": dict(by_command), "heard_by": dict(by_engine),
            "ending": ending, "ending_confirmed": confirmed}


def _quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    q = np.percentile(values, [10, 50, 90])
    return f"{q[0]:5.2f} {q[1]:5.2f} {q[2]:5.2f}"


def compare(engine: str, language: str, false: list[Report], true: list[Report],
            heard: int, total: int, hours: dict[str, float]) -> dict[str, object]:
    """Print isolation features of true commands against false alarms, and rules."""
    print(f"\n[{language}] {engine}: isolation, true commands (commands.py set, heard right: "
          f"{heard} of {total}) vs false alarms ({len(false)})   10th / median / 90th pct")
    print(f"  {'feature':<34} {'true commands':>17} {'false, all':>17} {'false, tune':>17}")
    tune = [r for r in false if r.split == "tune"]
    rows = [("non-speech before run (s, VAD)", lambda r: r.vad.before),
            ("non-speech after run (s, VAD)", lambda r: r.vad.after),
            ("speech run length (s, VAD)", lambda r: r.vad.run),
            ("gap before sentence (s, truth)", lambda r: r.truth.before if r.truth else None),
            ("gap after sentence (s, truth)", lambda r: r.truth.after if r.truth else None),
            ("sentence length (s, truth)", lambda r: r.truth.run if r.truth else None),
            ("confidence", lambda r: r.confidence)]
    def values(items: list[Report], get: Callable[[Report], float | None]) -> list[float]:
        return [v for v in (get(r) for r in items) if v is not None]

    for name, get in rows:
        print(f"  {name:<34} {_quantiles(values(true, get)):>17} "
              f"{_quantiles(values(false, get)):>17} {_quantiles(values(tune, get)):>17}")
    kinds = Counter(r.kind for r in true)
    print(f"  true commands by kind: {dict(kinds)}; by engine: "
          f"{dict(Counter(r.heard_by for r in true))}")
    rules = []
    for after in AFTER_GRID:
        for run in RUN_GRID:
            for before in BEFORE_GRID:
                def keep(r: Report, after: float = after, run: float = run,
                         before: float = before) -> bool:
                    return r.vad.after >= after and r.vad.run <= run and r.vad.before >= before
                kept = [r for r in true if keep(r)]
                left = {split: sum(keep(r) for r in false if r.split == split)
                        for split in SPLITS}
                waits = [max(0.0, r.vad.tail) + max(after, HANGOVER_SECONDS) for r in kept]
                rules.append({"after": after, "run": run, "before": before,
                              "lost": len(true) - len(kept), "left_tune": left["tune"],
                              "left_held_out": left["held-out"],
                              "wait_median": round(statistics.median(waits), 3) if waits else None,
                              "wait_p90": round(float(np.percentile(waits, 90)), 3)
                              if waits else None})
    hours_tune, hours_held = hours.get("tune", 0.0), hours.get("held-out", 0.0)

    def rate(count: int, h: float) -> str:
        return f"{count / h:6.1f}" if h else "     -"
    print("  rules 'keep a report only if its speech run lasts <= R s, with >= A s of "
          "non-speech after it and >= B s before' (R and B fitted on tune for each A; wait = "
          "from the report to the decision, run tail + max(A, detector hangover "
          f"{HANGOVER_SECONDS} s), median / p90 over the commands kept):")
    print(f"    {'A after':>7} {'lost <=':>8} {'R run':>6} {'B before':>8} {'lost':>5} "
          f"{'false/h tune':>12} {'held-out':>8} {'wait':>12}")
    chosen = []
    for after in AFTER_GRID:
        for budget in (1, 5):
            within = [r for r in rules if r["after"] == after
                      and r["lost"] <= budget * heard / 100]
            if not within:
                continue
            best = min(within, key=lambda r: (r["left_tune"], r["lost"], -r["run"]))
            chosen.append({**best, "budget_pct": budget})
            wait = f"{best['wait_median']:.2f} / {best['wait_p90']:.2f}" \
                if best["wait_median"] is not None else "-"
            print(f"    {after:7.2f} {budget:7d}% {best['run'] if best['run'] < 99 else 'any':>6} "
                  f"{best['before']:8.2f} {best['lost']:5d} "
                  f"{rate(best['left_tune'], hours_tune):>12} "
                  f"{rate(best['left_held_out'], hours_held):>8} {wait:>12}")
    practical = [c for c in chosen if c["after"] == LEFTOVER_AFTER]  # the smallest budget
    if practical:
        rule = practical[0]
        left = [r for r in false if r.vad.after >= rule["after"] and r.vad.run <= rule["run"]
                and r.vad.before >= rule["before"]]
        print(f"    left by A {rule['after']}, R {rule['run']}, B {rule['before']}: "
              f"{len(left)}; by category: "
              + ", ".join(f"{c} {n}" for c, n in Counter(r.category for r in left).most_common())
              + "; by command: "
              + ", ".join(f"{c} {n}" for c, n in Counter(r.command for r in left).most_common())
              + "; heard by: "
              + ", ".join(f"{c} {n}" for c, n in Counter(r.heard_by for r in left).most_common())
              + "; by voice: "
              + ", ".join(f"{c} {n}" for c, n in Counter(r.voice for r in left).most_common(6)))
        for text, count in Counter(r.sentence or f"({r.category})" for r in left).most_common(8):
            print(f"      {count} x {text}")
        # The same rule with a perfect speech detector: the sidecar's sentence times (music
        # alone has no sentence: nothing there is speech, so its reports stay).
        exact = [r for r in false if (r.truth is None and r.vad.run <= rule["run"]) or (
            r.truth is not None and r.truth.after >= rule["after"]
            and r.truth.run <= rule["run"] and r.truth.before >= rule["before"])]
        lost = sum(not (r.truth and r.truth.run <= rule["run"]) for r in true)
        print(f"    the same rule on the true sentence times (a perfect detector): "
              f"{len(exact)} false alarms left "
              + ", ".join(f"{split} {rate(sum(r.split == split for r in exact), h).strip()}/h"
                          for split, h in (("tune", hours_tune), ("held-out", hours_held)))
              + f"; commands lost {lost}; by category: "
              + ", ".join(f"{c} {n}" for c, n in Counter(r.category for r in exact).most_common()))
    print("    run length alone (A = B = 0): " + ", ".join(
        f"R {r['run'] if r['run'] < 99 else 'any'}: lost {r['lost']}, "
        f"{rate(r['left_tune'], hours_tune).strip()}/h tune"
        for r in rules if r["after"] == 0 and r["before"] == 0))
    return {"engine": engine, "language": language, "true_heard": heard, "true_total": total,
            "rules": chosen}


def _report(data: dict[str, object]) -> Report:
    fields = dict(data)
    fields["vad"] = Isolation(**fields["vad"])  # type: ignore[arg-type]
    if fields.get("truth"):
        fields["truth"] = Isolation(**fields["truth"])  # type: ignore[arg-type]
    return Report(**fields)  # type: ignore[arg-type]


def analyse(paths: list[Path]) -> int:
    """The isolation analysis again, from the reports saved by earlier ``--json`` runs;
    runs of the same language and engine (e.g. another category, decoded with
    ``--no-commands``) are pooled."""
    pooled: dict[tuple[str, str], dict[str, object]] = {}
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        for summary in data["summaries"]:
            key = (summary["language"], summary["engine"])
            entry = pooled.setdefault(key, {"false": [], "true": [], "found": None,
                                            "hours": defaultdict(float)})
            for split in SPLITS:
                entry["hours"][split] += summary["table"].get(split, {}).get(  # type: ignore[index]
                    "minutes", 0.0) / 60
            entry["false"] += [_report(r) for r in data["false_alarms"]  # type: ignore[operator]
                               if (r["language"], r["engine"]) == key]
            true = [_report(r) for r in data["true_commands"]
                    if (r["language"], r["engine"]) == key]
            found = [a for a in data["analysis"] if (a["language"], a["engine"]) == key]
            if found and not entry["found"]:
                entry["true"], entry["found"] = true, found[0]
    for (language, engine), entry in pooled.items():
        false: list[Report] = entry["false"]  # type: ignore[assignment]
        hours: dict[str, float] = entry["hours"]  # type: ignore[assignment]
        total = sum(hours.values())
        print(f"\n[{language}] {engine}: {len(false)} false commands in {total * 60:.1f} min = "
              f"{len(false) / total:.1f} per hour; by category: " + ", ".join(
                  f"{c} {n}" for c, n in Counter(r.category for r in false).most_common()))
        endings_line(language, false, total)
        found = entry["found"]
        if not found:
            print(f"[{language}] {engine}: no true commands in {', '.join(map(str, paths))}")
            continue
        compare(engine, language, false, entry["true"], found["true_heard"],  # type: ignore[arg-type,index]
                found["true_total"], hours)  # type: ignore[index]
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", nargs="+", default=["en", "ko"])
    parser.add_argument("--engine", nargs="+", help="engines (default: all measured for "
                        "the language: en hybrid spotter pocketsphinx, ko spotter vosk)")
    parser.add_argument("--minutes", type=float, default=12.5,
                        help="minutes of each category in each split (default 12.5: a "
                             "category's streams rotate clean, music, pink, reverb, far, so "
                             "each once; about 3 hours per language with both splits; 5 "
                             "gives the clean and music streams only)")
    parser.add_argument("--from-stream", type=int, default=0, metavar="N",
                        help="only each category's streams N and later (to extend an "
                             "earlier run to more --minutes; pool them with --analyse)")
    parser.add_argument("--split", choices=["tune", "held-out", "all"], default="all")
    parser.add_argument("--category", nargs="+", choices=CATEGORIES, default=list(CATEGORIES))
    parser.add_argument("--work", type=Path, default=default_work(),
                        help="where the generated streams are cached")
    parser.add_argument("--keep", action="store_true",
                        help="reuse streams already generated in --work")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="write every false alarm (with its sentence), the summaries and "
                             "the isolation analysis here")
    parser.add_argument("--no-commands", action="store_true",
                        help="skip the true commands (commands.py set) of the isolation "
                             "analysis")
    parser.add_argument("--generate-only", action="store_true",
                        help="make (or with --keep, complete) the corpus and stop")
    parser.add_argument("--analyse", type=Path, nargs="+", metavar="JSON",
                        help="only redo the isolation analysis from earlier --json files")
    parser.add_argument("--no-gate", action="store_true",
                        help="without the utterance gate (what the engines alone report)")
    parser.add_argument("--wake", nargs="?", const="", metavar="WORD",
                        help="commands must start with a wake word (default: the "
                             "language's, e.g. coach), as `run --wake` hears them")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    global GATED, WAKE
    GATED, WAKE = not args.no_gate, args.wake
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    if args.analyse:
        return analyse(args.analyse)
    splits = list(SPLITS) if args.split == "all" else [args.split]
    output: dict[str, object] = {"args": {k: str(v) for k, v in vars(args).items()},
                                 "summaries": [], "analysis": [], "false_alarms": [],
                                 "true_commands": []}
    for language in args.lang:
        began = time.perf_counter()
        streams = talkcorpus.corpus(language, splits, args.category, args.minutes,
                                    args.work, args.keep, args.from_stream)
        hours: dict[str, float] = defaultdict(float)
        for stream in streams:
            hours[stream.split] += stream.seconds / 3600
        print(f"[{language}] corpus: {len(streams)} streams, "
              f"{sum(hours.values()) * 60:.1f} min ({time.perf_counter() - began:.0f} s) in "
              f"{args.work / language}")
        if args.generate_only:
            continue
        for engine in args.engine or ENGINES[language]:
            if engine not in ENGINES[language] + ["auto", "hybrid"]:  # ko hybrid: --wake
                print(f"[{language}] {engine}: not measured for this language")
                continue
            false, spent = decode_talk(streams, language, engine)
            output["summaries"].append(summarise(engine, language, false, streams, spent))  # type: ignore[union-attr]
            output["false_alarms"] += [asdict(r) for r in false]  # type: ignore[operator]
            if not args.no_commands:
                true, total, heard = decode_commands(language, engine)
                output["true_commands"] += [asdict(r) for r in true]  # type: ignore[operator]
                output["analysis"].append(compare(engine, language, false, true, heard,  # type: ignore[union-attr]
                                                  total, hours))
            if args.json:
                args.json.write_text(json.dumps(output, ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
