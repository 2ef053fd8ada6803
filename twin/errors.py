"""One exception hierarchy for twin.

Every message says **what** was wrong, **where** (file, row, field) and **how to fix it**.
Build the message first, then raise it::

    msg = _msg("column 'power_w' is missing", where=path, fix="map it in the layer manifest")
    raise InputError(msg)
"""

from __future__ import annotations

from os import PathLike


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
