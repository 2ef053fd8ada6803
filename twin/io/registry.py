"""Loader registry.

Loaders are plain functions ``fn(source, *, <explicit keyword options>) -> Layer`` registered
under a dotted name (``"osm.buildings"``). Third-party packages add loaders through the
``twin.loaders`` entry-point group; the registry is built once, cached, and can be refreshed.
Options from a manifest are validated against the function's own signature, so every loader
declares exactly what it accepts.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from twin.errors import LoaderNotFoundError, SchemaError, message, validation_problems
from twin.model.layer import Kind, Layer

LoaderFn = Callable[..., Layer]


@dataclass(frozen=True)
class Loader:
    """A registered loader."""

    name: str
    kind: Kind
    func: LoaderFn
    summary: str

    @property
    def options_model(self) -> type[BaseModel]:
        """Pydantic model of the keyword options, built from the function signature."""
        return _options_model(self.func)

    def validate_options(self, options: dict[str, Any], where: str) -> dict[str, Any]:
        """Validate manifest options against the loader signature.

        Raises
        ------
        SchemaError
            Listing every bad option with its path.
        """
        try:
            model = self.options_model.model_validate(options or {})
        except ValidationError as exc:
            problems = "; ".join(validation_problems(exc.errors(), prefix=where))
            sig = ", ".join(self.options_model.model_fields)
            msg = message(
                problems, fix=f"loader '{self.name}' accepts the options: {sig or 'none'}"
            )
            raise SchemaError(msg) from None
        return {k: getattr(model, k) for k in model.model_fields_set | set(options or {})}


_BUILTIN: dict[str, Loader] = {}


def loader(name: str, kind: Kind) -> Callable[[LoaderFn], LoaderFn]:
    """Register a built-in loader function under ``name``."""

    def deco(fn: LoaderFn) -> LoaderFn:
        doc = inspect.getdoc(fn) or ""
        _BUILTIN[name] = Loader(name, kind, fn, doc.splitlines()[0] if doc else "")
        return fn

    return deco


@cache
def _options_model(fn: LoaderFn) -> type[BaseModel]:
    sig = inspect.signature(fn)
    fields: dict[str, Any] = {}
    hints = inspect.get_annotations(fn, eval_str=True)
    for pname, p in list(sig.parameters.items())[1:]:
        if p.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        ann = hints.get(pname, Any)
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[pname] = (ann, default)
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{fn.__name__}_options", __config__=ConfigDict(extra="forbid"), **fields
    )


@lru_cache(maxsize=1)
def _registry() -> dict[str, Loader]:
    import twin.io  # noqa: F401  (registers the built-in loaders)

    reg = dict(_BUILTIN)
    for ep in entry_points(group="twin.loaders"):
        obj = ep.load()
        if isinstance(obj, Loader):
            reg[ep.name] = obj
    return reg


def refresh() -> None:
    """Forget the cached registry, e.g. after installing a plugin."""
    _registry.cache_clear()


def loaders() -> dict[str, Loader]:
    """All registered loaders by name."""
    return dict(_registry())


def get_loader(name: str, where: str = "loader") -> Loader:
    """Return the loader called ``name``.

    Raises
    ------
    LoaderNotFoundError
        Listing the known loader names.
    """
    reg = _registry()
    if name not in reg:
        msg = message(
            f"unknown loader '{name}'",
            where=where,
            fix=f"use one of: {', '.join(sorted(reg))}",
        )
        raise LoaderNotFoundError(msg)
    return reg[name]
