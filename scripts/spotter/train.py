"""Train a command spotter: synthetic speech streams -> speech embeddings -> MLP -> .npz.

    scripts/dev scripts/spotter/train.py --lang en|ko [--streams N] [--seed S]
                                    [--out voicecoach/data/spotter-LANG.npz] [--work DIR]

The data recipe, cost and held-out voices are in README.md next to this file.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # one core: set before numpy loads its BLAS

import argparse
import random
import re
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

import speechgen
from export import CLASSES, EMBEDDING_SIZE, FRAMES, export
from voicewarp import warp_voice

from voicecoach.audio import as_mono_float
from voicecoach.commands import SPOKEN_COMMANDS, load_vocabulary, words_of
from voicecoach.paths import prompts_dir
from voicecoach.recognition.base import add_dither
from voicecoach.recognition.spotter import FRAME_SAMPLES, SPOTTER_TUNING, embed_stream

RATE = speechgen.RATE
LEAD_SECONDS = 2.0
SEGMENTS = 18
POSITIVE_SECONDS = 0.45
"""Frames whose audio ends within this long after a command's end are labelled with it."""
CHUNK = 80
"""Streams per work file (~55 min of audio, ~2.5 min of one core)."""
DEFAULT_STREAMS = {"en": 1600, "ko": 400}
"""English: 20 chunks (the shipped model, 2026-12-03); Korean: as many as the prototype's."""
IGNORE = -1

Piece = tuple[np.ndarray, int, bool]
"""Audio, label (command class, 0 none, IGNORE) and whether it follows without a gap
(a joined piece with a command label is the rest of a longer alias: ending_in_alias)."""


@dataclass(frozen=True)
class Recipe:
    """What one language's training streams are made of (words_<lang>.toml + prompts/)."""

    aliases: dict[str, tuple[str, ...]]
    filler: list[str]
    numbers: list[str]
    prefixes: list[str]
    suffixes: list[str]
    suffix_fallback: str
    benchmark_phrases: set[str]
    gym: list[str]
    gym_ambiguous: set[str]
    carriers: list[str]
    command_words: re.Pattern[str]
    languages: list[str]
    always_variant: set[str]
    variant_share: float
    variants: list[str]
    other_voices: list[str]
    other_voice_share: float
    warp_share: float
    warp_semitones: tuple[float, float]
    warp_formants: tuple[float, float]
    augment_share: float
    filler_prefix_share: float
    hidden_units: int
    turns: dict[str, float]
    replies: list[str]
    reply_none: re.Pattern[str] | None
    templates: list[str]
    placeholders: dict[str, list[str]]


def _normal(text: str) -> str:
    return " ".join(words_of(text))


def hangul_carriers(count: int = 3000) -> list[str]:
    """Pseudo-words: one Hangul syllable said 1-3 times (a fixed list; the prototype's)."""
    syllables = [chr(code) for code in range(0xAC00, 0xD7A4, 37)]
    return ["".join(random.Random(i).choice(syllables)
                    for _ in range(random.Random(i + 9).randint(1, 3))) for i in range(count)]


TURNS = {"command": 0.30, "coach": 0.15, "filler": 0.15, "carriers": 0.20, "gym": 0.15,
         "replies": 0.0, "silence": 0.05}
"""Shares of the kinds of turn a stream is made of (``turns`` in words_<lang>.toml
overrides them)."""


REPLY_PREFIX_SHARE = 0.3
"""Share of prefixed commands whose prefix is a short reply ("좋아요, 다음"): taught that
a reply alone is no command, the spotter must still hear a command said after one."""


def reply_prefixes(recipe: Recipe) -> list[str]:
    """The recipe's replies without a command word, as prefixes of a command."""
    return [reply for reply in recipe.replies if not recipe.command_words.search(reply)]


def short_replies(files: list[str]) -> list[str]:
    """Lines of the reply files (paths relative to the repo), comments and blanks left out."""
    lines = []
    for name in files:
        text = (REPO / name).read_text(encoding="utf-8")
        lines += [line.strip() for line in text.splitlines()
                  if line.strip() and not line.startswith("#")]
    return lines


def load_recipe(lang: str) -> Recipe:
    with (HERE / f"words_{lang}.toml").open("rb") as handle:
        words = tomllib.load(handle)
    with (HERE / "voices.toml").open("rb") as handle:
        voices = tomllib.load(handle)
    with (prompts_dir() / lang / "phrases.toml").open("rb") as handle:
        phrases = tomllib.load(handle)
    vocabulary = load_vocabulary(lang)
    exclude = re.compile(words["carrier_exclude"])
    carriers = ((HERE / words["carrier_file"]).read_text(encoding="utf-8").split()
                if words["carrier_file"] else hangul_carriers())
    lists = {"numbers": words["numbers"], "side": list(phrases["sides"].values())}
    for name, value in words["placeholders"].items():
        lists[name] = value if isinstance(value, list) else lists[value]
    return Recipe(
        aliases={name: vocabulary.commands[name] for name in SPOKEN_COMMANDS},
        filler=list(vocabulary.filler), numbers=words["numbers"],
        prefixes=words["prefixes"], suffixes=words["suffixes"],
        suffix_fallback=words["suffix_fallback"],
        benchmark_phrases={_normal(p) for p in words["benchmark_phrases"]},
        gym=words["gym"], gym_ambiguous=set(words["gym_ambiguous"]),
        carriers=[w for w in carriers if not exclude.search(w)],
        command_words=re.compile(words["command_words"], re.IGNORECASE),
        languages=words["languages"], always_variant=set(words["always_variant"]),
        variant_share=words["variant_share"],
        variants=[v for v in voices["variants"] if v not in voices["held_out"]],
        other_voices=words.get("other_voices", []),
        other_voice_share=words.get("other_voice_share", 0.0),
        warp_share=words.get("warp_share", 0.0),
        warp_semitones=tuple(words.get("warp_semitones", (0.0, 0.0))),
        warp_formants=tuple(words.get("warp_formants", (1.0, 1.0))),
        augment_share=words["augment_share"], filler_prefix_share=words["filler_prefix_share"],
        hidden_units=words.get("hidden_units", 64),
        turns={**TURNS, **words.get("turns", {})},
        replies=short_replies(words.get("reply_files", [])),
        reply_none=(re.compile(words["reply_none"], re.IGNORECASE) if "reply_none" in words
                    else None),
        templates=list(phrases["say"].values()),
        placeholders={name: lists[name] for name in
                      ("workout", "exercise", "n", "total", "side", "reps", "count", "say",
                       "seconds")})


def coach_phrases(rng: random.Random, recipe: Recipe) -> list[str]:
    """Every coach template of prompts/<lang>/phrases.toml, filled in three times."""
    return [template.format(**{name: rng.choice(values)
                               for name, values in recipe.placeholders.items()})
            for template in recipe.templates for _ in range(3)]


def voice(rng: random.Random, recipe: Recipe) -> str:
    if recipe.other_voices and rng.random() < recipe.other_voice_share:
        return rng.choice(recipe.other_voices)
    language = rng.choice(recipe.languages)
    if language in recipe.always_variant or rng.random() < recipe.variant_share:
        return f"{language}+{rng.choice(recipe.variants)}"
    return language


def augmentation(rng: random.Random) -> list[str]:
    """Random sox effects for acoustic variety beyond espeak-ng's formant sound."""
    effects: list[str] = []
    if rng.random() < 0.5:
        # sox's pitch effect lowers the rate: resample, or the filters below may not fit.
        effects += ["pitch", str(rng.randint(-400, 400)), "rate", str(RATE)]
    if rng.random() < 0.4:
        effects += ["equalizer", str(rng.choice([300, 800, 1500, 2500, 4000])), "1.0q",
                    str(rng.randint(-10, 10))]
    if rng.random() < 0.3:
        effects += ["lowpass", str(rng.randint(3000, 7000))]
    if rng.random() < 0.3:
        effects += ["highpass", str(rng.randint(100, 400))]
    if rng.random() < 0.3:
        effects += ["reverb", str(rng.randint(10, 50)), "50", str(rng.randint(10, 60))]
    if rng.random() < 0.2:
        effects += ["overdrive", str(rng.randint(2, 10))]
    if rng.random() < 0.2:
        effects += ["tremolo", str(rng.uniform(3, 7)), str(rng.randint(10, 30))]
    return effects


Warp = tuple[float, float] | None
"""A speaker warp (semitones, formant scale) for voicewarp.warp_voice, or None."""


def speaker_warp(rng: random.Random, recipe: Recipe) -> Warp:
    if rng.random() >= recipe.warp_share:
        return None
    return rng.uniform(*recipe.warp_semitones), rng.uniform(*recipe.warp_formants)


def speak(rng: random.Random, text: str, voice_name: str, speed: int, pitch: int,
          augment: bool, warp: Warp = None) -> np.ndarray:
    """One utterance at RATE, maybe time-stretched, augmented and speaker-warped, trimmed."""
    tempo = rng.choice([1.0, 1.0, 1.0, rng.uniform(0.8, 1.2)])
    effects = augmentation(rng) if augment and rng.random() < 0.7 else []
    audio = speechgen.say(text, voice_name, speed, tempo=tempo, pitch=pitch, effects=effects)
    return audio if warp is None or not audio.size else warp_voice(audio, RATE, *warp)


def shorter_alias_rest(aliases: tuple[str, ...], alias: str) -> str:
    """The words of ``alias`` after a shorter alias of the same command it begins with
    ("step" of "next step", when "next" is an alias too), else ""."""
    words, known = words_of(alias), {_normal(other) for other in aliases}
    for size in range(len(words) - 1, 0, -1):
        if " ".join(words[:size]) in known:
            return " ".join(words[size:])
    return ""


def ending_in_alias(say: Callable[[str], np.ndarray], text: str, rest: str, label: int
                    ) -> list[Piece]:
    """``text``, which ends with a command alias, as pieces. When the alias begins with a
    shorter one (``rest`` is what follows it), the rest is a piece of its own, joined and
    labelled: the command may fire at the shorter alias or after the rest, both right,
    so those frames are ignored (else the spotter learns to wait after every "next")."""
    whole = say(text)
    if not rest:
        return [(whole, label, False)]
    cut = max(int(0.2 * RATE), whole.size - say(rest).size)
    return [(whole[:cut], 0, False), (whole[cut:], label, True)]


def command(rng: random.Random, recipe: Recipe, say: Callable[[str], np.ndarray],
            filler_prefix: bool) -> list[Piece]:
    """A command alone, after a prefix, or before a suffix (never a benchmark phrase)."""
    index = rng.randrange(len(SPOKEN_COMMANDS))
    label = index + 1
    aliases = recipe.aliases[SPOKEN_COMMANDS[index]]
    alias = rng.choice(aliases)
    rest = shorter_alias_rest(aliases, alias)
    form = rng.random()
    if form < 0.4:
        return ending_in_alias(say, alias, rest, label)
    if form < 0.7:
        prefix = rng.choice(recipe.prefixes)
        if filler_prefix and rng.random() < 0.4:
            prefix = " ".join(rng.choice(recipe.filler + recipe.numbers)
                              for _ in range(rng.randint(1, 2)))
        if recipe.replies and rng.random() < REPLY_PREFIX_SHARE:
            prefix = rng.choice(reply_prefixes(recipe)).rstrip(".!?")
        if _normal(f"{prefix} {alias}") in recipe.benchmark_phrases:
            prefix = recipe.prefixes[0]
        text = f"{prefix}, {alias}" if rng.random() < 0.5 else f"{prefix} {alias}"
        return ending_in_alias(say, text, rest, label)  # the command ends with the rendering
    suffix = rng.choice(recipe.suffixes)
    if _normal(f"{alias} {suffix}") in recipe.benchmark_phrases:
        suffix = recipe.suffix_fallback
    if rng.random() < 0.5:  # one rendering (natural prosody); command end estimated
        whole, tail = say(f"{alias} {suffix}"), say(suffix)
        cut = max(int(0.2 * RATE), whole.size - tail.size)
        if rest:
            first = min(cut - int(0.1 * RATE),
                        max(int(0.2 * RATE), whole.size - say(f"{rest} {suffix}").size))
            return [(whole[:first], 0, False), (whole[first:cut], label, True),
                    (whole[cut:], 0, True)]
        return [(whole[:cut], label, False), (whole[cut:], 0, True)]
    pieces = [*ending_in_alias(say, alias, rest, label), (say(suffix), 0, False)]
    if rng.random() < 0.4:
        pieces.insert(0, (say(rng.choice(recipe.prefixes)), 0, False))
    return pieces


def segment(rng: random.Random, recipe: Recipe, coach: list[str], augment: bool,
            filler_prefix: bool) -> list[Piece]:
    """One turn of the stream: a command, a negative or silence (shares: ``recipe.turns``)."""
    voice_name, speed, pitch = voice(rng, recipe), rng.randint(110, 210), rng.randint(15, 85)
    warp = speaker_warp(rng, recipe)

    def say(text: str) -> np.ndarray:
        return speak(rng, text, voice_name, speed, pitch, augment, warp)

    kind = turn_kind(rng.random(), recipe.turns)
    if kind == "command":
        return command(rng, recipe, say, filler_prefix)
    if kind in ("coach", "replies"):
        text = rng.choice(coach if kind == "coach" else recipe.replies)
        return [(say(text), negative_label(text, recipe, reply=kind == "replies"), False)]
    if kind == "filler":
        text = " ".join(rng.choice(recipe.filler + recipe.numbers)
                        for _ in range(rng.randint(1, 3)))
        return [(say(text), 0, False)]
    if kind == "carriers":
        text = " ".join(rng.choice(recipe.carriers) for _ in range(rng.choice([1, 1, 2, 2, 3, 4])))
        return [(say(text), 0, False)]
    if kind == "gym":
        text = rng.choice(recipe.gym)
        return [(say(text), IGNORE if text in recipe.gym_ambiguous else 0, False)]
    return [(np.zeros(int(rng.uniform(0.5, 2.0) * RATE), np.float32), 0, False)]


def negative_label(text: str, recipe: Recipe, reply: bool = False) -> int:
    """"none" for a negative, or IGNORE when a command word in it may rightly fire; a
    reply matching ``recipe.reply_none`` ("well done") is "none" all the same."""
    if reply and recipe.reply_none is not None and recipe.reply_none.search(text):
        return 0
    return IGNORE if recipe.command_words.search(text) else 0


def turn_kind(draw: float, turns: dict[str, float]) -> str:
    """The kind of turn a uniform ``draw`` in [0, 1) picks, by the shares in ``turns``
    (in TURNS' order, so a recipe without replies draws as before they existed)."""
    total = 0.0
    for kind in TURNS:
        total += turns[kind]
        if draw < total:
            return kind
    return "silence"


def background(rng: random.Random, signal: np.ndarray) -> np.ndarray:
    """None, pink noise, a music bed, or brown/white noise, at a random SNR."""
    seconds, choice = signal.size / RATE, rng.random()
    if choice < 0.3:
        return signal
    if choice < 0.55:
        return speechgen.mix_at_snr(signal, speechgen.pink_noise(seconds, rng.randrange(10**6)),
                                    rng.uniform(3, 25))
    if choice < 0.8:
        bed = speechgen.music_bed(seconds, rng.randrange(10**6), bpm=rng.uniform(80, 160))
        return speechgen.mix_at_snr(signal, bed, rng.uniform(3, 22))
    white = np.random.default_rng(rng.randrange(10**6)).standard_normal(signal.size)
    brown = np.cumsum(white)
    brown -= np.convolve(brown, np.ones(4000) / 4000, "same")
    bed = brown / (brown.std() + 1e-9) if rng.random() < 0.5 else white
    return speechgen.mix_at_snr(signal, bed.astype(np.float32), rng.uniform(8, 30))


def stream(rng: random.Random, recipe: Recipe, coach: list[str]
           ) -> tuple[np.ndarray, list[tuple[int, float]], list[tuple[float, float]]]:
    """A stream, its command ends (class, s) and its ignored spans (start s, end s)."""
    augment = rng.random() < recipe.augment_share
    filler_prefix = rng.random() < recipe.filler_prefix_share
    parts = [np.zeros(int(LEAD_SECONDS * RATE), np.float32)]
    position = parts[0].size
    events: list[tuple[int, float]] = []
    ignores: list[tuple[float, float]] = []
    for _ in range(SEGMENTS):
        for k, (audio, label, joined) in enumerate(segment(rng, recipe, coach, augment,
                                                           filler_prefix)):
            if k and not joined:
                parts.append(np.zeros(int(rng.uniform(0.0, 0.12) * RATE), np.float32))
                position += parts[-1].size
            parts.append(audio)
            if label > 0:
                events.append((label, (position + audio.size) / RATE))
                if joined:  # the rest of a longer alias: see ending_in_alias
                    ignores.append((position / RATE - 0.25, (position + audio.size) / RATE - 0.5))
            elif label == IGNORE:
                ignores.append((position / RATE, (position + audio.size) / RATE))
            position += audio.size
        parts.append(np.zeros(int(rng.uniform(0.3, 1.6) * RATE), np.float32))
        position += parts[-1].size
    signal = background(rng, np.concatenate(parts) * rng.uniform(0.3, 1.0))
    if rng.random() < 0.5:  # microphone floor
        noise = np.random.default_rng(rng.randrange(10**6)).standard_normal(signal.size)
        signal = signal + 0.003 * noise.astype(np.float32)
    return np.clip(signal, -1, 1).astype(np.float32), events, ignores


def labels(count: int, events: list[tuple[int, float]],
           ignores: list[tuple[float, float]]) -> np.ndarray:
    """Per embedding frame: the command that ended in the last POSITIVE_SECONDS, IGNORE
    just before that zone, after it, inside ambiguous speech and at the start, else 0."""
    ends = (np.arange(count) + 1) * FRAME_SAMPLES / RATE
    y = np.zeros(count, np.int64)
    y[:FRAMES] = IGNORE
    for start, end in ignores:
        y[(ends > start + 0.1) & (ends < end + 0.5)] = IGNORE
    for label, end in events:
        y[(ends >= end - 0.16) & (ends < end)] = IGNORE
        y[(ends >= end + POSITIVE_SECONDS) & (ends < end + 0.75)] = IGNORE
        y[(ends >= end) & (ends < end + POSITIVE_SECONDS)] = label
    return y


def heard(signal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What the spotter's front end gets from ``signal``: the recogniser's dither added."""
    return add_dither(as_mono_float(signal), SPOTTER_TUNING.dither, rng)


def claim(path: Path) -> bool:
    """Whether this process should make ``path``: it is not there and no other process
    has claimed it (several processes may share a --work folder, one chunk each)."""
    if path.exists():
        return False
    try:
        path.with_suffix(".claim").touch(exist_ok=False)
    except FileExistsError:
        return False
    return True


def generate(lang: str, recipe: Recipe, streams: int, seed: int, work: Path) -> list[Path]:
    """Embeddings and labels of the training streams, CHUNK streams per file in ``work``;
    files already there are reused (delete them after changing the recipe). Start more
    processes on the same folder to use more cores; each waits for the others' chunks."""
    files = []
    for k, first in enumerate(range(0, streams, CHUNK)):
        size = min(CHUNK, streams - first)
        path = work / f"{lang}-seed{seed}-{k:03d}-{size}.npz"
        files.append(path)
        if not claim(path):
            continue
        rng = random.Random(seed * 1000 + k)
        coach = coach_phrases(rng, recipe)
        embeddings, targets, seconds, started = [], [], 0.0, time.time()
        for _ in range(size):
            signal, events, ignores = stream(rng, recipe, coach)
            frames = embed_stream(heard(signal, np.random.default_rng(rng.randrange(10**6))))
            embeddings.append(frames.astype(np.float16))
            targets.append(labels(frames.shape[0], events, ignores))
            seconds += signal.size / RATE
        np.savez(path.with_suffix(".tmp.npz"), X=np.array(embeddings, dtype=object),
                 Y=np.array(targets, dtype=object), seconds=seconds)
        path.with_suffix(".tmp.npz").rename(path)
        path.with_suffix(".claim").unlink()
        print(f"streams {first + size}/{streams}: {seconds / 60:.0f} min of audio in "
              f"{time.time() - started:.0f} s", flush=True)
    while not all(path.exists() for path in files):
        time.sleep(5)  # chunks that another process is making
    return files


def windows(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Training windows (n, FRAMES * 96) ending at every labelled frame, and their labels.
    Filled into one preallocated array: concatenating per-stream pieces would need twice
    the memory at the peak."""
    def kept(y: np.ndarray) -> np.ndarray:
        ends = np.arange(FRAMES - 1, y.size)
        return ends[y[ends] >= 0]

    total = 0
    for path in files:
        with np.load(path, allow_pickle=True) as data:
            total += sum(kept(y).size for y in data["Y"])
    inputs = np.empty((total, FRAMES * EMBEDDING_SIZE), np.float32)
    targets = np.empty(total, np.int64)
    row = 0
    for path in files:
        with np.load(path, allow_pickle=True) as data:
            for frames, y in zip(data["X"], data["Y"]):
                keep = kept(y)
                index = keep[:, None] + np.arange(-FRAMES + 1, 1)[None, :]
                inputs[row:row + keep.size] = (frames.astype(np.float32)[index]
                                               .reshape(keep.size, -1))
                targets[row:row + keep.size] = y[keep]
                row += keep.size
    return inputs, targets


def train(inputs: np.ndarray, targets: np.ndarray, seed: int, hidden: int) -> Pipeline:
    """StandardScaler -> MLP(``hidden`` ReLU, alpha 0.1), early stopping on 10% of the
    windows."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    check_classes(targets)
    # The scaler standardises the windows in place while fitting (a copy would be as big
    # as the whole training set); afterwards it copies again, as export expects.
    model = make_pipeline(StandardScaler(copy=False),
                          MLPClassifier((hidden,), alpha=0.1, max_iter=60, early_stopping=True,
                                        random_state=seed))
    model.fit(inputs, targets)
    return model.set_params(standardscaler__copy=True)


def fine_tune(inputs: np.ndarray, targets: np.ndarray, seed: int, start: Path,
              epochs: int, learning_rate: float) -> Pipeline:
    """The model in the weight file ``start``, trained further on these windows: its
    scaler kept as it is, its MLP's weights as the starting point (alpha 0.1, early
    stopping on 10% of the windows, at most ``epochs`` epochs at ``learning_rate``)."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    check_classes(targets)
    with np.load(start) as weights:
        mean, scale = weights["mean"].astype(np.float64), weights["scale"].astype(np.float64)
        coefs = [weights["w1"].astype(np.float64), weights["w2"].astype(np.float64)]
        intercepts = [weights["b1"].astype(np.float64), weights["b2"].astype(np.float64)]
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_, scaler.var_ = mean, scale, scale ** 2
    scaler.n_features_in_, scaler.n_samples_seen_ = mean.size, 1
    inputs -= mean.astype(np.float32)  # in place: a copy would double the peak memory
    inputs /= scale.astype(np.float32)
    mlp = MLPClassifier((coefs[0].shape[1],), alpha=0.1, max_iter=epochs,
                        warm_start=True, learning_rate_init=learning_rate, random_state=seed)
    # One step on a window of each class sets up the classifier; the start's weights then
    # replace what it learnt, and fit() goes on from them (warm_start). partial_fit
    # cannot stop early, so early stopping's bookkeeping starts afresh here.
    setup = [int(np.flatnonzero(targets == c)[0]) for c in range(len(CLASSES))]
    mlp.partial_fit(inputs[setup], targets[setup], classes=np.arange(len(CLASSES)))
    mlp.coefs_, mlp.intercepts_ = coefs, intercepts
    mlp.set_params(early_stopping=True)
    mlp.validation_scores_, mlp.best_validation_score_, mlp.best_loss_ = [], -np.inf, None
    mlp.fit(inputs, targets)
    return make_pipeline(scaler, mlp)


def check_classes(targets: np.ndarray) -> None:
    missing = [CLASSES[c] for c in range(len(CLASSES)) if not (targets == c).any()]
    if missing:
        raise SystemExit(f"no training frames of {', '.join(missing)}: use more --streams")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", required=True, choices=sorted(DEFAULT_STREAMS))
    parser.add_argument("--streams", type=int,
                        help=f"training streams of ~40 s (default {DEFAULT_STREAMS})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="default voicecoach/data/spotter-LANG.npz")
    parser.add_argument("--work", type=Path,
                        help="keep the generated streams here and reuse them "
                             "(default: a temporary folder, removed at the end)")
    parser.add_argument("--generate-only", action="store_true",
                        help="make this run's share of the streams in --work, then stop "
                             "(beside a full run on the same --work, to use another core)")
    parser.add_argument("--init", type=Path,
                        help="fine-tune this weight file (e.g. the shipped model) instead of "
                             "training from scratch")
    parser.add_argument("--epochs", type=int, default=10, help="at most, with --init")
    parser.add_argument("--learning-rate", type=float, default=3e-4, help="with --init")
    args = parser.parse_args()
    streams = args.streams or DEFAULT_STREAMS[args.lang]
    out = args.out or REPO / "voicecoach" / "data" / f"spotter-{args.lang}.npz"
    recipe = load_recipe(args.lang)
    with tempfile.TemporaryDirectory(prefix="spotter-") as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        files = generate(args.lang, recipe, streams, args.seed, work)
        if args.generate_only:
            return
        inputs, targets = windows(files)
    print(f"windows {inputs.shape[0]}, per class {np.bincount(targets, minlength=len(CLASSES))}",
          flush=True)
    started = time.time()
    model = (fine_tune(inputs, targets, args.seed, args.init, args.epochs, args.learning_rate)
             if args.init else train(inputs, targets, args.seed, recipe.hidden_units))
    mlp = model[-1]
    print(f"fit {time.time() - started:.0f} s, {mlp.n_iter_} epochs, "
          f"validation accuracy {mlp.best_validation_score_:.4f}")
    export(model, out)
    print(f"{out}: {out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
