"""maestro-audit-logger: tamper-evident, crash-safe audit trail (stdlib only).

>>> import os, tempfile
>>> from maestro_audit_logger import AuditLogger, verify
>>> path = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
>>> key = b"an-example-key-of-32-bytes-long!"
>>> with AuditLogger(path, key=key, service="billing") as audit:
...     _ = audit.log("invoice.approve", actor="alice", resource="invoice:42", amount=120)
>>> verify(path, key=key).ok
True
"""

from importlib.metadata import PackageNotFoundError, version

from maestro_audit_logger.config import AuditConfig
from maestro_audit_logger.core import AuditLogger
from maestro_audit_logger.errors import (
    AuditError,
    ConfigError,
    KeyMismatchError,
    LogClosedError,
    LogFormatError,
    LogLockedError,
    RecordTooLargeError,
    SinkError,
    UnsupportedPlatformError,
    ValidationError,
)
from maestro_audit_logger.exporters import EventFilter, export, read_events
from maestro_audit_logger.integrity import Problem, VerifyResult, verify
from maestro_audit_logger.models import Actor, AuditEvent, Outcome, Resource, Source
from maestro_audit_logger.redaction import Redactor
from maestro_audit_logger.sinks import (
    AuditHandler,
    BoundedQueue,
    CallableSink,
    Checkpoints,
    LoggingSink,
    MemorySink,
    Repair,
    Rotation,
    Sink,
    SQLiteSink,
    StreamSink,
)

try:
    __version__ = version("maestro-audit-logger")
except PackageNotFoundError:  # pragma: no cover - source tree without an install
    __version__ = "0+unknown"

__all__ = [
    "Actor",
    "AuditConfig",
    "AuditError",
    "AuditEvent",
    "AuditHandler",
    "AuditLogger",
    "BoundedQueue",
    "CallableSink",
    "Checkpoints",
    "ConfigError",
    "EventFilter",
    "KeyMismatchError",
    "LogClosedError",
    "LogFormatError",
    "LogLockedError",
    "LoggingSink",
    "MemorySink",
    "Outcome",
    "Problem",
    "RecordTooLargeError",
    "Redactor",
    "Repair",
    "Resource",
    "Rotation",
    "SQLiteSink",
    "Sink",
    "SinkError",
    "Source",
    "StreamSink",
    "UnsupportedPlatformError",
    "ValidationError",
    "VerifyResult",
    "__version__",
    "export",
    "read_events",
    "verify",
]
