"""Turning inputs into rows: source expansion, hashing, flattening a TestRun."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from maestro_test_adapters.models import Status, TestResult, TestRun, TestSuite

from maestro_test_result_aggregator._normalize import normalize_message
from maestro_test_result_aggregator.tags import RunTags, utc_now

#: Suffixes picked up when a folder is ingested.
RESULT_SUFFIXES = frozenset({".xml", ".trx", ".json", ".ndjson", ".jsonl"})
#: Longest text kept per stored field; the rest is cut with a marker.
MAX_TEXT = 64 * 1024
_CUT_MARKER = "\n... [truncated by maestro-test-result-aggregator]"
_GLOB_CHARS = frozenset("*?[")
_HASH_CHUNK = 1024 * 1024


def expand_sources(sources: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[Path, bool]]:
    """Yield ``(file, named)`` for paths, folders (recursive) and glob patterns.

    ``named`` is true for a file named directly, false for one found in a
    folder or by a pattern. A path that does not exist is yielded as is, so
    ingest reports it by name.
    """
    for source in sources:
        text = os.fspath(source)
        path = Path(text)
        if path.is_dir():
            yield from (
                (child, False)
                for child in sorted(path.rglob("*"))
                if child.suffix.lower() in RESULT_SUFFIXES and child.is_file()
            )
        elif not path.exists() and _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text, recursive=True))
            yield from ((Path(match), False) for match in matches if Path(match).is_file())
        else:
            yield path, True


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
class Batch:
    """Row tuples of up to one batch of results, ready for ``executemany``.

    ``tests`` holds ``(uid, suite, name, classname, file, line)``; the index
    in the first field of the other lists is a position in ``tests``.
    """

    tests: list[tuple[str, str, str, str, str, int | None]] = field(default_factory=list)
    results: list[tuple[str, float, int, int]] = field(default_factory=list)
    details: list[tuple[int, str, str, str, str, str]] = field(default_factory=list)
    attempts: list[tuple[int, int, str, float, str]] = field(default_factory=list)
    attachments: list[tuple[int, str, str, str]] = field(default_factory=list)


_STATUS_TEXT: dict[Status, str] = {status: status.value for status in Status}


class RowBuilder:
    """Turns ``(suite, result)`` pairs into batches of rows, counting as it goes.

    Memory is bounded by one batch: nothing is remembered across batches
    (the store resolves test ids repeated inside a run).

    >>> from maestro_test_adapters.models import TestResult, TestSuite
    >>> builder = RowBuilder()
    >>> suite = TestSuite("s")
    >>> pairs = [(suite, TestResult("s::t", "t", s, message="boom"))
    ...          for s in (Status.PASSED, Status.FAILED)]
    >>> builder.fill(iter(pairs), limit=10)
    True
    >>> [row[0] for row in builder.take().tests], builder.counts["failed"], builder.total
    (['s::t', 's::t'], 1, 2)
    """

    def __init__(self) -> None:
        self._by_status: dict[Status, int] = dict.fromkeys(Status, 0)
        self._flaky = 0
        self._batch = Batch()

    @property
    def total(self) -> int:
        """Results added so far."""
        return sum(self._by_status.values())

    @property
    def counts(self) -> dict[str, int]:
        """Results added so far per final status, plus ``flaky``."""
        counts = {status.value: count for status, count in self._by_status.items()}
        counts["flaky"] = self._flaky
        return counts

    def take(self) -> Batch:
        """Return the pending batch and start a new one."""
        batch, self._batch = self._batch, Batch()
        return batch

    def fill(self, pairs: Iterator[tuple[TestSuite, TestResult]], limit: int) -> bool:
        """Add pairs until the pending batch holds ``limit`` results.

        Returns:
            ``True`` when ``pairs`` is exhausted.
        """
        # The hot loop of every ingest: locals instead of attribute look-ups,
        # and the rare cases (retries, failures, attachments) out of line.
        batch = self._batch
        add_test = batch.tests.append
        add_result = batch.results.append
        by_status = self._by_status
        text = _STATUS_TEXT
        passed = Status.PASSED
        index = len(batch.tests)
        for suite, result in pairs:
            add_test(
                (
                    result.test_id,
                    suite.name,
                    result.name,
                    result.classname or "",
                    result.file or suite.file or "",
                    result.line,
                )
            )
            status = result.status
            by_status[status] += 1
            earlier = result.attempts
            flaky = 0
            if earlier or status is not passed or result.attachments:
                flaky = self._add_details(batch, index, result)
            add_result((text[status], result.duration, len(earlier) + 1, flaky))
            index += 1
            if index >= limit:
                return False
        return True

    def _add_details(self, batch: Batch, index: int, result: TestResult) -> int:
        flaky = int(result.flaky)
        self._flaky += flaky
        for number, attempt in enumerate(result.attempts, start=1):
            batch.attempts.append(
                (index, number, _STATUS_TEXT[attempt.status], attempt.duration,
                 clip(attempt.message))
            )  # fmt: skip
            batch.attachments.extend(
                (index, a.name or "", a.path, a.media_type) for a in attempt.attachments
            )
        if result.status is not Status.PASSED:
            batch.details.append(
                (
                    index,
                    clip(result.message),
                    clip(result.traceback),
                    clip(result.stdout),
                    clip(result.stderr),
                    normalize_message(result.message or result.traceback or ""),
                )
            )
        batch.attachments.extend(
            (index, a.name or "", a.path, a.media_type) for a in result.attachments
        )
        return flaky


def resolve_tags(
    started_at: datetime | None, explicit: RunTags | None, environment: RunTags | None
) -> tuple[RunTags, str]:
    """Combine argument tags, CI tags and the run's own start time.

    Returns:
        The merged tags and the start time as ISO 8601 UTC.
    """
    tags = explicit or RunTags()
    if environment is not None:
        tags = tags.merged_over(environment)
    started = tags.started_at or started_at or utc_now()
    return tags, iso_utc(started)
