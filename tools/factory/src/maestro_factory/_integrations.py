"""Publishing's use of maestro-resilience (index retries, polling) and maestro-audit-logger.

Keeping both libraries behind these few functions means the publishing logic
reads as plain Python. (The embedded index waits for its server with
maestro-resilience directly.)
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Self, TypeVar

from maestro_audit_logger import Actor, AuditError, AuditLogger, ConfigError, Resource
from maestro_resilience import ExponentialBackoff, RetryEvent, RetryExhaustedError, retry

from maestro_factory.errors import ConfigurationError, StepFailedError, TransientIndexError

__all__ = ["ReleaseAudit", "RetryPolicy", "call_with_retries", "poll"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry: exponential backoff with jitter.

    Attributes:
        attempts: Total attempts, the first included.
        initial_delay: Delay before the first retry, in seconds (doubles each retry).
        max_delay: Upper bound of one delay, in seconds.

    >>> RetryPolicy(attempts=3, initial_delay=0.5).attempts
    3
    """

    attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 30.0

    def _backoff(self) -> ExponentialBackoff:
        return ExponentialBackoff(
            initial=self.initial_delay,
            max_delay=max(self.max_delay, self.initial_delay),
            jitter="equal",
        )


def call_with_retries(
    operation: Callable[[], T], *, policy: RetryPolicy, what: str, say: Callable[[str], None]
) -> T:
    """Run *operation*, retrying :class:`TransientIndexError` (5xx, broken connections).

    Other exceptions (a 4xx answer, a hash mismatch) propagate at once. When the
    attempts run out, the last :class:`TransientIndexError` propagates.
    """

    def announce(event: RetryEvent) -> None:
        say(
            f"  {what}: attempt {event.attempt} failed ({event.exception}); retrying in {event.delay:.1f} s"
        )

    policy_ = retry(
        max_attempts=policy.attempts,
        on=TransientIndexError,
        backoff=policy._backoff(),
        on_retry=announce,
        name=what,
    )
    return policy_(operation)()


def poll(
    probe: Callable[[], T],
    *,
    until: Callable[[T], bool],
    policy: RetryPolicy,
    what: str,
    say: Callable[[str], None],
) -> T:
    """Call *probe* until *until* accepts its result or the attempts run out; return the last result.

    Transient index errors during polling are retried as well.
    """

    def announce(event: RetryEvent) -> None:
        cause = event.exception if event.exception is not None else "not there yet"
        say(f"  {what}: {cause}; looking again in {event.delay:.1f} s")

    policy_ = retry(
        max_attempts=policy.attempts,
        on=TransientIndexError,
        retry_if_result=lambda result: not until(result),
        backoff=policy._backoff(),
        on_retry=announce,
        name=what,
    )
    try:
        return policy_(probe)()
    except RetryExhaustedError as exhausted:
        last: T = exhausted.last_result  # type: ignore[assignment]
        return last


def current_actor(environ: Mapping[str, str] = os.environ) -> Actor:
    """Who runs the release: the CI actor when there is one, else the local user."""
    if environ.get("GITHUB_ACTOR"):
        return Actor(environ["GITHUB_ACTOR"], type="ci")
    try:
        return Actor(getpass.getuser(), type="user")
    except (KeyError, OSError):  # no passwd entry in some containers
        return Actor("unknown", type="user")


class ReleaseAudit:
    """Records every publish decision in a tamper-evident audit log (JSON lines).

    Each record is flushed to disk before the next step (``durability="always"``):
    a release log is short and must survive a crash mid-publish. Use it as a
    context manager, or call :meth:`close`.

    Args:
        path: The audit log file (created with its folder when missing).
        key: Optional HMAC key that signs the records (``FACTORY_AUDIT_KEY``).
        actor: Who releases; defaults to :func:`current_actor`.
    """

    def __init__(self, path: Path, *, key: str | None = None, actor: Actor | None = None) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._logger = AuditLogger(
                path, key=key, durability="always", service="maestro-factory"
            )
        except ConfigError as error:  # a key that is too short, ...: never echoed by the library
            raise ConfigurationError(f"cannot open the release audit log {path}: {error}") from None
        except OSError as error:  # a folder, a path under a file, no permission, ...
            raise ConfigurationError(
                f"cannot open the release audit log {path}: {error.strerror or error}; "
                "pass a writable file path with --audit-log"
            ) from None
        except AuditError as error:  # locked by another run, written with another key, ...
            raise StepFailedError(f"cannot open the release audit log {path}: {error}") from None
        self._actor = actor or current_actor()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close the log."""
        self._logger.close()

    def record(
        self,
        action: str,
        filename: str,
        *,
        outcome: str = "success",
        reason: str | None = None,
        **metadata: str,
    ) -> None:
        """Append one record about a distribution file.

        Raises:
            StepFailedError: The record could not be written.
        """
        try:
            self._logger.log(
                action,
                actor=self._actor,
                resource=Resource("distribution", filename),
                outcome=outcome,
                reason=reason,
                **metadata,
            )
        except AuditError as error:
            raise StepFailedError(
                f"cannot write to the release audit log {self.path}: {error}"
            ) from None
        except OSError as error:  # the disk is full, the file system went read-only, ...
            raise StepFailedError(
                f"cannot write to the release audit log {self.path}:"
                f" {error.strerror or error}; free space or pass another --audit-log,"
                " then run the release again (it resumes where it stopped)"
            ) from None
