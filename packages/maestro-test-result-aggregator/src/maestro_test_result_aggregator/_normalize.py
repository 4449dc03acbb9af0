"""Normalisation of failure messages, so equal causes group together."""

from __future__ import annotations

import re

_MAX_LENGTH = 200
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Order matters: the most specific shapes are replaced before bare numbers.
_REPLACEMENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
        "<uuid>",
    ),
    (
        re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?"),
        "<time>",
    ),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>"),
    (re.compile(r"\b(?=[0-9a-f]*[a-f])[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"(/tmp|/var/folders)/[^\s:'\"]+"), "<tmp>"),
    (re.compile(r"\d+(\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def normalize_message(message: str) -> str:
    """Reduce a failure message to its stable shape.

    Keeps the first non-empty line, drops ANSI colours, and replaces numbers,
    hex addresses, UUIDs, timestamps and temporary paths with placeholders.

    Args:
        message: The raw failure message.

    Returns:
        The normalised message, at most 200 characters.

    >>> normalize_message("Timeout after 5000 ms at 0x7f3a2c")
    'Timeout after <n> ms at <hex>'
    >>> normalize_message("")
    '(no message)'
    """
    text = _ANSI.sub("", message)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return "(no message)"
    for pattern, placeholder in _REPLACEMENTS:
        first = pattern.sub(placeholder, first)
    return first.strip()[:_MAX_LENGTH]
