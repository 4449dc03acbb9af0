"""Streaming readers, filters and exporters (JSON, JSON Lines, CSV, CEF, RFC 5424 syslog).

Everything streams: one event in memory at a time, whatever the size of the log.
Readers split records on ``\\n`` only, so U+2028 and other separators inside data
never split a record.

>>> import io
>>> from maestro_audit_logger import AuditLogger, MemorySink
>>> memory = MemorySink()
>>> with AuditLogger(sinks=[memory]) as audit:
...     _ = audit.log("report.export", actor="bob", reason="=HYPERLINK(\\"http://x\\")")
>>> out = io.StringIO()
>>> export(memory.events, out, "csv")
1
>>> "'=HYPERLINK" in out.getvalue()
True
"""

from __future__ import annotations

import csv
import fnmatch
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from maestro_audit_logger._segments import log_files
from maestro_audit_logger.errors import ConfigError, LogFormatError
from maestro_audit_logger.models import OUTCOMES, AuditEvent

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "EventFilter",
    "ExportFormat",
    "TextOutput",
    "export",
    "read_events",
    "safe_csv_cell",
    "to_cef",
    "to_csv",
    "to_json_array",
    "to_jsonl",
    "to_syslog",
]

ExportFormat = Literal["json", "jsonl", "csv", "cef", "syslog"]


class TextOutput(Protocol):
    """Where exporters write: anything with ``write(str)`` (a text file, ``sys.stdout``...)."""

    def write(self, text: str, /) -> object:
        """Write ``text``."""


FORMATS: tuple[ExportFormat, ...] = ("json", "jsonl", "csv", "cef", "syslog")


def _utc(value: datetime | str, name: str) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{name} {value!r} is not an ISO 8601 time") from None
    if not isinstance(value, datetime):
        raise ConfigError(
            f"{name} must be a datetime or an ISO 8601 str, not {type(value).__name__}"
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Select events; every given criterion must match.

    ``actor``, ``action`` and ``resource`` accept shell-style globs (``user.*``,
    ``invoice:*``). Times without a zone are taken as UTC; ``since`` is inclusive
    and ``until`` exclusive, compared with the event time.

    >>> from maestro_audit_logger.models import Actor, AuditEvent, Source
    >>> event = AuditEvent(1, "i", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000000Z",
    ...     "user.login", Actor("alice"), "denied", None, None, None, Source("s", "h", 1),
    ...     {}, 1, "")
    >>> EventFilter(action="user.*", outcomes=("denied",))(event)
    True
    >>> EventFilter(since="2026-06-01")(event)
    False
    """

    since: datetime | str | None = None
    until: datetime | str | None = None
    actor: str | None = None
    action: str | None = None
    outcomes: tuple[str, ...] = ()
    resource: str | None = None
    _since: str | None = field(init=False, repr=False, compare=False, default=None)
    _until: str | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        outcomes: object = self.outcomes  # typed as a tuple, but callers pass a str too
        if isinstance(outcomes, str):  # its letters would be taken as outcomes
            raise ConfigError(f"outcomes must be a tuple such as ({outcomes!r},), not a str")
        for outcome in self.outcomes:
            if outcome not in OUTCOMES:
                raise ConfigError(
                    f"outcome filter {outcome!r} is not one of {', '.join(sorted(OUTCOMES))}"
                )
        object.__setattr__(
            self, "_since", None if self.since is None else _utc(self.since, "since")
        )
        object.__setattr__(
            self, "_until", None if self.until is None else _utc(self.until, "until")
        )

    def __call__(self, event: AuditEvent) -> bool:
        since, until = self._since, self._until
        if since is not None and event.time < since:
            return False
        if until is not None and event.time >= until:
            return False
        if self.outcomes and event.outcome not in self.outcomes:
            return False
        if self.action is not None and not fnmatch.fnmatchcase(event.action, self.action):
            return False
        if self.actor is not None and not fnmatch.fnmatchcase(event.actor.id, self.actor):
            return False
        if self.resource is not None:
            if event.resource is None:
                return False
            name = f"{event.resource.type}:{event.resource.id}"
            if not fnmatch.fnmatchcase(name, self.resource):
                return False
        return True


def read_events(
    path: str | os.PathLike[str], where: Callable[[AuditEvent], bool] | None = None
) -> Iterator[AuditEvent]:
    """Yield the events of a log (rotated segments first), optionally filtered.

    Segment headers are skipped and a torn last line (crash) is ignored. Reading
    does not verify the chain; use :func:`~maestro_audit_logger.verify` for that.

    Raises:
        FileNotFoundError: no log at ``path``.
        LogFormatError: a line is not an audit record (the message names file and line).
    """
    for name in log_files(path):
        with open(name, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.endswith(b"\n"):
                    break
                if line.startswith(b'{"segment":'):
                    continue
                try:
                    event = AuditEvent.from_json(line)
                except LogFormatError as exc:
                    raise LogFormatError(f"{name}:{number}: {exc}") from None
                if where is None or where(event):
                    yield event


CSV_COLUMNS = (
    "seq",
    "id",
    "time",
    "recorded",
    "action",
    "outcome",
    "actor_id",
    "actor_type",
    "actor_ip",
    "actor_user_agent",
    "resource_type",
    "resource_id",
    "reason",
    "correlation_id",
    "service",
    "host",
    "pid",
    "metadata",
    "chain",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_csv_cell(value: str) -> str:
    """Neutralise spreadsheet formulas: prefix ``'`` to text starting with = + - @ tab CR LF.

    Leading spaces are looked through, since spreadsheets ignore them too.

    >>> safe_csv_cell("=1+1"), safe_csv_cell("  @SUM(A1)"), safe_csv_cell("ok")
    ("'=1+1", "'  @SUM(A1)", 'ok')
    """
    if value.startswith(_FORMULA_START) or value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_row(event: AuditEvent) -> list[str | int]:
    actor, resource, source = event.actor, event.resource, event.source
    cells: list[str | int | None] = [
        event.seq,
        event.id,
        event.time,
        event.recorded,
        event.action,
        event.outcome,
        actor.id,
        actor.type,
        actor.ip,
        actor.user_agent,
        None if resource is None else resource.type,
        None if resource is None else resource.id,
        event.reason,
        event.correlation_id,
        source.service,
        source.host,
        source.pid,
        json.dumps(dict(event.metadata), ensure_ascii=False, separators=(",", ":"))
        if event.metadata
        else "",
        event.chain,
    ]
    return ["" if c is None else safe_csv_cell(c) if isinstance(c, str) else c for c in cells]


def to_csv(events: Iterable[AuditEvent], out: TextOutput) -> int:
    """Write CSV (header row, RFC 4180 quoting, formula-injection safe); return the count."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for event in events:
        writer.writerow(_csv_row(event))
        count += 1
    return count


def to_jsonl(events: Iterable[AuditEvent], out: TextOutput) -> int:
    """Write one JSON object per line; return the count."""
    count = 0
    for event in events:
        out.write(json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        count += 1
    return count


def to_json_array(events: Iterable[AuditEvent], out: TextOutput) -> int:
    """Write a JSON array, streamed element by element; return the count."""
    out.write("[")
    count = 0
    for event in events:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":")))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


_CEF_SEVERITY = {"success": 3, "failure": 5, "error": 6, "denied": 7}


def _cef_header(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r", " ").replace("\n", " ")


def _cef_value(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("=", "\\=")
    return text.replace("\r", "\\r").replace("\n", "\\n")


def to_cef(
    events: Iterable[AuditEvent],
    out: TextOutput,
    *,
    vendor: str = "Maestro",
    product: str = "maestro-audit-logger",
    version: str = "1.0",
) -> int:
    """Write ArcSight Common Event Format lines (header and extension escaping); return the count.

    >>> import io
    >>> from maestro_audit_logger.models import Actor, AuditEvent, Source
    >>> event = AuditEvent(7, "i", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000000Z",
    ...     "a|b", Actor("x=y"), "denied", None, None, None, Source("s", "h", 1), {}, 1, "c")
    >>> out = io.StringIO(); _ = to_cef([event], out); out.getvalue().split("|")[4:6]
    ['a\\\\', 'b']
    """
    head = f"CEF:0|{_cef_header(vendor)}|{_cef_header(product)}|{_cef_header(version)}"
    count = 0
    for event in events:
        millis = int(event.event_time.timestamp() * 1000)
        pairs = [
            ("rt", str(millis)),
            ("act", event.action),
            ("outcome", event.outcome),
            ("suser", event.actor.id),
            ("externalId", event.id),
            ("cn1Label", "seq"),
            ("cn1", str(event.seq)),
            ("dvchost", event.source.host),
            ("dproc", event.source.service),
            ("dvcpid", str(event.source.pid)),
        ]
        if event.actor.ip:
            pairs.append(("src", event.actor.ip))
        if event.resource is not None:
            pairs += [
                ("cs1Label", "resource"),
                ("cs1", f"{event.resource.type}:{event.resource.id}"),
            ]
        if event.correlation_id:
            pairs += [("cs2Label", "correlationId"), ("cs2", event.correlation_id)]
        if event.reason:
            pairs.append(("reason", event.reason))
        if event.metadata:
            pairs.append(("msg", json.dumps(dict(event.metadata), separators=(",", ":"))))
        pairs += [("cs3Label", "chain"), ("cs3", event.chain)]
        extension = " ".join(f"{k}={_cef_value(v)}" for k, v in pairs)
        name = _cef_header(event.action)
        out.write(f"{head}|{name}|{name}|{_CEF_SEVERITY.get(event.outcome, 5)}|{extension}\n")
        count += 1
    return count


_SYSLOG_SEVERITY = {"success": 6, "failure": 5, "denied": 4, "error": 3}
_AUTHPRIV = 10


def _header_token(text: str, limit: int) -> str:
    cleaned = "".join(c if "!" <= c <= "~" else "_" for c in text)[:limit]
    return cleaned or "-"


def _sd_value(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")
    return "".join(c if c >= " " and c != "\x7f" else f"\\x{ord(c):02x}" for c in text)


def to_syslog(
    events: Iterable[AuditEvent],
    out: TextOutput,
    *,
    sd_id: str = "audit@32473",
    facility: int = _AUTHPRIV,
) -> int:
    """Write RFC 5424 syslog lines (facility authpriv, structured data); return the count.

    ``sd_id`` should carry your IANA enterprise number; 32473 is the documentation number.

    >>> import io
    >>> from maestro_audit_logger.models import Actor, AuditEvent, Source
    >>> event = AuditEvent(3, "i", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000000Z",
    ...     "user.login", Actor("al]ice"), "denied", None, None, None, Source("s", "h", 1),
    ...     {}, 1, "c")
    >>> out = io.StringIO(); _ = to_syslog([event], out); out.getvalue()[:60]
    '<84>1 2026-01-01T00:00:00.000000Z h s 1 user.login [audit@32'
    """
    count = 0
    for event in events:
        pri = facility * 8 + _SYSLOG_SEVERITY.get(event.outcome, 5)
        params = [
            ("seq", str(event.seq)),
            ("id", event.id),
            ("actor", event.actor.id),
            ("actorType", event.actor.type),
            ("outcome", event.outcome),
        ]
        if event.resource is not None:
            params.append(("resource", f"{event.resource.type}:{event.resource.id}"))
        if event.correlation_id:
            params.append(("correlationId", event.correlation_id))
        params.append(("chain", event.chain))
        data = " ".join(f'{k}="{_sd_value(v)}"' for k, v in params)
        message = json.dumps(
            {"reason": event.reason, "metadata": dict(event.metadata)}, separators=(",", ":")
        )
        out.write(
            f"<{pri}>1 {event.time} {_header_token(event.source.host, 255)} "
            f"{_header_token(event.source.service, 48)} {event.source.pid} "
            f"{_header_token(event.action, 32)} [{sd_id} {data}] {message}\n"
        )
        count += 1
    return count


_WRITERS: dict[str, Callable[[Iterable[AuditEvent], TextOutput], int]] = {
    "json": to_json_array,
    "jsonl": to_jsonl,
    "csv": to_csv,
    "cef": to_cef,
    "syslog": to_syslog,
}


def export(events: Iterable[AuditEvent], out: TextOutput, format: ExportFormat) -> int:
    """Write ``events`` to ``out`` in ``format`` (json, jsonl, csv, cef, syslog); return the count.

    Raises:
        ConfigError: unknown format.
    """
    try:
        writer = _WRITERS[format]
    except KeyError:
        raise ConfigError(
            f"export format must be one of {', '.join(FORMATS)}, not {format!r}"
        ) from None
    return writer(events, out)
