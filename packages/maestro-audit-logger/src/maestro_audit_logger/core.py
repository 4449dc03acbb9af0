"""The :class:`AuditLogger`: validate, redact, sequence, seal and write audit events.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
>>> with AuditLogger(path, key=b"0123456789abcdef0123456789abcdef") as audit:
...     event = audit.log("invoice.approve", actor="alice", resource="invoice:42")
>>> event.seq, event.outcome
(1, 'success')
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import queue as queue_lib
import secrets
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from json import JSONEncoder, dumps
from json import encoder as json_encoder
from json.encoder import encode_basestring
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from maestro_audit_logger._filelog import DURABILITIES, Durability, JsonlLog
from maestro_audit_logger.errors import (
    ConfigError,
    LogClosedError,
    RecordTooLargeError,
    SinkError,
    ValidationError,
)
from maestro_audit_logger.integrity import GENESIS, Algorithm, Chain, checkpoint_line
from maestro_audit_logger.models import (
    OUTCOMES,
    SCHEMA_VERSION,
    Actor,
    AuditEvent,
    Resource,
    Source,
)
from maestro_audit_logger.redaction import _SHORTEST_SECRET, DEFAULT_REDACTOR, Redactor
from maestro_audit_logger.sinks import BoundedQueue, Checkpoints, Repair, Rotation, Sink

if TYPE_CHECKING:
    from maestro_audit_logger.config import AuditConfig

__all__ = ["AuditLogger"]

_log = logging.getLogger("maestro_audit_logger")
# Loggers still open at interpreter exit are closed, so buffered records are written.
_open_loggers: weakref.WeakSet[AuditLogger] = weakref.WeakSet()


def _abandon_in_child() -> None:
    # A forked child shares the parent's descriptors, lock and buffer: writing from both
    # would duplicate records and fork the chain. The child must open its own logger.
    for audit in list(_open_loggers):
        audit._abandon_after_fork()
    _open_loggers.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_abandon_in_child)


@atexit.register
def _close_open_loggers() -> None:
    for audit in list(_open_loggers):
        try:
            audit.close()
        except Exception:  # keep closing the others
            _log.exception("could not close %r at exit", audit)


_EMPTY: Mapping[str, Any] = MappingProxyType({})
_new_tuple = tuple.__new__
_OUTCOME_JSON = {value: f'"outcome":"{value}"' for value in OUTCOMES}
_MAX_ACTION = 256
_ID_SEQ_OFFSET = 1 << 48
# Ints this long may be card numbers, which the redactor checks (see redact_value).
_CARD_SIZED = 1_000_000_000_000


def _json_encoder() -> Callable[[Any], str]:
    """Return a compact, non-ASCII-escaping JSON encoder for already-validated values.

    ``json.JSONEncoder.encode`` builds its C encoder on every call; building it once
    halves the cost of encoding metadata.
    """
    fallback = JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    make = getattr(json_encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - interpreters without the C accelerator
        return fallback

    def reject(value: Any) -> Any:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    encode = make(None, reject, encode_basestring, None, ":", ",", False, False, False)

    def encode_json(value: Any) -> str:
        return "".join(encode(value, 0))

    return encode_json


_encode_json = _json_encoder()


# "000Z" to "999Z": the microseconds within a millisecond, ready to append.
_MICROS_Z = tuple(f"{micros:03d}Z" for micros in range(1000))


def _timestamps(clock: Callable[[], int]) -> Callable[[], str]:
    """Return a function giving ISO 8601 UTC times with microseconds from ``clock`` (ns).

    This runs for every event: the text up to the millisecond is formatted once per
    millisecond (hundreds of events at full speed), the rest is a table lookup.
    """
    start = end = 0  # the millisecond formatted in prefix, as [start, end) in ns
    prefix = ""

    def timestamp() -> str:
        nonlocal start, end, prefix
        now = clock()
        if now >= end or now < start:
            start = now - now % 1_000_000
            end = start + 1_000_000
            second, millis = divmod(start // 1_000_000, 1000)
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)) + f"{millis:03d}"
        return prefix + _MICROS_Z[(now - start) // 1000]

    return timestamp


# An event validated and encoded, waiting for its sequence number and seal: action,
# actor, outcome, resource, reason, correlation id, metadata, event time, and the JSON
# of those fields (checked to encode as UTF-8). A plain tuple: this is the hot path.
_Pending = tuple[
    str, Actor, str, Resource | None, str | None, str | None, Mapping[str, Any], str | None, str
]


def _check_json(value: Any, where: str) -> None:
    """Reject values JSON cannot represent exactly (raises ValidationError naming ``where``)."""
    kind = type(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"{where} is {value!r}; JSON has no NaN or Infinity")
    elif isinstance(value, str | int) or value is None:
        return
    elif isinstance(value, dict):
        for name, item in value.items():
            if type(name) is not str:
                raise ValidationError(f"{where} has a non-string key {name!r}")
            _check_json(item, f"{where}.{name}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
    else:
        raise ValidationError(
            f"{where} is a {kind.__name__}, which is not JSON; convert it to str, number, "
            "bool, None, list or dict"
        )


def _encode_metadata(metadata: dict[str, Any]) -> str:
    """Validate and encode metadata as a JSON object.

    Flat str and int values (the usual case) are encoded inline, which is twice as fast
    as the general encoder; anything else is checked by :func:`_check_json` first.
    """
    parts = []
    for name, value in metadata.items():
        kind = type(value)
        if kind is str:
            parts.append(f"{encode_basestring(name)}:{encode_basestring(value)}")
        elif kind is int:
            parts.append(f"{encode_basestring(name)}:{value}")
        else:
            for other_name, other in metadata.items():
                _check_json(other, f"metadata field {other_name!r}")
            return _encode_json(metadata)
    return "{" + ",".join(parts) + "}"


def _has_surrogate(value: Any) -> bool:
    try:
        dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False


def _check_text(value: Any, name: str) -> str:
    if type(value) is not str:
        if isinstance(value, str):
            return str(value)
        raise ValidationError(f"{name} must be a str, not {type(value).__name__}")
    return value


def _utc_text(value: datetime | str, name: str) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{name} {value!r} is not an ISO 8601 time") from None
    if not isinstance(value, datetime):
        raise ValidationError(f"{name} must be a datetime or ISO 8601 str")
    if value.tzinfo is None:
        raise ValidationError(
            f"{name} {value.isoformat()} has no time zone; pass an aware datetime"
        )
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditLogger:
    """Tamper-evident, crash-safe audit logger. Thread-safe; use one per log file per process.

    Args:
        path: JSON Lines log file (created with its directory). ``None`` keeps the
            chain in memory and only feeds ``sinks``.
        key: Secret for the keyed chain (at least 16 bytes). Without it the chain is
            plain SHA-256: it detects accidental damage but not a deliberate rewrite.
        durability: ``"none"`` (the OS decides), ``"batch"`` (fsync every
            ``fsync_every`` records or ``fsync_interval`` seconds; default) or
            ``"always"`` (``log()`` returns only after fsync).
        algorithm: ``"blake2b"`` (default with a key), ``"hmac-sha256"`` or ``"sha256"``.
        service: Service name stored in every record (default: the program name).
        sinks: Extra destinations receiving every sealed record.
        redactor: Redaction rules; ``None`` turns redaction off.
        rotation: When to rotate and what to keep (:class:`Rotation`).
        shared: Several processes append to the same file (a file lock per write).
        max_record_bytes: Largest accepted encoded record.
        fsync_every: Records between fsyncs in ``batch`` mode.
        fsync_interval: Seconds between fsyncs in ``batch`` mode.
        checkpoints: Periodically write the chain head elsewhere (:class:`Checkpoints`).
        queue: Non-blocking mode with a bounded queue (:class:`BoundedQueue`).
        clock: Nanoseconds since the epoch (inject a fake clock in tests).

    Raises:
        ConfigError: a bad argument.
        LogLockedError: another process writes the file and ``shared`` is false.
        KeyMismatchError: the file was written with another key or algorithm.

    >>> from maestro_audit_logger.sinks import MemorySink
    >>> memory = MemorySink()
    >>> audit = AuditLogger(sinks=[memory], service="billing")
    >>> audit.log("user.login", actor="alice", outcome="denied", reason="bad password").seq
    1
    >>> memory.events[0].source.service
    'billing'
    >>> audit.close()
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        key: bytes | str | None = None,
        durability: Durability = "batch",
        algorithm: Algorithm | None = None,
        service: str | None = None,
        sinks: Iterable[Sink] = (),
        redactor: Redactor | None = DEFAULT_REDACTOR,
        rotation: Rotation | None = None,
        shared: bool = False,
        max_record_bytes: int = 64 * 1024,
        fsync_every: int = 1000,
        fsync_interval: float = 0.2,
        checkpoints: Checkpoints | None = None,
        queue: BoundedQueue | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        if durability not in DURABILITIES:
            raise ConfigError(
                f"durability must be one of {', '.join(DURABILITIES)}, not {durability!r}"
            )
        for name, number in (("max_record_bytes", max_record_bytes), ("fsync_every", fsync_every)):
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise ConfigError(f"{name} must be a positive integer, not {number!r}")
        if (
            isinstance(fsync_interval, bool)
            or not isinstance(fsync_interval, int | float)
            or not 0 < fsync_interval < math.inf  # also rejects NaN
        ):
            raise ConfigError(
                "fsync_interval must be a positive, finite number of seconds, "
                f"not {fsync_interval!r}"
            )
        self._chain = Chain.create(key, algorithm)
        self._mac = self._chain._mac
        self._keyed_state = self._chain._state
        self._redactor = redactor
        # The one-pass metadata path knows what the stock Redactor does; a subclass may
        # redact differently, so it always gets its own redact_in_place().
        self._redact_text: Callable[[str], str] | None = None
        if redactor is not None and type(redactor) is Redactor:
            self._redact_text = redactor.redact_text
        self._metadata_keys: dict[str, str] = {}  # field name -> its JSON key and colon
        self._sinks = tuple(sinks)
        self._max_record_bytes = max_record_bytes
        self._timestamp = _timestamps(clock)
        self._mutex = threading.Lock()
        self._closed = False
        self._closed_reason = "the audit logger is closed; create a new one"
        self._durability = durability
        program = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else ""
        self.source = Source(
            service or program or "python",
            socket.gethostname(),
            os.getpid(),
        )
        self._source_json = (
            f',"source":{dumps(self.source.to_dict(), separators=(",", ":"))}'
            f',"schema":{SCHEMA_VERSION}'
        )
        # Bytes of a record besides the validated fields: source, seq, id, times, chain.
        self._record_overhead = len(self._source_json) + 250
        # RFC 9562 version 8 UUID: 80 random bits unique to this writer, then the record's
        # 48-bit sequence number, which one writer never uses twice.
        raw = bytearray(secrets.token_bytes(10))
        raw[6] = (raw[6] & 0x0F) | 0x80
        raw[8] = (raw[8] & 0x3F) | 0x80
        hexed = raw.hex()
        self._id_prefix = f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-"
        # JSON of recently seen actions, actors and resources (validated when first seen)
        self._action_cache: dict[str, str] = {}
        self._actor_cache: dict[str, tuple[Actor, str]] = {}
        self._resource_cache: dict[Any, tuple[Resource, str]] = {}
        self._next_seq = 1
        self._previous = GENESIS
        self._dropped = 0
        self._dropped_unreported = 0
        self._drop_lock = threading.Lock()
        # Queue mode: held while an event is put, so close() never stops the writer
        # between a caller's closed check and its put (the event would be lost).
        self._enqueue_lock = threading.Lock()
        self._stopping = False
        self._checkpoints = checkpoints
        self._checkpoint_write = None if checkpoints is None else checkpoints.writer()
        self._sinks_or_checkpoints = bool(self._sinks) or checkpoints is not None
        self._file: JsonlLog | None = None
        if path is not None:
            self._file = JsonlLog(
                Path(path),
                self._chain,
                mutex=self._mutex,
                durability=durability,
                fsync_every=fsync_every,
                fsync_interval=float(fsync_interval),
                rotation=rotation,
                shared=shared,
                max_record_bytes=max_record_bytes,
                timestamp=self._timestamp,
                clock=clock,
            )
        self._sync_each = durability == "always" and self._file is not None
        self._shared_file = self._file if self._file is not None and shared else None
        self._queue: queue_lib.Queue[_Pending | None] | None = None
        self._queue_policy = queue
        self._writer: threading.Thread | None = None
        if queue is not None:
            self._queue = queue_lib.Queue(queue.maxsize)
            self._writer = threading.Thread(target=self._drain, name="audit-writer", daemon=True)
            self._writer.start()
        _open_loggers.add(self)

    # ---- construction from configuration ---------------------------------------------
    @classmethod
    def from_config(
        cls, config: AuditConfig | Mapping[str, Any] | str | os.PathLike[str], **overrides: Any
    ) -> AuditLogger:
        """Build a logger from an :class:`AuditConfig`, a mapping or a TOML file path.

        Keyword ``overrides`` (e.g. ``sinks=[...]`` or ``clock=...``) are passed through.

        >>> audit = AuditLogger.from_config({"path": None, "durability": "none"})
        >>> audit.durability
        'none'
        >>> audit.close()
        """
        from maestro_audit_logger.config import AuditConfig

        if isinstance(config, Mapping):
            config = AuditConfig.from_dict(config)
        elif not isinstance(config, AuditConfig):
            config = AuditConfig.from_toml(config)
        return cls(**{**config.logger_kwargs(), **overrides})

    # ---- public properties ---------------------------------------------------------
    @property
    def durability(self) -> str:
        """The durability policy in force."""
        return self._durability

    @property
    def algorithm(self) -> str:
        """Chain algorithm (``blake2b``, ``hmac-sha256`` or ``sha256``)."""
        return self._chain.algorithm

    @property
    def dropped(self) -> int:
        """Events discarded because the bounded queue was full (``when_full="drop"``)."""
        return self._dropped

    @property
    def repairs(self) -> list[Repair]:
        """Torn records cut off when the log was opened (empty after a clean shutdown)."""
        return [] if self._file is None else list(self._file.repairs)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def path(self) -> Path | None:
        """The active log file, if any."""
        return None if self._file is None else self._file.path

    # ---- logging ---------------------------------------------------------------------
    def log(
        self,
        action: str,
        *,
        actor: str | Actor,
        resource: str | Resource | tuple[str, str] | None = None,
        outcome: str = "success",
        reason: str | None = None,
        correlation_id: str | None = None,
        event_time: datetime | str | None = None,
        **metadata: Any,
    ) -> AuditEvent:
        """Record one event and return it, sealed.

        Everything is validated before anything is written: a bad event raises and
        leaves the log untouched. Secrets in ``reason`` and ``metadata`` are redacted
        before sealing.

        Args:
            action: What was done, e.g. ``"user.login"``.
            actor: Actor id (type ``user``) or an :class:`~maestro_audit_logger.models.Actor`.
            resource: ``"type:id"``, ``(type, id)`` or a ``Resource``.
            outcome: ``success``, ``failure``, ``denied`` or ``error``.
            reason: Why (justification, error message).
            correlation_id: Request or trace id.
            event_time: When the action happened, if not now (aware datetime or ISO str).
            **metadata: Extra JSON-safe fields.

        Returns:
            The sealed event (in :class:`BoundedQueue` mode: not yet sequenced, ``seq`` 0).

        Raises:
            ValidationError: a field is missing, not JSON-safe, or the record is too big.
            LogClosedError: the logger is closed.

        >>> audit = AuditLogger()
        >>> audit.log("x", actor="a", outcome="maybe")
        Traceback (most recent call last):
        ...
        maestro_audit_logger.errors.ValidationError: outcome must be one of ...
        >>> audit.close()
        """
        pending = self._prepare(
            action, actor, resource, outcome, reason, correlation_id, event_time, metadata
        )
        if self._queue is not None:
            return self._enqueue(pending)
        mutex = self._mutex
        mutex.acquire()  # not `with`: this is half the cost on the hot path
        try:
            if self._closed:
                raise LogClosedError(self._closed_reason)
            event, position = self._commit(pending)
        finally:
            mutex.release()
        if self._sync_each:
            self._file.sync_to(position)  # type: ignore[union-attr]
        return event

    def _prepare(
        self,
        action: Any,
        actor: Any,
        resource: Any,
        outcome: Any,
        reason: Any,
        correlation_id: Any,
        event_time: Any,
        metadata: dict[str, Any],
    ) -> _Pending:
        if self._closed:
            raise LogClosedError(self._closed_reason)
        action_json = self._action_cache.get(action) if type(action) is str else None
        if action_json is None:
            action_json = self._action(action)
        outcome_json = _OUTCOME_JSON.get(outcome) if isinstance(outcome, str) else None
        if outcome_json is None:
            raise ValidationError(
                f"outcome must be one of {', '.join(sorted(OUTCOMES))}, not {outcome!r}"
            )
        cached = self._actor_cache.get(actor) if type(actor) is str else None
        if cached is None:
            cached = self._actor(actor)
        actor_obj, actor_json = cached
        resource_obj, resource_json = None, ""
        if resource is not None:
            cached_resource = self._resource_cache.get(resource) if type(resource) is str else None
            if cached_resource is None:
                cached_resource = self._resource(resource)
            resource_obj, resource_json = cached_resource
        text = f"{action_json}{outcome_json}{actor_json}{resource_json}"
        redactor = self._redactor
        if reason is not None:
            reason = _check_text(reason, "reason")
            if redactor is not None:
                reason = redactor.redact_text(reason)
            text += ',"reason":' + encode_basestring(reason)
        if correlation_id is not None:
            correlation_id = _check_text(correlation_id, "correlation_id")
            text += ',"correlation_id":' + encode_basestring(correlation_id)
        meta: Mapping[str, Any] = _EMPTY
        if metadata:
            # **metadata is our own fresh dict: redacted in place, typed read-only after
            text += self._metadata_json(metadata)
            meta = metadata
        when = None if event_time is None else _utc_text(event_time, "event_time")
        try:  # ASCII (a flag lookup) is the common case and cannot hold a surrogate
            size = (len(text) if text.isascii() else len(text.encode())) + self._record_overhead
        except UnicodeEncodeError as exc:
            fields_checked = {
                "action": action,
                "actor": actor_obj,
                "resource": resource_obj,
                "reason": reason,
                "correlation_id": correlation_id,
                **{f"metadata field {name!r}": value for name, value in metadata.items()},
            }
            where = next(
                (name for name, value in fields_checked.items() if _has_surrogate(value)), "event"
            )
            raise ValidationError(
                f"{where} contains a lone surrogate ({exc.object[exc.start : exc.end]!r}); "
                "text must be valid Unicode"
            ) from None
        if size > self._max_record_bytes:
            raise RecordTooLargeError(
                f"record is about {size} bytes; the limit is {self._max_record_bytes} "
                "(max_record_bytes): store large data elsewhere and log a reference"
            )
        return (
            action,
            actor_obj,
            outcome if type(outcome) is str else str(outcome),  # Outcome members too
            resource_obj,
            reason,
            correlation_id,
            meta,
            when,
            text,
        )

    def _metadata_json(self, metadata: dict[str, Any]) -> str:
        """Redact ``metadata`` in place and return its ``,"metadata":{...}`` JSON part.

        One pass for the usual case: field names already seen and let through by the
        redactor, with str or (card-number-short) int values. Anything else takes the
        general path: the redactor's own pass, then full validation and encoding.
        """
        keys, redact_text, encoded = self._metadata_keys, self._redact_text, ""
        for name, value in metadata.items():
            key = keys.get(name)
            if key is None:
                return self._metadata_json_general(metadata)
            if type(value) is str:
                if redact_text is not None and len(value) >= _SHORTEST_SECRET:
                    value = metadata[name] = redact_text(value)
                encoded += f",{key}{encode_basestring(value)}"
            elif type(value) is int and -_CARD_SIZED < value < _CARD_SIZED:
                encoded += f",{key}{value}"
            else:
                return self._metadata_json_general(metadata)
        return f',"metadata":{{{encoded[1:]}}}'

    def _metadata_json_general(self, metadata: dict[str, Any]) -> str:
        redactor = self._redactor
        if redactor is not None:
            redactor.redact_in_place(metadata)
        keys = self._metadata_keys
        # Remember names for the one-pass path, unless a Redactor subclass must see
        # every field itself.
        if redactor is None or self._redact_text is not None:
            for name in metadata:
                if len(keys) < 4096 and (redactor is None or not redactor.is_secret_field(name)):
                    keys[name] = encode_basestring(name) + ":"
        return ',"metadata":' + _encode_metadata(metadata)

    def _action(self, action: Any) -> str:
        if type(action) is not str or not action or len(action) > _MAX_ACTION:
            if not isinstance(action, str):
                raise ValidationError(f"action must be a str, not {type(action).__name__}")
            raise ValidationError(
                f"action must be 1 to {_MAX_ACTION} characters, got {len(action)}"
            )
        result = f'"action":{encode_basestring(action)},'
        if len(self._action_cache) < 4096:
            self._action_cache[action] = result
        return result

    def _actor(self, actor: Any) -> tuple[Actor, str]:
        if isinstance(actor, str):
            if not actor:
                raise ValidationError("actor must not be empty")
            value = Actor(actor)
        elif isinstance(actor, Actor):
            for name in ("id", "type"):
                if not isinstance(getattr(actor, name), str) or not getattr(actor, name):
                    raise ValidationError(f"actor.{name} must be a non-empty str")
            for name in ("ip", "user_agent"):
                if getattr(actor, name) is not None:
                    _check_text(getattr(actor, name), f"actor.{name}")
            value = actor
        else:
            raise ValidationError(f"actor must be a str id or an Actor, not {type(actor).__name__}")
        result = (
            value,
            ',"actor":' + dumps(value.to_dict(), ensure_ascii=False, separators=(",", ":")),
        )
        if isinstance(actor, str) and len(self._actor_cache) < 4096:
            self._actor_cache[actor] = result
        return result

    def _resource(self, resource: Any) -> tuple[Resource, str]:
        if isinstance(resource, str):
            value = Resource.parse(resource)
        elif isinstance(resource, tuple) and len(resource) == 2:
            kind, ident = resource
            if not isinstance(kind, str) or not isinstance(ident, str) or not kind or not ident:
                raise ValidationError("resource type and id must be non-empty str")
            value = Resource(kind, ident)
        else:
            raise ValidationError(
                "resource must be 'type:id', (type, id) or a Resource, "
                f"not {type(resource).__name__}"
            )
        result = (
            value,
            ',"resource":' + dumps(value.to_dict(), ensure_ascii=False, separators=(",", ":")),
        )
        if isinstance(resource, str) and len(self._resource_cache) < 4096:
            self._resource_cache[resource] = result
        return result

    def _commit(self, pending: _Pending) -> tuple[AuditEvent, int]:
        """Sequence, seal, write and fan out one event. Called with the mutex held."""
        action, actor, outcome, resource, reason, correlation_id, metadata, when, fields = pending
        file = self._file
        locked = self._shared_file
        if file is None:
            seq, previous = self._next_seq, self._previous
        elif locked is not None:
            seq, previous = locked.begin()  # locks the file and reads another writer's head
        else:
            seq, previous = file.next_seq, file.previous
        try:
            recorded = self._timestamp()
            # hex() of 2**48 + seq is "0x1" and 12 digits: cheaper than a format spec
            event_id = self._id_prefix + hex(_ID_SEQ_OFFSET + seq)[3:]
            when = when or recorded
            body = (  # one str, one encode: fewer copies than joining bytes
                f'{{"seq":{seq},"id":"{event_id}","time":"{when}","recorded":"{recorded}",'
                f"{fields}{self._source_json}"
            ).encode()
            keyed = self._keyed_state  # inlined MAC: one call less per event
            if keyed is not None:
                state = keyed()
                state.update(previous + body)
                chain = state.hexdigest()
                value = chain.encode()
            else:
                value = self._mac(previous + body)
                chain = value.decode()
            line = body + b',"chain":"' + value + b'"}\n'
            position = 0
            if file is None:
                self._next_seq, self._previous = seq + 1, value
            elif (buffer := file.fast_buffer) is not None:
                file.next_seq, file.previous = seq + 1, value
                buffer.append(line)
                if len(buffer) >= file.spill_at:
                    file.spill()
            else:
                position = file.commit(line, seq + 1, value)
        finally:
            if locked is not None:
                locked.end()  # before the sinks, which may be slow
        event: AuditEvent = _new_tuple(  # AuditEvent._make without the extra calls
            AuditEvent,
            (
                seq,
                event_id,
                when,
                recorded,
                action,
                actor,
                outcome,
                resource,
                reason,
                correlation_id,
                self.source,
                metadata,
                SCHEMA_VERSION,
                chain,
            ),
        )
        if self._sinks_or_checkpoints:
            try:
                if self._sinks:
                    self._fan_out(event, line)
            finally:  # a failing sink must not cost the checkpoint
                if self._checkpoints is not None and seq % self._checkpoints.every == 0:
                    self._write_checkpoint(seq, value)
        return event, position

    def _fan_out(self, event: AuditEvent, line: bytes) -> None:
        failures = []
        for sink in self._sinks:
            try:
                sink.emit(event, line)
            except Exception as exc:
                failures.append(f"{type(sink).__name__}: {exc}")
        if failures:
            raise SinkError(
                f"event seq {event.seq} is in the primary log, but sink(s) failed: "
                + "; ".join(failures)
            )

    def _write_checkpoint(self, seq: int, value: bytes) -> None:
        assert self._checkpoint_write is not None
        name = "memory" if self._file is None else self._file.path.name
        line = checkpoint_line(self._chain, seq, value, name, self._timestamp())
        try:
            self._checkpoint_write(line)
        except Exception as exc:
            raise SinkError(
                f"event seq {seq} is in the primary log, but its checkpoint could not be "
                f"written: {exc}"
            ) from exc

    # ---- bounded queue mode ------------------------------------------------------------
    def _enqueue(self, pending: _Pending) -> AuditEvent:
        assert self._queue is not None and self._queue_policy is not None
        with self._enqueue_lock:
            if self._stopping:
                raise LogClosedError(self._closed_reason)
            if self._queue_policy.when_full == "drop":
                try:
                    self._queue.put_nowait(pending)
                except queue_lib.Full:
                    # Not the main mutex: the writer thread may hold it while a sink is slow.
                    with self._drop_lock:
                        self._dropped += 1
                        self._dropped_unreported += 1
            else:
                self._queue.put(pending)
        action, actor, outcome, resource, reason, correlation_id, metadata, when, _ = pending
        return AuditEvent(
            0,
            "",
            when or "",
            "",
            action,
            actor,
            outcome,
            resource,
            reason,
            correlation_id,
            self.source,
            metadata,
            SCHEMA_VERSION,
            "",
        )

    def _drain(self) -> None:
        assert self._queue is not None
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                with self._mutex:
                    if self._dropped_unreported:
                        self._report_drops()
                    event, position = self._commit(item)
                if self._sync_each:
                    self._file.sync_to(position)  # type: ignore[union-attr]
            except Exception:
                _log.exception("audit writer: could not write a queued event")
            finally:
                self._queue.task_done()

    def _report_drops(self) -> None:
        with self._drop_lock:
            count, self._dropped_unreported = self._dropped_unreported, 0
        notice = self._prepare(
            "audit.events_dropped",
            Actor("maestro-audit-logger", "system"),
            None,
            "error",
            "the bounded queue was full",
            None,
            None,
            {"count": count},
        )
        self._commit(notice)

    # ---- lifecycle ---------------------------------------------------------------------
    def flush(self) -> None:
        """Wait for queued events, write buffered records and fsync (unless ``none``)."""
        if self._queue is not None:
            self._queue.join()
        with self._mutex:
            if self._dropped_unreported and not self._closed:
                self._report_drops()
        if self._file is not None:
            self._file.flush(sync=self._durability != "none")
        for sink in self._sinks:
            sink.flush()

    def _abandon_after_fork(self) -> None:
        self._closed = True
        self._closed_reason = (
            "this audit logger was opened before the process forked; open a new one in "
            "each worker process (with shared=True if they write the same file)"
        )
        if self._file is not None:
            self._file.abandon()
        self._queue = None  # its writer thread exists only in the parent

    def close(self) -> None:
        """Flush everything, write a final checkpoint and release the file. Idempotent."""
        if self._closed:
            return
        if self._queue is not None and self._writer is not None:
            with self._enqueue_lock:  # waits for a put in progress; later ones are refused
                self._stopping = True
            self._queue.join()
            self._queue.put(None)
            self._writer.join()
        failures: list[Exception] = []
        with self._mutex:
            try:
                if self._dropped_unreported:
                    self._report_drops()
            except Exception as exc:  # e.g. a failing sink: still close everything below
                failures.append(exc)
            if self._dropped:
                _log.warning("audit logger dropped %d events (queue full)", self._dropped)
            self._closed = True
            if self._checkpoints is not None:
                head = self._file.previous if self._file is not None else self._previous
                seq = (self._file.next_seq if self._file is not None else self._next_seq) - 1
                if seq >= 1:
                    try:
                        self._write_checkpoint(seq, head)
                    except SinkError as exc:
                        failures.append(exc)
        # Whatever failed above, the records must reach the file and the lock be released.
        try:
            if self._file is not None:
                self._file.close()
        finally:
            _open_loggers.discard(self)
            for sink in self._sinks:
                try:
                    sink.close()
                except Exception as exc:
                    failures.append(SinkError(f"{type(sink).__name__}: {exc}"))
        if failures:
            raise failures[0]

    def __enter__(self) -> AuditLogger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        target = "memory" if self._file is None else str(self._file.path)
        return f"<AuditLogger {target} {self._chain.algorithm} durability={self._durability}>"
