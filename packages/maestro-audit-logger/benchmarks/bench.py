"""Throughput of maestro-audit-logger against the floor and the usual JSON loggers.

Every contender writes the same small audit event (action, actor, resource, outcome,
one extra field, a timestamp) as one JSON line to a file in a temporary directory:

* floor: ``json.dumps`` of a dict plus a buffered ``write`` (nothing else);
* stdlib logging: ``FileHandler`` with a hand-written JSON ``Formatter``;
* python-json-logger: ``FileHandler`` with ``JsonFormatter``;
* structlog: ``JSONRenderer`` + ISO ``TimeStamper`` into a ``WriteLogger``, cached,
  with the fast filtering bound logger;
* maestro-audit-logger: keyed BLAKE2b chain, redaction on, ``batch`` durability
  (default: fsync every 1,000 records or 200 ms), plus ``none`` and ``always``.

Contenders run interleaved for several rounds and medians are reported, which keeps
a noisy shared machine from favouring whoever ran during a quiet second. Both the
wall-clock rate and the rate per CPU-second of the benchmark process are shown; the
ratios use the latter, which other tenants of a shared machine disturb much less.
``always`` (one fsync per event) runs fewer events; its wall-clock rate is its cost.

Run: ``uv run python packages/maestro-audit-logger/benchmarks/bench.py``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from maestro_audit_logger import AuditLogger, verify

KEY = b"benchmark-key-0123456789abcdef01"
Timing = tuple[float, float]  # (wall-clock seconds, CPU seconds of this process)


def _now() -> Timing:
    return time.perf_counter(), time.process_time()


def _since(start: Timing) -> Timing:
    wall, cpu = _now()
    return wall - start[0], cpu - start[1]


ACTION, ACTOR, RESOURCE, OUTCOME = "document.read", "alice", "document:42", "success"


def run_floor(path: Path, events: int) -> Timing:
    dumps = json.dumps
    now = time.time
    with open(path, "w", encoding="utf-8") as out:
        start = _now()
        for _ in range(events):
            record = {
                "time": now(),
                "action": ACTION,
                "actor": ACTOR,
                "resource": RESOURCE,
                "outcome": OUTCOME,
                "client": "web",
            }
            out.write(dumps(record) + "\n")
    return _since(start)


def run_floor_same_record(path: Path, events: int) -> Timing:
    """The floor for the same information: our record's fields, no chain, no checks."""
    dumps = json.dumps
    now = time.time
    source = {"service": "bench", "host": platform.node(), "pid": os.getpid()}
    with open(path, "w", encoding="utf-8") as out:
        start = _now()
        for seq in range(1, events + 1):
            stamp = now()
            record = {
                "seq": seq,
                "id": f"0a1b2c3d-4e5f-8a7b-8c9d-{seq:012x}",
                "time": stamp,
                "recorded": stamp,
                "action": ACTION,
                "outcome": OUTCOME,
                "actor": {"id": ACTOR, "type": "user"},
                "resource": {"type": "document", "id": "42"},
                "metadata": {"client": "web"},
                "source": source,
                "schema": 1,
            }
            out.write(dumps(record) + "\n")
    return _since(start)


class _JsonFormatter(logging.Formatter):
    """The JSON formatter most services hand-write for stdlib logging."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "action": record.getMessage(),
            "actor": record.__dict__.get("actor"),
            "resource": record.__dict__.get("resource"),
            "outcome": record.__dict__.get("outcome"),
            "client": record.__dict__.get("client"),
        }
        return json.dumps(data)


def _stdlib_logger(name: str, path: Path, formatter: logging.Formatter) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    return logger


def _run_stdlib(logger: logging.Logger, events: int) -> Timing:
    extra = {"actor": ACTOR, "resource": RESOURCE, "outcome": OUTCOME, "client": "web"}
    info = logger.info
    start = _now()
    for _ in range(events):
        info(ACTION, extra=extra)
    for handler in logger.handlers:
        handler.close()
    elapsed = _since(start)
    logger.handlers.clear()
    return elapsed


def run_stdlib(path: Path, events: int) -> Timing:
    return _run_stdlib(_stdlib_logger(f"bench.stdlib.{path.name}", path, _JsonFormatter()), events)


def run_python_json_logger(path: Path, events: int) -> Timing:
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter("%(asctime)s %(levelname)s %(message)s")
    return _run_stdlib(_stdlib_logger(f"bench.pjl.{path.name}", path, formatter), events)


def run_structlog(path: Path, events: int) -> Timing:
    import structlog

    with open(path, "w", encoding="utf-8") as out:
        logger = structlog.wrap_logger(
            structlog.WriteLogger(out),
            processors=[
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.JSONRenderer(),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
            cache_logger_on_first_use=True,
        )
        info = logger.info
        start = _now()
        for _ in range(events):
            info(ACTION, actor=ACTOR, resource=RESOURCE, outcome=OUTCOME, client="web")
        out.flush()
        return _since(start)


def _maestro(durability: str) -> Callable[[Path, int], Timing]:
    def run(path: Path, events: int) -> Timing:
        audit = AuditLogger(path, key=KEY, durability=durability, service="bench")  # type: ignore[arg-type]
        log = audit.log
        start = _now()
        for _ in range(events):
            log(ACTION, actor=ACTOR, resource=RESOURCE, outcome=OUTCOME, client="web")
        audit.close()
        return _since(start)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--always-events", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)

    contenders: list[tuple[str, Callable[[Path, int], Timing], int]] = [
        ("floor: json.dumps + buffered write (6-field dict)", run_floor, args.events),
        ("floor, same record as ours (12 fields, nested)", run_floor_same_record, args.events),
        ("stdlib logging + JSON formatter", run_stdlib, args.events),
        ("python-json-logger", run_python_json_logger, args.events),
        ("structlog JSONRenderer", run_structlog, args.events),
        ("**maestro-audit-logger** (keyed chain, `batch`)", _maestro("batch"), args.events),
        ("maestro-audit-logger (keyed chain, `none`)", _maestro("none"), args.events),
        ("maestro-audit-logger (keyed chain, `always`)", _maestro("always"), args.always_events),
    ]
    wall: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    verify_wall: list[float] = []
    verify_cpu: list[float] = []
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for round_number in range(args.rounds):
            for index, (name, run, events) in enumerate(contenders):
                folder = Path(tmp) / f"r{round_number}-{index}"
                folder.mkdir()
                wall_seconds, cpu_seconds = run(folder / "audit.jsonl", events)
                wall[name].append(events / wall_seconds)
                cpu[name].append(events / cpu_seconds)
                if "`batch`" in name:
                    start = _now()
                    result = verify(folder / "audit.jsonl", key=KEY)
                    wall_seconds, cpu_seconds = _since(start)
                    assert result.ok and result.records == events, result
                    verify_wall.append(events / wall_seconds)
                    verify_cpu.append(events / cpu_seconds)
                for file in folder.iterdir():
                    file.unlink()
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)

    names = [name for name, _, _ in contenders]
    floor, same_record, stdlib_name, _, structlog_name = names[:5]
    references = [
        statistics.median(cpu[name]) for name in (floor, same_record, structlog_name, stdlib_name)
    ]
    print(
        f"\n{args.events:,} events per run ({args.always_events:,} for `always`), medians of "
        f"{args.rounds} interleaved rounds; Python {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{load_at_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end. Ratios "
        "compare events per CPU-second.\n"
    )
    print(
        "| logger | events/s | events per CPU-second | vs floor | vs same-record floor "
        "| vs structlog | vs stdlib logging |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, _, _ in contenders:
        rate, cpu_rate = statistics.median(wall[name]), statistics.median(cpu[name])
        ratios = (
            ["", "", "", ""]
            if "`always`" in name  # waits for the disk: CPU time says nothing
            else [f"{cpu_rate / reference:.2f}x" for reference in references]
        )
        print(f"| {name} | {rate:,.0f} | {cpu_rate:,.0f} | " + " | ".join(ratios) + " |")
    print(
        f"| `verify` (keyed BLAKE2b chain), records | {statistics.median(verify_wall):,.0f} "
        f"| {statistics.median(verify_cpu):,.0f} | | | | |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
