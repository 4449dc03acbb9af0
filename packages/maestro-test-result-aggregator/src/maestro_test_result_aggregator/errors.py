"""Exceptions raised by maestro-test-result-aggregator.

Every exception derives from :class:`AggregatorError`, so callers can catch the
whole family at once; the CLI turns each of them into a one-line message and
exit code 2 instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class AggregatorError(Exception):
    """Base class of every error this package raises on purpose.

    >>> from maestro_test_result_aggregator import ResultStore
    >>> try:
    ...     ResultStore(":memory:").run("latest")
    ... except AggregatorError as exc:
    ...     print(type(exc).__name__)
    RunNotFoundError
    """


class StoreError(AggregatorError):
    """The store cannot be opened or used (not SQLite, not a result store).

    >>> issubclass(StoreVersionError, StoreError)
    True
    """


class StoreVersionError(StoreError):
    """The store was written by a newer release with a newer schema.

    >>> str(StoreVersionError("the store has schema version 9"))
    'the store has schema version 9'
    """


class RunNotFoundError(AggregatorError, LookupError):
    """A run reference (id, build, ``latest``) matched no run in the store.

    >>> issubclass(RunNotFoundError, LookupError)
    True
    """


class MissingExtraError(AggregatorError, ImportError):
    """An optional feature needs an extra that is not installed.

    >>> issubclass(MissingExtraError, ImportError)
    True
    """


class IngestError(AggregatorError):
    """One input could not be ingested; the other inputs were not affected.

    Attributes:
        source: The file (or ``"<TestRun>"``) that failed.
        reason: What was wrong with it, in words.

    >>> str(IngestError("results/a.xml", "no element found: line 11"))
    'results/a.xml: no element found: line 11'
    """

    def __init__(self, source: str | Path, reason: str) -> None:
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")

    def __reduce__(self) -> tuple[type[IngestError], tuple[str, str]]:
        # Keeps the two arguments when the error crosses a process boundary.
        return type(self), (self.source, self.reason)
