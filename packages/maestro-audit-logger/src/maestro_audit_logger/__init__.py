"""maestro-audit-logger."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("maestro-audit-logger")
except PackageNotFoundError:  # pragma: no cover - source tree without an install
    __version__ = "0+unknown"

__all__ = ["__version__"]
