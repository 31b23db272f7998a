"""Text -> speech PCM through pyttsx3's espeak-ng driver, trimmed, normalised and cached.

Every clip is shaped so the timeline can trust it: the speech onset is sample 0 (a
count's onset *is* its cue time), trailing silence is gone (so ``duration`` is the
spoken length), and every phrase has the same loudness. Processed clips are cached on
disk as 16-bit WAVs keyed by engine, voice, rate and text, so a cache hit needs no
synthesis and several processes can share the cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import wave
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach import paths
from voicecoach.audio import (
    PLAYBACK_RATE,
    from_int16,
    read_wav,
    resample,
    to_int16,
    write_wav_atomic,
)
from voicecoach.errors import InputError, MissingDependencyError, OutputError

logger = logging.getLogger(__name__)

DRIVER = "espeak"
MIN_RATE, MAX_RATE = 80, 450  # words per minute espeak-ng accepts

ONSET_THRESHOLD_DB = -40.0  # relative to the clip's peak: first sample this loud is the onset
TAIL_THRESHOLD_DB = -45.0  # relative to peak: last sample this loud ends the speech
PRE_ROLL_S = 0.001  # kept before the onset, faded in, so the cut cannot click
POST_ROLL_S = 0.010  # kept after the last loud sample, faded out
TARGET_RMS_DBFS = -20.0  # loudness of the voiced part of every phrase
PEAK_CEILING_DBFS = -1.0
VOICED_FRAME_S = 0.020
VOICED_RANGE_DB = 30.0  # frames within this of the loudest frame count as voiced
LIMITER_WINDOW_S = 0.005

SYNTH_ATTEMPTS = 3  # the espeak driver occasionally cancels an utterance; try again
SYNTH_TIMEOUT_S = 30.0

PROCESSING_VERSION = "1"  # bump when trimming/normalising changes, to invalidate the cache

_SYNTH_LOCK = threading.RLock()  # espeak-ng is one global synthesiser per process
_applied_settings: tuple[str, int] | None = None  # (voice, rate) espeak-ng has now
_ENGINE = None  # the one pyttsx3 engine, made by _engine()


@dataclass(frozen=True)
class Voice:
    """One espeak-ng voice as pyttsx3 reports it; ``id`` is what ``--voice`` takes."""

    id: str
    name: str
    languages: list[str]


def _engine():  # -> pyttsx3.Engine
    """The process-wide pyttsx3 espeak engine (made once), or MissingDependencyError."""
    global _ENGINE
    with _SYNTH_LOCK:
        if _ENGINE is None:
            try:
                import pyttsx3

                engine = pyttsx3.init(DRIVER)
            except (ImportError, OSError, RuntimeError) as error:
                raise MissingDependencyError(
                    f"cannot start espeak-ng speech synthesis ({error}); "
                    "install the Debian package espeak-ng: sudo apt-get install espeak-ng"
                ) from error
            _silence_save_messages()
            # A new pyttsx3 engine queues commands until its first run loop. Run an
            # empty loop now (no text yet, so nothing is spoken) so that voice and
            # rate changes take effect when made, not racing the first synthesis.
            # Never again: the driver re-speaks its last text on every run loop.
            engine.runAndWait()
            _ENGINE = engine
        return _ENGINE


def _silence_save_messages() -> None:
    """Stop pyttsx3's espeak driver printing "Audio saved to ..." after every file.

    The driver calls the builtin ``print``; shadowing it in that one module is
    thread-safe, unlike redirecting ``sys.stdout`` for the whole process.
    """
    from pyttsx3.drivers import espeak as espeak_driver

    espeak_driver.print = lambda *args, **kwargs: None


def engine_id() -> str:
    """Names the synthesiser in cache keys, e.g. ``pyttsx3-espeak-ng-1.51``."""
    _engine()
    from pyttsx3.drivers import _espeak

    version = _espeak.Info(None)
    return "pyttsx3-espeak-ng-" + (version.decode() if version else "unknown")


def list_voices() -> list[Voice]:
    """Every espeak-ng voice, sorted by language then id."""
    voices = [
        Voice(id=v.id, name=v.name.strip(), languages=list(v.languages or []))
        for v in _engine().getProperty("voices")
    ]
    return sorted(voices, key=lambda v: (v.languages[:1], v.id))


def _normalise_language(language: str) -> str:
    return language.strip().lower().replace("_", "-")


def voice_speaks(voice: Voice, language: str) -> bool:
    """True if the voice speaks ``language`` or a variant of it ("en" matches "en-us")."""
    wanted = _normalise_language(language)
    return any(lang == wanted or lang.startswith(wanted + "-") for lang in voice.languages)


# A bare language code picks this variant when espeak-ng has several.
_PREFERRED_VARIANT = {"en": "en-us"}


def _language_and_base(language: str) -> tuple[str, ...]:
    """ "ko-KR" -> ("ko-kr", "ko"); "en" -> ("en",)."""
    full = _normalise_language(language)
    return tuple(dict.fromkeys((full, full.split("-")[0])))


def voices_for(language: str) -> list[Voice]:
    """Voices that speak ``language``; if none, those of its base ("ko-KR" -> "ko")."""
    voices = list_voices()
    for wanted in _language_and_base(language):
        found = [voice for voice in voices if voice_speaks(voice, wanted)]
        if found:
            return found
    return []


def default_voice(language: str) -> str:
    """A sensible voice id for a language code: "en" -> gmw/en-us, "ko", "ko-KR" -> ko."""
    codes = _language_and_base(language)
    candidates = voices_for(language)
    for preferred in [_PREFERRED_VARIANT.get(code) for code in codes] + list(codes):
        for voice in candidates:
            if preferred in voice.languages:
                return voice.id
    if candidates:
        return candidates[0].id
    raise InputError(
        f"no espeak-ng voice for language {language!r}; run `voicecoach voices` to list voices"
    )


def resolve_voice(voice: str) -> str:
    """The exact voice id for ``voice`` (an id, or its last part, e.g. "en-us"), or InputError."""
    wanted = voice.strip().lower()
    voices = list_voices()
    for candidate in voices:
        if candidate.id == wanted:
            return candidate.id
    for candidate in voices:
        if candidate.id.rsplit("/", 1)[-1] == wanted:
            return candidate.id
    raise InputError(
        f"unknown voice {voice!r}; run `voicecoach voices` to list the voice ids for --voice"
    )


def _db(value: float) -> float:
    return float(10.0 ** (value / 20.0))


def _fade(count: int) -> np.ndarray:
    """Raised-cosine ramp 0 -> 1 over ``count`` samples."""
    return (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, count, dtype=np.float64))).astype(
        np.float32
    )


def trim(samples: np.ndarray) -> np.ndarray:
    """Cut leading and trailing silence; the speech onset lands at sample 0 (±PRE_ROLL_S)."""
    magnitude = np.abs(samples)
    peak = float(magnitude.max(initial=0.0))
    if peak == 0.0:
        return np.zeros(0, dtype=np.float32)
    loud_start = np.flatnonzero(magnitude >= peak * _db(ONSET_THRESHOLD_DB))
    loud_end = np.flatnonzero(magnitude >= peak * _db(TAIL_THRESHOLD_DB))
    pre = int(round(PRE_ROLL_S * PLAYBACK_RATE))
    post = int(round(POST_ROLL_S * PLAYBACK_RATE))
    start = max(0, int(loud_start[0]) - pre)
    end = min(samples.size, int(loud_end[-1]) + 1 + post)
    clip = samples[start:end].astype(np.float32, copy=True)
    head = min(pre, clip.size)
    clip[:head] *= _fade(head)
    tail = min(post, clip.size)
    clip[clip.size - tail :] *= _fade(tail)[::-1]
    return clip


def voiced_rms(samples: np.ndarray) -> float:
    """RMS over the frames within VOICED_RANGE_DB of the loudest: loudness ignoring gaps."""
    frame = min(int(VOICED_FRAME_S * PLAYBACK_RATE), samples.size)
    if frame == 0:
        return 0.0
    count = samples.size // frame
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    energies = np.mean(frames**2, axis=1)
    voiced = energies[energies >= energies.max() * _db(-VOICED_RANGE_DB) ** 2]
    return float(np.sqrt(voiced.mean())) if voiced.size else 0.0


def limit(samples: np.ndarray, ceiling: float) -> np.ndarray:
    """Smooth peak limiter: gain never lets |sample| exceed ``ceiling``, no clicks.

    The needed gain is min-filtered then box-smoothed over the same window, which keeps
    the smoothed gain at or below the needed gain at every sample.
    """
    needed = np.minimum(1.0, ceiling / np.maximum(np.abs(samples), 1e-12))
    if needed.min() >= 1.0:
        return samples
    half = max(1, int(LIMITER_WINDOW_S * PLAYBACK_RATE) // 2)
    width = 2 * half + 1
    padded = np.pad(needed, half, mode="edge")
    floor = np.lib.stride_tricks.sliding_window_view(padded, width).min(axis=1)
    smooth = np.convolve(np.pad(floor, half, mode="edge"), np.ones(width) / width, "valid")
    return np.clip(samples * smooth, -ceiling, ceiling).astype(np.float32)


def normalise(samples: np.ndarray) -> np.ndarray:
    """Scale to TARGET_RMS_DBFS over the voiced part, peaks limited to PEAK_CEILING_DBFS."""
    rms = voiced_rms(samples)
    if rms == 0.0:
        return samples
    scaled = samples * np.float32(_db(TARGET_RMS_DBFS) / rms)
    return limit(scaled, _db(PEAK_CEILING_DBFS))


def process(samples: np.ndarray, rate: int) -> np.ndarray:
    """Raw synthesiser output -> the clip voicecoach uses (resampled, trimmed, normalised).

    The result is rounded to 16-bit values so a fresh clip equals its cached copy.
    """
    clip = normalise(trim(resample(samples, rate, PLAYBACK_RATE)))
    return from_int16(to_int16(clip))


class SpeechRenderer:
    """Renders phrases in one voice at one rate, through memory and disk caches.

    ``synthesised`` counts phrases espeak-ng actually synthesised, ``cache_hits``
    phrases loaded from the disk cache (repeats within this renderer come from memory
    and count as neither). Returned arrays are read-only and shared: copy before
    changing them in place.
    """

    def __init__(self, voice: str, rate: int = 165, cache_dir: Path | None = None,
                 pronounce: Mapping[str, str] | None = None) -> None:
        """``pronounce``: word -> respelling, applied to what espeak-ng is given only
        (``prompts/<lang>/phrases.toml`` ``[pronounce]``); texts are shown as written."""
        if not MIN_RATE <= rate <= MAX_RATE:
            raise InputError(
                f"speech rate {rate} is out of range; use {MIN_RATE}-{MAX_RATE} words per minute"
            )
        self._engine = _engine()
        self.voice = resolve_voice(voice)
        self.rate = rate
        self.cache_dir = Path(cache_dir) if cache_dir else paths.cache_dir() / "speech"
        self._engine_id = engine_id()
        self._clips: dict[str, np.ndarray] = {}
        self.synthesised = 0
        self.cache_hits = 0
        self.pronounce = dict(pronounce or {})
        self._respell = (re.compile(r"\b(" + "|".join(
            re.escape(word) for word in sorted(self.pronounce, key=len, reverse=True))
            + r")\b", re.IGNORECASE) if self.pronounce else None)
        self._respelling = {word.casefold(): spelt for word, spelt in self.pronounce.items()}

    def spoken(self, text: str) -> str:
        """``text`` as given to espeak-ng: words with a pronunciation hint respelt."""
        if self._respell is None:
            return text
        return self._respell.sub(lambda m: self._respelling[m.group(0).casefold()], text)

    def cache_path(self, text: str) -> Path:
        """The cache file for ``text`` in this voice, rate and engine (keyed by what is
        actually said, so a changed pronunciation hint is synthesised anew)."""
        key = "\0".join((self._engine_id, PROCESSING_VERSION, self.voice, str(self.rate),
                         self.spoken(text)))
        return self.cache_dir / (hashlib.sha256(key.encode("utf-8")).hexdigest() + ".wav")

    def render(self, text: str) -> np.ndarray:
        """``text`` as mono float32 at PLAYBACK_RATE: onset at sample 0, equal loudness."""
        clip = self._clips.get(text)
        if clip is None:
            clip = self._load_cached(text)
            if clip is None:
                clip = self._synthesise(text)
            clip.flags.writeable = False
            self._clips[text] = clip
        return clip

    def render_all(
        self,
        texts: Iterable[str],
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, np.ndarray]:
        """Render each distinct text once, calling ``progress(done, total)`` as it goes."""
        distinct = list(dict.fromkeys(texts))
        logger.info("voicing %d distinct phrases", len(distinct))
        clips: dict[str, np.ndarray] = {}
        for done, text in enumerate(distinct, start=1):
            clips[text] = self.render(text)
            if progress:
                progress(done, len(distinct))
        return clips

    def duration(self, text: str) -> float:
        """Seconds of rendered (trimmed) speech for ``text``."""
        return self.render(text).size / PLAYBACK_RATE

    def _load_cached(self, text: str) -> np.ndarray | None:
        path = self.cache_path(text)
        try:
            samples, rate = read_wav(path)
        except (OSError, EOFError, wave.Error):
            return None  # missing or damaged: synthesise again and overwrite it
        if rate != PLAYBACK_RATE:
            return None
        self.cache_hits += 1
        return samples

    def _synthesise(self, text: str) -> np.ndarray:
        if not text.strip():
            clip = np.zeros(0, dtype=np.float32)
        else:
            samples, rate = self._synthesise_raw(self.spoken(text))
            clip = process(samples, rate)
            self.synthesised += 1
        path = self.cache_path(text)
        try:
            write_wav_atomic(path, clip)
        except OSError as error:
            raise OutputError(
                f"cannot write the speech cache file {path} ({error.strerror or error}); "
                "make that folder writable or point VOICECOACH_CACHE at one that is"
            ) from error
        return clip

    def _synthesise_raw(self, text: str) -> tuple[np.ndarray, int]:
        """One pyttsx3 save_to_file + runAndWait, then wait until the file is really written.

        pyttsx3 2.99's espeak driver saves one file per runAndWait, and runAndWait returns
        before espeak-ng (running asynchronously) has finished; the driver then writes
        the file from espeak's thread and reports "finished-utterance". Starting while
        espeak is still busy makes the driver cancel the new utterance, so wait first.
        """
        from pyttsx3.drivers import _espeak

        fd, tmp = tempfile.mkstemp(prefix="voicecoach-speech-", suffix=".wav")
        os.close(fd)
        done = threading.Event()
        outcome: dict[str, object] = {}

        def finished(**event: object) -> None:
            # The driver may report a stale "not completed" after the real end: keep True.
            outcome["completed"] = outcome.get("completed") or bool(event.get("completed"))
            done.set()

        def failed(**event: object) -> None:
            outcome["error"] = event.get("exception")
            done.set()

        with _SYNTH_LOCK:
            tokens = [
                self._engine.connect("finished-utterance", finished),
                self._engine.connect("error", failed),
            ]
            try:
                for _attempt in range(SYNTH_ATTEMPTS):
                    done.clear()
                    outcome.clear()
                    self._apply_settings(force=_attempt > 0)
                    _espeak.Synchronize()  # idle now, or runAndWait would cancel
                    self._engine.save_to_file(text, tmp)
                    self._engine.runAndWait()
                    done.wait(SYNTH_TIMEOUT_S)
                    if outcome.get("completed"):
                        try:
                            samples, rate = read_wav(Path(tmp))
                        except (OSError, EOFError, wave.Error):
                            continue
                        if samples.size:
                            return samples, rate
                raise MissingDependencyError(
                    f"espeak-ng failed to speak {text[:40]!r} with voice {self.voice} "
                    f"({outcome.get('error') or 'no audio'}); check the espeak-ng "
                    "installation: sudo apt-get install --reinstall espeak-ng"
                )
            finally:
                for token in tokens:
                    self._engine.disconnect(token)
                Path(tmp).unlink(missing_ok=True)

    def _apply_settings(self, force: bool) -> None:
        """Give espeak-ng this renderer's voice and rate (its state is process-wide).

        espeak-ng applies a rate change asynchronously, so wait for it to land; skip
        the round trip when the last synthesis already used the same settings.
        """
        global _applied_settings
        from pyttsx3.drivers import _espeak

        settings = (self.voice, self.rate)
        if force or _applied_settings != settings:
            self._engine.setProperty("voice", self.voice)
            self._engine.setProperty("rate", self.rate)
            _espeak.Synchronize()
            _applied_settings = settings
