"""Reading the TOML data files under prompts/ with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from voicecoach.errors import InputError


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; unreadable or malformed files raise a one-line InputError."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, expected a TOML file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; make the file readable") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: invalid TOML: {error}") from None
