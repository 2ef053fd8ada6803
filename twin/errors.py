"""One exception hierarchy for twin.

Every message says **what** was wrong, **where** (file, row, field) and **how to fix it**.
Build the message first, then raise it::

    msg = _msg("column 'power_w' is missing", where=path, fix="map it in the layer manifest")
    raise InputError(msg)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from os import PathLike
from typing import Any


class TwinError(Exception):
    """Base class of every error twin raises on purpose."""


class InputError(TwinError):
    """An input file or value is unreadable, empty, corrupt or inconsistent."""


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or implausible."""


class SchemaError(InputError):
    """A manifest, mapping or scenario does not follow its schema."""


class LoaderNotFoundError(SchemaError):
    """A manifest names a loader that is not registered."""


class FormError(SchemaError):
    """A form (the viewer's what-if editor) does not make a valid scenario.

    The message lists the problems in English (for scripts and logs); ``problems`` holds
    them one by one, each with the field of the form it is about, for the interface to show
    each next to its field in the reader's language.
    """

    def __init__(self, msg: str, problems: Sequence[Any] = ()) -> None:
        super().__init__(msg)
        self.problems = list(problems)


class BasemapError(InputError):
    """A basemap tile archive (MBTiles or PMTiles) is missing, unreadable, of a tile type the
    viewer cannot draw, empty, or does not cover the twin."""


class StoreError(TwinError):
    """A twin directory is missing, incomplete or from an incompatible version."""


class TwinWarning(UserWarning):
    """Base class of twin's own warnings (they fail the test suite)."""


def message(what: str, *, where: str | PathLike[str] | None = None, fix: str | None = None) -> str:
    """Compose an error message of the form ``<where>: <what>. Fix: <fix>``.

    Parameters
    ----------
    what : str
        What was wrong.
    where : str or path-like, optional
        File, row and/or field where the problem is.
    fix : str, optional
        What the user should do.

    Returns
    -------
    str
        The message.
    """
    out = f"{where}: {what}" if where is not None else what
    if fix:
        out = f"{out.rstrip('.')}. Fix: {fix}"
    return out


def validation_problems(
    errors: Iterable[Mapping[str, Any]],
    prefix: str = "",
    loc: Callable[[tuple[Any, ...]], str] | None = None,
    tag: str = "type",
) -> list[str]:
    """One line per problem of a pydantic validation (``ValidationError.errors()``).

    Parameters
    ----------
    errors : iterable of mappings
        The errors, each with ``loc``, ``msg`` and ``type``.
    prefix : str
        Path prepended to every location (e.g. ``parameters.traffic``).
    loc : callable, optional
        Formats a location (default: its parts joined by dots, list indices in brackets).
    tag : str
        What the tag of a tagged union names (e.g. ``intervention type``).

    Returns
    -------
    list of str
        ``"<path>: <what>"`` lines; an unknown field reads "unknown field", an unknown union
        tag names the accepted ones.
    """
    fmt = loc or _dotted
    out = []
    for e in errors:
        text = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            text = "unknown field"
        elif e["type"] == "union_tag_invalid":
            ctx = e.get("ctx", {})
            text = f"unknown {tag} {ctx.get('tag')!r}; use one of {ctx.get('expected_tags')}"
        path = fmt(tuple(e["loc"]))
        out.append(f"{prefix}.{path}" if prefix and path else (prefix or path))
        out[-1] += f": {text}"
    return out


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(top level)"
