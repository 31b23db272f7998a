"""Check that voicecoach installs from wheels alone on every Python it claims.

For each Python version among the package's classifiers (3.11, 3.12, 3.13) and for the
core and ``[all]``, pip resolves the built wheel's whole dependency set for that version
(``--python-version``, ``--only-binary=:all:``, ``--dry-run``: nothing is installed).
A dependency with no wheel for a version (tflite-runtime past 3.11 was one) fails the
check, naming it. So does a compiled dependency whose newest allowed release has no wheel
for a version while an older one has: pip's binary-only resolution quietly takes the
older release, but a plain ``pip install`` takes the newest and builds it from source
(pocketsphinx 5.1 has no CPython 3.12 wheels). Run by ``.ci/run``; needs the index.

Two things pip does not do for another version, done here:

- pip evaluates environment markers against the interpreter running it, not the target
  version, so ``audioop-lts; python_version >= '3.13'`` would be left out of a 3.13
  check run on 3.11. voicecoach's own requirements are evaluated here for the target
  and passed to pip explicitly. (Markers deeper down are still pip's.)
- Some pure-Python dependencies are published as source only (:data:`SOURCE_ONLY`).
  They are built once into universal ``py3-none-any`` wheels and offered to pip; a
  package in that list that does not build to such a wheel fails the check.

pip runs from a throwaway virtual environment with the current pip: older ones (23.2
here) refuse ``--dry-run`` with ``--python-version`` or check Requires-Python against
the running interpreter instead of the target.

    .venv/bin/python scripts/check_wheels.py            # every version, core and [all]
    .venv/bin/python scripts/check_wheels.py --python 3.13 --extras all
"""

from __future__ import annotations

import argparse
import email.parser
import json
import logging
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.specifiers import SpecifierSet  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]
    from pip._vendor.packaging.version import InvalidVersion, Version  # type: ignore[no-redef]

logger = logging.getLogger("check_wheels")

REPO = Path(__file__).resolve().parents[1]
SOURCE_ONLY = {"srt": "vosk's subtitle module; pure Python, on PyPI as an sdist only"}
"""Dependencies with no wheel on PyPI that are pure Python, so one built wheel fits all."""
EXTRAS = ("", "all")
"""The installs checked: the core and every runtime extra (test and train are for
developers; pyworld, which both need, is published as source only)."""


@dataclass(frozen=True)
class Resolution:
    python: str
    extras: str
    packages: list[tuple[str, str]]  # (name, version) pip would install
    compiled: list[tuple[str, str]]  # those of them whose wheel is not pure Python
    specifiers: dict[str, SpecifierSet]  # by canonical name: what the set asks of each


def claimed_versions() -> list[str]:
    """The Python versions pyproject.toml's classifiers name, e.g. ["3.11", "3.12"]."""
    with (REPO / "pyproject.toml").open("rb") as handle:
        classifiers = tomllib.load(handle)["project"]["classifiers"]
    found = (re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c) for c in classifiers)
    return sorted({m.group(1) for m in found if m}, key=lambda v: tuple(map(int, v.split("."))))


PIP = [sys.executable, "-m", "pip"]
"""How pip is run: :func:`use_current_pip` points it at a fresh environment's."""


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PIP, "--disable-pip-version-check", *args],
                          capture_output=True, text=True)


def use_current_pip(folder: Path) -> None:
    """Make :func:`pip` run the current pip, installed in a new environment in ``folder``."""
    venv = folder / "pip-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    PIP[:] = [str(venv / "bin" / "python"), "-m", "pip"]
    upgraded = pip("install", "-q", "--upgrade", "pip")
    if upgraded.returncode != 0:
        raise SystemExit(f"cannot install the current pip: {last_error(upgraded)}")
    logger.debug("pip: %s", pip("--version").stdout.strip())


def last_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines()
             if line.strip() and not line.startswith("WARNING: Location")]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no message"])[0]


def build(folder: Path) -> tuple[Path, Path]:
    """voicecoach's wheel, and a folder of universal wheels of :data:`SOURCE_ONLY`."""
    source = folder / "source"
    copied = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"],
                            capture_output=True, check=False)
    names = [n for n in copied.stdout.decode().split("\0") if n] if copied.returncode == 0 \
        else None
    if names is None:  # not a git checkout: take the folders the wheel is built from
        names = [str(p.relative_to(REPO)) for top in ("voicecoach", "prompts", "audio")
                 for p in (REPO / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        names += ["pyproject.toml", "README.md", "LICENSE", "NOTICE"]
    for name in names:
        if not (REPO / name).is_file():
            continue  # tracked but deleted in this working tree
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / name).read_bytes())
    built = pip("wheel", "--no-deps", "-q", "-w", str(folder / "dist"), str(source))
    if built.returncode != 0:
        raise SystemExit(f"cannot build voicecoach's wheel: {last_error(built)}")
    (wheel,) = (folder / "dist").glob("voicecoach-*.whl")
    universal = folder / "universal"
    for package in SOURCE_ONLY:
        made = pip("wheel", "--no-deps", "-q", "-w", str(universal), package)
        if made.returncode != 0:
            raise SystemExit(f"cannot build {package} from source: {last_error(made)}")
    for made_wheel in universal.glob("*.whl"):
        if not made_wheel.name.endswith("-py3-none-any.whl"):
            raise SystemExit(f"{made_wheel.name} is not a universal wheel: {made_wheel.stem} "
                             f"cannot stay in SOURCE_ONLY")
    return wheel, universal


def requirements_for(wheel: Path, python: str, extras: str) -> list[str]:
    """The wheel's own requirements that apply on ``python`` with ``extras``, markers
    evaluated for that version (self-references such as ``voicecoach[plot]`` expanded)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(name).decode())
    requirements = [Requirement(text) for text in metadata.get_all("Requires-Dist") or []]
    wanted, done, chosen = {""} | set(filter(None, extras.split(","))), set(), []
    while wanted - done:
        extra = sorted(wanted - done)[0]
        done.add(extra)
        for requirement in requirements:
            environment = {"python_version": python, "python_full_version": f"{python}.0",
                           "extra": extra}
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            if requirement.marker is None and extra:
                continue  # already taken with the core
            if requirement.name == metadata["Name"]:
                wanted |= requirement.extras
                continue
            requirement.marker = None
            chosen.append(str(requirement))
    return sorted(set(chosen))


def resolve(wheel: Path, universal: Path, python: str, extras: str,
            folder: Path) -> Resolution:
    """What pip would install for ``python``, wheels only; SystemExit naming the failure."""
    report = folder / f"report-{python}-{extras or 'core'}.json"
    result = pip("install", "--dry-run", "--ignore-installed", "--quiet",
                 "--python-version", python, "--only-binary=:all:",
                 "--find-links", str(universal), "--report", str(report),
                 f"{wheel}[{extras}]" if extras else str(wheel),
                 *requirements_for(wheel, python, extras))
    label = f"Python {python}, {'voicecoach[' + extras + ']' if extras else 'core'}"
    if result.returncode != 0:
        raise SystemExit(f"{label}: does not resolve to wheels: {last_error(result)}")
    installs = json.loads(report.read_text())["install"]
    packages = sorted((i["metadata"]["name"], i["metadata"]["version"]) for i in installs)
    compiled = sorted((i["metadata"]["name"], i["metadata"]["version"]) for i in installs
                      if not i["download_info"]["url"].endswith("-none-any.whl"))
    specifiers: dict[str, SpecifierSet] = {}
    asked = [(text, "") for text in requirements_for(wheel, python, extras)]
    for item in installs:
        for text in item["metadata"].get("requires_dist") or []:
            asked += [(text, extra) for extra in [""] + item.get("requested_extras", [])]
    for text, extra in asked:
        requirement = Requirement(text)
        environment = {"python_version": python, "python_full_version": f"{python}.0",
                       "extra": extra}
        if requirement.marker is None or requirement.marker.evaluate(environment):
            name = canonicalize_name(requirement.name)
            specifiers[name] = specifiers.get(name, SpecifierSet()) & requirement.specifier
    return Resolution(python, extras, packages, compiled, specifiers)


@cache
def newest_release(name: str, python: str, specifier: SpecifierSet) -> Version | None:
    """The newest release of ``name`` that ``specifier`` allows and whose Requires-Python
    takes ``python``, wheel or not: what a plain ``pip install`` on that Python takes."""
    listed = pip("index", "versions", name, "--python-version", python)
    line = next((text for text in listed.stdout.splitlines()
                 if text.startswith("Available versions:")),
                "")
    versions = []
    for text in line.partition(":")[2].split(","):
        try:
            versions.append(Version(text.strip()))
        except InvalidVersion:
            continue
    allowed = [v for v in versions if not v.is_prerelease and specifier.contains(v)]
    return max(allowed, default=None)


def source_builds(found: Resolution) -> list[str]:
    """Compiled packages for which a plain install would pick a newer, wheel-less release."""
    problems = []
    for name, version in found.compiled:
        specifier = found.specifiers.get(canonicalize_name(name), SpecifierSet())
        newest = newest_release(name, found.python, specifier)
        if newest is not None and newest > Version(version):
            problems.append(f"{name} {newest} (newest with a wheel: {version})")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", metavar="3.X",
                        help="check this version only (repeatable; default: the classifiers')")
    parser.add_argument("--extras", action="append", metavar="NAMES",
                        help="check this install only: '' for the core, 'all', 'whisper,plot'")
    parser.add_argument("--verbose", "-v", action="store_true", help="list the packages")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(message)s")
    versions = args.python or claimed_versions()
    with tempfile.TemporaryDirectory(prefix="voicecoach-wheels-") as temp:
        folder = Path(temp)
        use_current_pip(folder)
        wheel, universal = build(folder)
        for python in versions:
            for extras in args.extras if args.extras is not None else EXTRAS:
                found = resolve(wheel, universal, python, extras, folder)
                label = f"voicecoach[{extras}]" if extras else "core"
                builds = source_builds(found)
                if builds:
                    raise SystemExit(f"Python {python}, {label}: pip install would build from "
                                     f"source: {'; '.join(builds)}; cap the requirement for "
                                     f"that Python in pyproject.toml")
                logger.info("Python %s, %s: %d packages, all from wheels", python, label,
                            len(found.packages))
                logger.debug("  %s", ", ".join(f"{n} {v}" for n, v in found.packages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
