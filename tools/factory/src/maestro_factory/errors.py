"""Exceptions of the factory tool.

Every error carries the exit code the command line uses for it: 1 when a check
ran and failed (a hash mismatch, a rejected upload, a failing test), 2 when the
input itself is wrong (an unknown package, a bad git ref, a missing setting).
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "DependencyNotPublishedError",
    "FactoryError",
    "HashMismatchError",
    "IndexVerificationError",
    "StepFailedError",
    "TransientIndexError",
    "UploadRejectedError",
    "UsageError",
]


class FactoryError(Exception):
    """Base class: a failure the tool explains instead of printing a traceback.

    >>> FactoryError("boom").exit_code
    1
    """

    exit_code = 1


class UsageError(FactoryError):
    """The command line or the repository given to the tool is not usable.

    >>> UsageError("unknown package 'x'").exit_code
    2
    """

    exit_code = 2


class ConfigurationError(UsageError):
    """A setting (environment variable, URL, credentials) is missing or invalid."""


class StepFailedError(FactoryError):
    """A pipeline step (check, tests, build, smoke test, docs) ran and failed."""


class TransientIndexError(FactoryError):
    """The index failed in a way worth retrying: a 5xx answer or a broken connection.

    Attributes:
        retry_after: Seconds the server asked to wait (``Retry-After``), if any;
            the retry policy waits at least that long.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UploadRejectedError(FactoryError):
    """The index refused an upload with a 4xx answer; retrying would not help.

    Attributes:
        status: The HTTP status code the index answered.
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class HashMismatchError(FactoryError):
    """A file of the same name is on the index with different content.

    Published files are immutable: the fix is a new version, never an overwrite.
    """


class DependencyNotPublishedError(FactoryError):
    """A package requires a sibling version that the index does not serve yet."""


class IndexVerificationError(FactoryError):
    """Uploaded files did not show up (with the right sha256) in the simple index."""
