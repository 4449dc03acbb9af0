"""The audit event model: who (actor) did what (action) to which resource, when and how.

Events are immutable named tuples, cheap to create and safe to share between threads.

>>> from maestro_audit_logger.models import Actor, Resource
>>> Actor("alice").type
'user'
>>> Resource.parse("invoice:42")
Resource(type='invoice', id='42')
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple, TypeAlias

from maestro_audit_logger.errors import LogFormatError, ValidationError

__all__ = [
    "SCHEMA_VERSION",
    "Actor",
    "AuditEvent",
    "JSONValue",
    "Outcome",
    "Resource",
    "Source",
]

#: Version of the record layout written by this release; stored in every record.
SCHEMA_VERSION = 1

JSONValue: TypeAlias = "None | bool | int | float | str | list[JSONValue] | dict[str, JSONValue]"


class Outcome(enum.StrEnum):
    """How the audited action ended.

    >>> Outcome("denied") is Outcome.DENIED
    True
    """

    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"
    ERROR = "error"


OUTCOMES = frozenset(o.value for o in Outcome)


class Actor(NamedTuple):
    """Who performed the action.

    Args:
        id: Stable identifier of the user, service account or system component.
        type: Kind of actor, e.g. ``user``, ``service``, ``system``.
        ip: Client address, if known.
        user_agent: Client user agent, if known.

    >>> Actor("svc-billing", type="service", ip="10.0.0.7")
    Actor(id='svc-billing', type='service', ip='10.0.0.7', user_agent=None)
    """

    id: str
    type: str = "user"
    ip: str | None = None
    user_agent: str | None = None

    def to_dict(self) -> dict[str, str]:
        """Return the JSON form, leaving out unknown optional fields.

        >>> Actor("alice").to_dict()
        {'id': 'alice', 'type': 'user'}
        """
        data = {"id": self.id, "type": self.type}
        if self.ip is not None:
            data["ip"] = self.ip
        if self.user_agent is not None:
            data["user_agent"] = self.user_agent
        return data


class Resource(NamedTuple):
    """What the action was performed on.

    >>> Resource("document", "d-17").to_dict()
    {'type': 'document', 'id': 'd-17'}
    """

    type: str
    id: str

    @classmethod
    def parse(cls, text: str) -> Resource:
        """Parse ``"type:id"`` (the id may itself contain colons).

        Raises:
            ValidationError: when there is no ``:`` or either side is empty.

        >>> Resource.parse("s3:bucket:key")
        Resource(type='s3', id='bucket:key')
        """
        kind, sep, ident = text.partition(":")
        if not sep or not kind or not ident:
            raise ValidationError(
                f"resource {text!r} must be written 'type:id' (e.g. 'invoice:42') "
                "or given as Resource(type, id)"
            )
        return cls(kind, ident)

    def to_dict(self) -> dict[str, str]:
        """Return the JSON form."""
        return {"type": self.type, "id": self.id}


class Source(NamedTuple):
    """Where the event was recorded: service name, host name and process id.

    >>> Source("billing", "web-1", 4242).service
    'billing'
    """

    service: str
    host: str
    pid: int

    def to_dict(self) -> dict[str, str | int]:
        """Return the JSON form."""
        return {"service": self.service, "host": self.host, "pid": self.pid}


class AuditEvent(NamedTuple):
    """One audit record as written to (or read back from) the trail.

    Attributes:
        seq: Gapless sequence number, starting at 1 for the first event of a log.
        id: Unique event id (RFC 9562 UUID, version 8: random per writer, then ``seq``).
        time: When the audited action happened (ISO 8601, UTC, ``Z`` suffix).
        recorded: When the logger recorded it (ISO 8601, UTC).
        action: What was done, e.g. ``user.login`` or ``invoice.delete``.
        actor: Who did it.
        outcome: ``success``, ``failure``, ``denied`` or ``error``.
        resource: What it was done to, if anything.
        reason: Free-text justification or error message (redacted).
        correlation_id: Request or trace id linking related events.
        source: Service, host and process that recorded the event.
        metadata: Extra JSON-safe fields (redacted).
        schema: Record layout version (:data:`SCHEMA_VERSION`).
        chain: Hex chain value that seals this record and every record before it.

    >>> event = AuditEvent.from_json(
    ...     '{"seq":1,"id":"x","time":"2026-01-02T03:04:05.000006Z",'
    ...     '"recorded":"2026-01-02T03:04:05.000006Z","action":"user.login",'
    ...     '"outcome":"success","actor":{"id":"alice","type":"user"},'
    ...     '"source":{"service":"web","host":"h","pid":1},"schema":1,"chain":"00"}'
    ... )
    >>> event.actor.id, event.event_time.year
    ('alice', 2026)
    """

    seq: int
    id: str
    time: str
    recorded: str
    action: str
    actor: Actor
    outcome: str
    resource: Resource | None
    reason: str | None
    correlation_id: str | None
    source: Source
    metadata: Mapping[str, Any]
    schema: int
    chain: str

    @property
    def event_time(self) -> datetime:
        """:attr:`time` as an aware UTC :class:`~datetime.datetime`."""
        return datetime.fromisoformat(self.time)

    @property
    def recorded_time(self) -> datetime:
        """:attr:`recorded` as an aware UTC :class:`~datetime.datetime`."""
        return datetime.fromisoformat(self.recorded)

    def to_dict(self) -> dict[str, Any]:
        """Return the record as plain JSON-ready data (the layout of the log line)."""
        data: dict[str, Any] = {
            "seq": self.seq,
            "id": self.id,
            "time": self.time,
            "recorded": self.recorded,
            "action": self.action,
            "outcome": self.outcome,
            "actor": self.actor.to_dict(),
        }
        if self.resource is not None:
            data["resource"] = self.resource.to_dict()
        if self.reason is not None:
            data["reason"] = self.reason
        if self.correlation_id is not None:
            data["correlation_id"] = self.correlation_id
        if self.metadata:
            data["metadata"] = dict(self.metadata)
        data["source"] = self.source.to_dict()
        data["schema"] = self.schema
        data["chain"] = self.chain
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEvent:
        """Build an event from a decoded record.

        Raises:
            LogFormatError: when a required field is missing or has the wrong type.
        """
        try:
            actor = data["actor"]
            resource = data.get("resource")
            source = data["source"]
            return cls(
                seq=int(data["seq"]),
                id=str(data["id"]),
                time=str(data["time"]),
                recorded=str(data["recorded"]),
                action=str(data["action"]),
                actor=Actor(
                    str(actor["id"]),
                    str(actor.get("type", "user")),
                    actor.get("ip"),
                    actor.get("user_agent"),
                ),
                outcome=str(data["outcome"]),
                resource=None if resource is None else Resource(resource["type"], resource["id"]),
                reason=data.get("reason"),
                correlation_id=data.get("correlation_id"),
                source=Source(str(source["service"]), str(source["host"]), int(source["pid"])),
                metadata=data.get("metadata") or {},
                schema=int(data.get("schema", SCHEMA_VERSION)),
                chain=str(data.get("chain", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LogFormatError(f"not an audit event record: missing or bad field {exc}") from exc

    @classmethod
    def from_json(cls, line: str | bytes) -> AuditEvent:
        """Parse one log line.

        Raises:
            LogFormatError: when the line is not JSON or not an event record.
        """
        if isinstance(line, bytes | bytearray):
            # Records are UTF-8; json.loads would guess UTF-16 or UTF-32 from odd bytes.
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise LogFormatError(
                    f"not a JSON record: invalid UTF-8 at byte {exc.start}"
                ) from exc
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise LogFormatError(f"not a JSON record: {exc}") from exc
        if not isinstance(data, dict):
            raise LogFormatError("not an audit event record: expected a JSON object")
        return cls.from_dict(data)
