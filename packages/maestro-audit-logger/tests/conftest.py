"""Shared fixtures: a key and a fresh log path on the real file system."""

from __future__ import annotations

from pathlib import Path

import pytest

KEY = b"test-key-0123456789abcdef-0123456"


@pytest.fixture
def key() -> bytes:
    return KEY


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "audit.jsonl"


class FakeClock:
    """Nanoseconds since the epoch, moved by hand."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = int(start * 1e9)

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
