"""Turning inputs into rows: source expansion, hashing, flattening a TestRun."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from maestro_test_adapters.models import Status, TestRun

from maestro_test_result_aggregator._normalize import normalize_message
from maestro_test_result_aggregator.tags import RunTags, utc_now

#: Suffixes picked up when a folder is ingested.
RESULT_SUFFIXES = frozenset({".xml", ".trx", ".json", ".ndjson", ".jsonl"})
#: Longest text kept per stored field; the rest is cut with a marker.
MAX_TEXT = 64 * 1024
_CUT_MARKER = "\n... [truncated by maestro-test-result-aggregator]"
_GLOB_CHARS = frozenset("*?[")
_HASH_CHUNK = 1024 * 1024


def expand_sources(sources: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Yield the files named by paths, folders (recursive) and glob patterns.

    A path that does not exist is yielded as is, so ingest reports it by name.
    """
    for source in sources:
        text = os.fspath(source)
        path = Path(text)
        if path.is_dir():
            yield from sorted(
                child
                for child in path.rglob("*")
                if child.suffix.lower() in RESULT_SUFFIXES and child.is_file()
            )
        elif not path.exists() and _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text, recursive=True))
            yield from (Path(match) for match in matches if Path(match).is_file())
        else:
            yield path


def hash_file(path: Path) -> str:
    """Return the SHA-256 of a file's bytes, read in chunks (bounded memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_run(run: TestRun) -> str:
    """Return the SHA-256 of a run's canonical JSON (for objects, not files)."""
    text = json.dumps(run.to_dict(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clip(text: str | None) -> str:
    """Return ``text`` (``""`` for ``None``) cut to :data:`MAX_TEXT` characters."""
    if not text:
        return ""
    if len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT - len(_CUT_MARKER)] + _CUT_MARKER


def iso_utc(moment: datetime) -> str:
    """Format a time as ISO 8601 in UTC (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class FlatRun:
    """A run reduced to the row tuples the store inserts.

    ``tests`` holds ``(uid, suite, name, classname, file, line)``; the other
    lists are indexed by position in ``tests``.
    """

    tests: list[tuple[str, str, str, str, str, int | None]]
    results: list[tuple[str, float, int, int]]
    details: list[tuple[int, str, str, str, str, str]]
    attempts: list[tuple[int, int, str, float, str]]
    attachments: list[tuple[int, str, str, str]]
    counts: dict[str, int]


def flatten(run: TestRun) -> FlatRun:
    """Reduce ``run`` to row tuples; repeated test ids get a ``[n]`` suffix."""
    tests: list[tuple[str, str, str, str, str, int | None]] = []
    results: list[tuple[str, float, int, int]] = []
    details: list[tuple[int, str, str, str, str, str]] = []
    attempts: list[tuple[int, int, str, float, str]] = []
    attachments: list[tuple[int, str, str, str]] = []
    counts = dict.fromkeys((status.value for status in Status), 0)
    counts["flaky"] = 0
    seen: dict[str, int] = {}
    passed = Status.PASSED
    for suite in run.suites:
        suite_name = suite.name
        for result in suite.tests:
            uid = result.test_id
            if uid in seen:
                seen[uid] += 1
                uid = f"{uid} [{seen[uid]}]"
            else:
                seen[uid] = 1
            index = len(tests)
            tests.append(
                (
                    uid,
                    suite_name,
                    result.name,
                    result.classname or "",
                    result.file or suite.file or "",
                    result.line,
                )
            )
            status = result.status
            counts[status] += 1
            earlier = result.attempts
            flaky = 0
            if earlier:
                flaky = int(status is passed and any(a.status.is_failure for a in earlier))
                counts["flaky"] += flaky
                for number, attempt in enumerate(earlier, start=1):
                    attempts.append(
                        (
                            index,
                            number,
                            attempt.status.value,
                            attempt.duration,
                            clip(attempt.message),
                        )
                    )
                    attachments.extend(
                        (index, a.name or "", a.path, a.media_type)
                        for a in attempt.attachments
                    )
            results.append((status.value, result.duration, len(earlier) + 1, flaky))
            if status is not passed:
                details.append(
                    (
                        index,
                        clip(result.message),
                        clip(result.traceback),
                        clip(result.stdout),
                        clip(result.stderr),
                        normalize_message(result.message or result.traceback or ""),
                    )
                )
            if result.attachments:
                attachments.extend(
                    (index, a.name or "", a.path, a.media_type)
                    for a in result.attachments
                )
    return FlatRun(tests, results, details, attempts, attachments, counts)


def resolve_tags(
    run: TestRun, explicit: RunTags | None, environment: RunTags | None
) -> tuple[RunTags, str]:
    """Combine argument tags, CI tags and the run's own start time.

    Returns:
        The merged tags and the start time as ISO 8601 UTC.
    """
    tags = explicit or RunTags()
    if environment is not None:
        tags = tags.merged_over(environment)
    started = tags.started_at or run.started_at or utc_now()
    return tags, iso_utc(started)
