"""maestro-factory: the release tool of the Maestro package factory.

The command line (``factory changed|check|build|publish|ship``) is the main
interface; the objects below are what it is built from.
"""

from importlib.metadata import PackageNotFoundError, version

from maestro_factory._integrations import RetryPolicy
from maestro_factory.embedded import EmbeddedIndex
from maestro_factory.errors import (
    ConfigurationError,
    DependencyNotPublishedError,
    FactoryError,
    HashMismatchError,
    IndexVerificationError,
    StepFailedError,
    TransientIndexError,
    UploadRejectedError,
    UsageError,
)
from maestro_factory.index import Credentials, IndexConfig, SimpleIndex
from maestro_factory.publishing import PublishOptions, publish
from maestro_factory.workspace import Package, Workspace

try:
    __version__ = version("maestro-factory")
except PackageNotFoundError:  # pragma: no cover - source tree without an install
    __version__ = "0+unknown"

__all__ = [
    "ConfigurationError",
    "Credentials",
    "DependencyNotPublishedError",
    "EmbeddedIndex",
    "FactoryError",
    "HashMismatchError",
    "IndexConfig",
    "IndexVerificationError",
    "Package",
    "PublishOptions",
    "RetryPolicy",
    "SimpleIndex",
    "StepFailedError",
    "TransientIndexError",
    "UploadRejectedError",
    "UsageError",
    "Workspace",
    "__version__",
    "publish",
]
