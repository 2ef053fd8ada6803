"""Batch runs: parameter sweeps of scenarios on a Dask cluster.

>>> from twin.batch import batch  # doctest: +SKIP
>>> table = batch("scenarios/sweeps/closure_sweep.yaml", "data/demo", workers=2)  # doctest: +SKIP

See docs/batch.md for the sweep file format.

The package itself is callable, so ``twin.batch(...)`` runs :func:`batch` even after
``twin.batch`` (the package) has been imported and has replaced the lazy attribute of
``twin``.
"""

import sys
import types
from typing import Any

from twin.batch.engine import batch
from twin.batch.sweep import (
    ParameterSpec,
    Sample,
    Sweep,
    make_samples,
    parse_path,
    sample_values,
    set_path,
    sweep_json_schema,
)

__all__ = [
    "ParameterSpec",
    "Sample",
    "Sweep",
    "batch",
    "make_samples",
    "parse_path",
    "sample_values",
    "set_path",
    "sweep_json_schema",
]


class _CallableModule(types.ModuleType):
    """``twin.batch`` the package, callable as :func:`twin.batch.batch`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return batch(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
