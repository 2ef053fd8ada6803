"""Read YAML declaration files (manifests, scenarios, sweeps) with clear errors, safely.

A declaration file is small: it is refused when it is larger than :data:`MAX_BYTES`, nests
deeper than :data:`MAX_DEPTH`, uses more than :data:`MAX_ALIASES` aliases (a "billion laughs"
file expands a few hundred bytes into gigabytes), repeats a key in one mapping (YAML keeps
the last silently), or holds text longer than :data:`MAX_TEXT` characters or text that is not
valid Unicode (lone surrogates from ``"\\ud800"`` escapes), or expands (through aliases)
to more than :data:`MAX_VALUES` values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from twin.errors import InputError, SchemaError, message

MAX_BYTES = 5_000_000
MAX_DEPTH = 40
MAX_ALIASES = 100
MAX_TEXT = 20_000
#: Values (after alias expansion) a declaration file may hold.
MAX_VALUES = 200_000


class _Refused(Exception):
    """A YAML structure twin does not accept (with the line when known)."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader with depth, alias and duplicate-key limits."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} aliases ({self._line()})")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels ({self._line()})")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)):
                continue
            if key in seen:
                line = key_node.start_mark.line + 1
                raise _Refused(f"the key {key!r} appears twice in one mapping (line {line})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def _line(self) -> str:
        mark = self.peek_event().start_mark
        return f"line {mark.line + 1}"


def _check_values(data: Any) -> None:
    """Refuse data that expands to more than :data:`MAX_VALUES` values (aliases repeated in
    aliases), or holds over-long or invalid text."""
    budget = [MAX_VALUES]
    _check_text(data, "(top level)", budget)


def _check_text(value: Any, where: str, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise _Refused(f"expands to more than {MAX_VALUES:,} values (aliases of aliases?)")
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise _Refused(f"{where}: a text of {len(value):,} characters (max {MAX_TEXT:,})")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Refused(f"{where}: text that is not valid Unicode (a lone surrogate)") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_text(k, where, budget)
            _check_text(v, f"{where}.{k}", budget)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_text(v, f"{where}[{i}]", budget)


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
        If the file does not exist or is too large.
    SchemaError
        If it is not valid UTF-8 YAML (with the line when YAML reports it), or breaks one of
        the limits of this module.
    """
    p = Path(path)
    try:
        size = p.stat().st_size if p.is_file() else None
    except OSError:  # a name too long for the file system, a bad path
        size = None
    if size is None:
        msg = message(f"{what} not found", where=p, fix="check the path")
        raise InputError(msg)
    if size > MAX_BYTES:
        msg = message(
            f"{what} of {size:,} bytes is too large (max {MAX_BYTES:,})",
            where=p,
            fix="a declaration file is small: check it is the right file",
        )
        raise InputError(msg)
    try:
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=_StrictLoader)
        _check_values(data)
        return data
    except _Refused as exc:
        msg = message(f"is refused: {exc}", where=p, fix="simplify the file")
        raise SchemaError(msg) from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        msg = message(f"is not valid YAML ({exc})", where=p, fix="fix the YAML syntax")
        raise SchemaError(msg) from None
