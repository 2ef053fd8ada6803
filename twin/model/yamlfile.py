"""Read YAML declaration files (manifests, scenarios, sweeps) with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from twin.errors import InputError, SchemaError, message


def load_yaml(path: str | Path, *, what: str) -> Any:
    """Parse a YAML file.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is, for messages (``"scenario file"``, ``"manifest"``…).

    Raises
    ------
    InputError
        If the file does not exist.
    SchemaError
        If it is not valid UTF-8 YAML (with the line when YAML reports it).
    """
    p = Path(path)
    if not p.is_file():
        msg = message(f"{what} not found", where=p, fix="check the path")
        raise InputError(msg)
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        msg = message(f"is not valid YAML ({exc})", where=p, fix="fix the YAML syntax")
        raise SchemaError(msg) from None
