"""Exporters: streaming, filters, CSV formula injection, CEF and syslog escaping."""

from __future__ import annotations

import csv
import io
import json
import re
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from maestro_audit_logger import (
    Actor,
    AuditEvent,
    AuditLogger,
    ConfigError,
    EventFilter,
    LogFormatError,
    MemorySink,
    export,
    read_events,
)
from maestro_audit_logger.exporters import CSV_COLUMNS, safe_csv_cell

if TYPE_CHECKING:
    from conftest import FakeClock


def sample(clock: FakeClock) -> list[AuditEvent]:
    memory = MemorySink()
    with AuditLogger(sinks=[memory], clock=clock, service="svc") as audit:
        audit.log("user.login", actor="alice", outcome="success")
        clock.advance(3600)
        audit.log(
            "invoice.delete",
            actor="bob",
            resource="invoice:7",
            outcome="denied",
            reason="not owner",
        )
        clock.advance(3600)
        audit.log("user.logout", actor=Actor("alice", ip="192.0.2.1"), correlation_id="r-9")
    return memory.events


@pytest.mark.parametrize(
    "payload", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x", "\n=x", "  =HYPERLINK(1)"]
)
def test_csv_cells_cannot_start_a_formula(payload: str, clock: FakeClock) -> None:
    memory = MemorySink()
    with AuditLogger(sinks=[memory], clock=clock) as audit:
        audit.log(payload, actor=payload, resource=f"doc:{payload}", reason=payload, note=payload)
    out = io.StringIO(newline="")
    assert export(memory.events, out, "csv") == 1
    header, row = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert tuple(header) == CSV_COLUMNS
    cells = dict(zip(header, row, strict=True))
    for column in ("action", "actor_id", "reason"):
        assert cells[column] == "'" + payload
    assert cells["resource_id"] == payload or cells["resource_id"] == "'" + payload
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n"))


def test_safe_csv_cell_keeps_ordinary_text() -> None:
    assert safe_csv_cell("alice") == "alice"
    assert safe_csv_cell("") == ""


def test_json_array_and_jsonl_round_trip(clock: FakeClock) -> None:
    events = sample(clock)
    array, lines = io.StringIO(), io.StringIO()
    assert export(events, array, "json") == 3
    assert export(events, lines, "jsonl") == 3
    assert json.loads(array.getvalue()) == [e.to_dict() for e in events]
    assert [json.loads(line) for line in lines.getvalue().splitlines()] == [
        e.to_dict() for e in events
    ]
    empty = io.StringIO()
    export([], empty, "json")
    assert json.loads(empty.getvalue()) == []


def test_cef_escapes_header_and_extension(clock: FakeClock) -> None:
    memory = MemorySink()
    with AuditLogger(sinks=[memory], clock=clock) as audit:
        audit.log("evil|action", actor="a=b\\c", reason="line1\nline2", outcome="denied")
    out = io.StringIO()
    export(memory.events, out, "cef")
    line = out.getvalue()
    assert line.count("\n") == 1
    assert line.startswith("CEF:0|Maestro|maestro-audit-logger|1.0|evil\\|action|evil\\|action|7|")
    assert "suser=a\\=b\\\\c" in line
    assert "reason=line1\\nline2" in line
    assert "rt=1800000000000" in line


def test_syslog_lines_follow_rfc5424(clock: FakeClock) -> None:
    memory = MemorySink()
    with AuditLogger(sinks=[memory], clock=clock, service="my app") as audit:
        audit.log("user.login", actor='bad"actor]\\', outcome="error", reason="x\ny")
    out = io.StringIO()
    export(memory.events, out, "syslog")
    line = out.getvalue()
    assert line.count("\n") == 1
    assert line.startswith("<83>1 2027-01-15T08:00:00.000000Z ")  # authpriv.err
    assert " my_app " in line  # no spaces in APP-NAME
    assert 'actor="bad\\"actor\\]\\\\"' in line
    assert '"reason":"x\\ny"' in line


def test_unknown_format_is_a_config_error(clock: FakeClock) -> None:
    with pytest.raises(ConfigError, match="export format must be one of"):
        export([], io.StringIO(), "xml")  # type: ignore[arg-type]


def test_filters(clock: FakeClock) -> None:
    events = sample(clock)

    def actions(where: EventFilter) -> list[str]:
        return [e.action for e in events if where(e)]

    assert actions(EventFilter(action="user.*")) == ["user.login", "user.logout"]
    assert actions(EventFilter(actor="bob")) == ["invoice.delete"]
    assert actions(EventFilter(outcomes=("denied",))) == ["invoice.delete"]
    assert actions(EventFilter(resource="invoice:*")) == ["invoice.delete"]
    assert actions(EventFilter(since="2027-01-15T09:00:00Z")) == ["invoice.delete", "user.logout"]
    assert actions(EventFilter(until="2027-01-15T09:00:00+00:00")) == ["user.login"]
    assert actions(EventFilter(since="2027-01-15T09:30", until="2027-01-15T11:00")) == [
        "user.logout"
    ]
    with pytest.raises(ConfigError, match="outcome filter 'meh'"):
        EventFilter(outcomes=("meh",))
    with pytest.raises(ConfigError, match="not an ISO 8601 time"):
        EventFilter(since="yesterday")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcomes": "denied"}, "outcomes must be a tuple such as ('denied',), not a str"),
        ({"since": 1767225600}, "since must be a datetime or an ISO 8601 str, not int"),
        ({"until": "tomorrow"}, "until 'tomorrow' is not an ISO 8601 time"),
    ],
)
def test_bad_filters_raise_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        EventFilter(**kwargs)  # type: ignore[arg-type]


def test_readers_split_on_newline_only(log_path: Path) -> None:
    separators = "a\u2028b\u2029c\x85d\x0be\x0cf\x1cg\x1dh\x1ei"
    with AuditLogger(log_path) as audit:
        audit.log("sep", actor="alice", reason=separators, note=separators)
        audit.log("after", actor="alice")
    events = list(read_events(log_path))
    assert [e.action for e in events] == ["sep", "after"]
    assert events[0].reason == separators and events[0].metadata["note"] == separators


@pytest.mark.parametrize("garbage", [b"\x00\xff garbage\n", b"{\xff}\n"])
def test_a_damaged_line_is_reported_as_invalid_utf8(log_path: Path, garbage: bytes) -> None:
    with AuditLogger(log_path) as audit:
        audit.log("ok", actor="alice")
    with open(log_path, "ab") as raw:
        raw.write(garbage)
    with pytest.raises(LogFormatError) as caught:
        list(read_events(log_path))
    # Not a guess at UTF-16 or UTF-32, which json.loads makes for such bytes.
    assert str(caught.value).endswith(":3: not a JSON record: invalid UTF-8 at byte 1")


def test_export_streams_in_constant_memory(log_path: Path) -> None:
    with AuditLogger(log_path, durability="none") as audit:
        for i in range(20_000):
            audit.log("bulk", actor="a", resource=f"r:{i}", payload="x" * 200)
    size = log_path.stat().st_size

    class Discard(io.StringIO):
        def write(self, text: str) -> int:
            return len(text)

    tracemalloc.start()
    try:
        count = export(read_events(log_path), Discard(), "csv")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < size / 10, (peak, size)
