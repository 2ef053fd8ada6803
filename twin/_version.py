"""The installed version of twin (kept apart so that subpackages need not import ``twin``)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("twin")
except PackageNotFoundError:  # pragma: no cover - source checkout without install
    __version__ = "0+unknown"
