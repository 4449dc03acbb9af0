"""maestro-test-result-aggregator."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("maestro-test-result-aggregator")
except PackageNotFoundError:  # pragma: no cover - source tree without an install
    __version__ = "0+unknown"

__all__ = ["__version__"]
