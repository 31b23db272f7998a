"""The one factory for recognisers: which engine a language gets, and building it."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from voicecoach.commands import CommandVocabulary, load_vocabulary
from voicecoach.errors import InputError, MissingDependencyError
from voicecoach.recognition.base import CommandRecognizer, Recognizer, Tuning
from voicecoach.recognition.gate import GateTuning, UtteranceGate

logger = logging.getLogger(__name__)

GATE = GateTuning()
"""The utterance gate every recogniser gets by default."""
WAKE_LEAD = 0.6
"""Seconds of speech the gate allows before a command on top of ``GATE.lead`` when a
wake word must come first ("coach, stop workout" is one utterance)."""

ENGINES = ("auto", "hybrid", "spotter", "vosk", "pocketsphinx")
ENGINE_HELP = ("recogniser (default auto: Vosk when --model or VOICECOACH_VOSK_MODEL names "
               "a model, else the command spotter backed by a grammar engine and Whisper "
               "(hybrid) for English, the spotter alone for Korean, else an installed Vosk "
               "model, else PocketSphinx for English)")



WAKE_ENGINES = ("hybrid", "vosk", "pocketsphinx")
"""Engines that can hear a wake word before a command: they decode word sequences (the
spotter alone knows single command words only; in the hybrid it corroborates)."""


def resolve_engine(language: str, engine: str = "auto", model: Path | None = None,
                   wake: bool = False) -> str:
    """The engine ``engine`` means for ``language``: itself, or what ``auto`` picks.

    ``auto`` picks Vosk when a model was named (``model`` or the environment). Else, where
    the command spotter has a model: for English the hybrid (the spotter answers first,
    PocketSphinx or an installed Vosk model catches what it misses, Whisper gives a second
    opinion where it is installed: on natural-sounding
    voices the spotter alone misses a quarter of the commands), for Korean the spotter
    alone (it meets the accuracy targets). Else Vosk when a model is found (an installed
    vosk-model-* package, Vosk's cache), else PocketSphinx for English, else a
    MissingDependencyError saying what to install. With ``wake`` (commands start with a
    wake word) only :data:`WAKE_ENGINES` can listen: ``auto`` picks the hybrid for Korean
    too where it has a grammar engine, else the grammar engine.
    """
    from voicecoach.recognition.spotter import has_spotter_model
    from voicecoach.recognition.vosk_models import ENV_VAR, has_vosk_model, install_hint

    if engine not in ENGINES:
        raise InputError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if wake and engine not in WAKE_ENGINES + ("auto",):
        raise InputError(f"--engine {engine} cannot hear a wake word (the spotter knows single "
                         f"command words); use --engine auto, {', '.join(WAKE_ENGINES)}")
    if engine != "auto":
        return engine
    if model is not None or os.environ.get(ENV_VAR):
        return "vosk"
    if has_spotter_model(language) and not wake:
        return "hybrid" if language == "en" else "spotter"
    if has_spotter_model(language) and (language == "en" or has_vosk_model(language)):
        return "hybrid"
    if has_vosk_model(language):
        return "vosk"
    if language == "en":
        return "pocketsphinx"
    raise MissingDependencyError(install_hint(language))


def create_recognizer(language: str, engine: str = "auto", model: Path | None = None,
                      *, tuning: Tuning | None = None, live: bool = True,
                      gate: GateTuning | None = GATE, threaded: bool | None = None,
                      wake: str | None = None) -> Recognizer:
    """A recogniser for ``language`` with the engine :func:`resolve_engine` picks;
    ``tuning`` replaces the engine's own (the hybrid's: its grammar engine's). Its
    commands pass the :class:`~voicecoach.recognition.gate.UtteranceGate` (only those
    said as their own short utterance) unless ``gate`` is None. ``threaded`` (default:
    ``live``): slow second opinions run in their own thread, as a real-time stream needs;
    a replayed recording runs them inline, so it gets the same answers every time.
    ``wake`` (a word; "" for the language's own): only commands said after it count."""
    recognizer = _engine(language, engine, model, tuning, live, threaded, wake)
    if gate is not None and wake is not None:
        gate = replace(gate, lead=gate.lead + WAKE_LEAD)
    return recognizer if gate is None else UtteranceGate(recognizer, tuning=gate)


def _engine(language: str, engine: str, model: Path | None, tuning: Tuning | None,
            live: bool, threaded: bool | None, wake: str | None) -> Recognizer:
    vocabulary = load_vocabulary(language)  # first: an unknown language is an InputError
    if wake is not None:
        vocabulary = vocabulary.with_wake(wake or None)
    engine = resolve_engine(language, engine, model, wake=wake is not None)
    if engine == "spotter":
        from voicecoach.recognition.spotter import create_spotter

        return create_spotter(language, vocabulary, tuning=tuning, live=live)
    if engine == "hybrid":
        from voicecoach.recognition.hybrid import create_hybrid

        thorough = _grammar_recognizer(language, vocabulary, None, model, tuning, live)
        return create_hybrid(language, vocabulary, thorough, live, threaded)
    return _grammar_recognizer(language, vocabulary, engine, model, tuning, live)


def hybrid_backs_with_vosk(language: str, model: Path | None = None) -> bool:
    """Whether the hybrid's grammar engine is Vosk (a model named or installed for the
    language, no download) rather than PocketSphinx."""
    from voicecoach.recognition.vosk_models import has_vosk_model

    return model is not None or has_vosk_model(language)


def _grammar_recognizer(language: str, vocabulary: CommandVocabulary, engine: str | None,
                        model: Path | None, tuning: Tuning | None, live: bool
                        ) -> CommandRecognizer:
    """Vosk or PocketSphinx; ``engine`` None: Vosk when it has a model for the language
    without a download, else PocketSphinx."""
    from voicecoach.recognition.vosk_models import find_vosk_model

    if engine == "vosk" or (engine is None and hybrid_backs_with_vosk(language, model)):
        from voicecoach.recognition.vosk_engine import VOSK_TUNING, VoskRecognizer

        path = find_vosk_model(language, model, download=engine == "vosk")
        return VoskRecognizer(vocabulary, path, tuning=tuning or VOSK_TUNING, live=live)
    if language != "en" and engine is None:
        raise InputError(f"--engine hybrid: no Vosk model for {language!r} to back the "
                         f"spotter (PocketSphinx has only English); install one or use "
                         f"--engine spotter")
    if language != "en":
        raise InputError(f"--engine pocketsphinx: only English is available offline, "
                         f"not {language!r}; use --engine vosk")
    from voicecoach.recognition.pocketsphinx_engine import SPHINX_TUNING, PocketSphinxRecognizer

    return PocketSphinxRecognizer(vocabulary, tuning=tuning or SPHINX_TUNING, live=live)
