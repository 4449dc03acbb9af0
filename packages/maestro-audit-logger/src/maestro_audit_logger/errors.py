"""Exception classes raised by maestro-audit-logger.

Every error derives from :class:`AuditError`, so one ``except AuditError`` catches
anything this package raises on purpose. Input errors also derive from
:class:`ValueError`.

>>> from maestro_audit_logger.errors import AuditError, ValidationError
>>> issubclass(ValidationError, AuditError) and issubclass(ValidationError, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "ConfigError",
    "KeyMismatchError",
    "LogClosedError",
    "LogFormatError",
    "LogLockedError",
    "RecordTooLargeError",
    "SinkError",
    "UnsupportedPlatformError",
    "ValidationError",
]


class AuditError(Exception):
    """Base class of every error raised by maestro-audit-logger."""


class ValidationError(AuditError, ValueError):
    """An event was rejected before anything was written (bad field, non-JSON value...)."""


class RecordTooLargeError(ValidationError):
    """The encoded record is larger than ``max_record_bytes``."""


class ConfigError(AuditError, ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


class LogLockedError(AuditError):
    """Another process holds the exclusive writer lock of the log."""


class LogClosedError(AuditError):
    """The logger was closed; create a new one to write more events."""


class KeyMismatchError(AuditError):
    """The existing log was written with another key or chain algorithm."""


class LogFormatError(AuditError):
    """A file is not an audit log written by this package (or is damaged beyond repair)."""


class SinkError(AuditError):
    """A secondary sink or the checkpoint target failed; the record is in the primary log."""


class UnsupportedPlatformError(AuditError):
    """The requested feature needs POSIX file locks (``fcntl``), e.g. on Windows."""
