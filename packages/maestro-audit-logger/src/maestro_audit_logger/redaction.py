"""Redaction of secrets and personal data before a record is sealed.

A :class:`Redactor` replaces

* the whole value of any metadata field whose *name* looks secret
  (``password``, ``api_key``, ``accessToken``, ``card_number``...), and
* secret-looking parts of *string values* in ``reason`` and metadata:
  payment card numbers (Luhn-checked), bearer tokens, JWTs, AWS access keys,
  private key blocks, passwords in URLs and ``password=...`` pairs.

Replacements are visible markers such as ``[REDACTED]`` and ``[REDACTED:card]``.
Redaction runs before hashing, so the chain seals what is stored.

>>> redactor = Redactor()
>>> redactor.redact_mapping({"user": "bob", "password": "hunter2"})
{'user': 'bob', 'password': '[REDACTED]'}
>>> redactor.redact_text("paid with 4111 1111 1111 1111")
'paid with [REDACTED:card]'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from maestro_audit_logger.errors import ConfigError

__all__ = [
    "DEFAULT_FIELD_PATTERNS",
    "DEFAULT_REDACTOR",
    "DEFAULT_VALUE_PATTERNS",
    "MARKER",
    "Redactor",
]

#: Marker that replaces a redacted field value.
MARKER = "[REDACTED]"

#: Field-name fragments (matched as words in snake_case/camelCase/kebab-case names).
DEFAULT_FIELD_PATTERNS: tuple[str, ...] = (
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "api_?key",
    "apikey",
    "access_?key",
    "private_?key",
    "authorization",
    "auth",
    "cookie",
    "session_?id",
    "credentials?",
    "ssn",
    "cvv",
    "cvc",
    "card_?number",
    "pan",
    "iban",
)

#: Named value patterns; the name appears in the marker (``[REDACTED:name]``).
DEFAULT_VALUE_PATTERNS: dict[str, str] = {
    "private_key": (
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    ),
    "jwt": r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
    "bearer": r"(?i:\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}",
    "aws_key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "url_password": r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)",
    "secret_pair": r"(?i:\b(?:password|passwd|pwd|secret|token|api_?key)\s*[=:]\s*)[^\s&,;]+",
    "card": r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])",
}


# Cheap substring tests (on the lowercased text) that every match of a default value
# pattern must pass; they let ordinary text skip the regular expressions entirely.
_HINTS: dict[str, tuple[str, ...]] = {
    "private_key": ("-----begin",),
    "jwt": ("eyj",),
    "bearer": ("bearer",),
    "aws_key": ("akia", "asia"),
    "url_password": ("://",),
    "secret_pair": ("pass", "pwd", "secret", "token", "api"),
}
_FOUR_DIGITS = re.compile(r"\d{4}")
_SHORTEST_SECRET = 5


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _check_patterns(fields: list[str], values: dict[str, str]) -> None:
    for pattern in fields:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise ConfigError(
                f"field pattern {pattern!r} is a bad regular expression: {exc}"
            ) from None
    for name, regex in values.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(
                f"value pattern name {name!r} must be an identifier such as 'email' "
                "(it names the [REDACTED:<name>] marker)"
            )
        try:
            re.compile(regex)
        except (re.error, TypeError) as exc:
            raise ConfigError(
                f"value pattern {name!r} ({regex!r}) is a bad regular expression: {exc}"
            ) from None


class Redactor:
    """Redact field values by field name and secret patterns inside text.

    Args:
        field_patterns: Regex fragments for secret field names; matched against the
            name split into lowercase words (``accessToken`` -> ``access_token``).
        value_patterns: Mapping of marker name to regex for secrets inside strings.
            A pattern named ``card`` only redacts numbers that pass the Luhn check.
        marker: Replacement for whole redacted fields.

    Raises:
        ConfigError: ``field_patterns`` is a single str (a list is expected), a
            pattern is not a valid regular expression, or a value pattern's name is
            not an identifier.

    >>> Redactor(field_patterns=["ssn"], value_patterns={}).redact_mapping({"SSN": "1"})
    {'SSN': '[REDACTED]'}
    """

    def __init__(
        self,
        field_patterns: Iterable[str] = DEFAULT_FIELD_PATTERNS,
        value_patterns: Mapping[str, str] | None = None,
        *,
        marker: str = MARKER,
    ) -> None:
        if isinstance(field_patterns, str):  # list("password") would be its letters
            raise ConfigError(
                f"field_patterns must be a list of regex fragments, not the str "
                f"{field_patterns!r}; write [{field_patterns!r}]"
            )
        fields = list(field_patterns)
        patterns = DEFAULT_VALUE_PATTERNS if value_patterns is None else dict(value_patterns)
        _check_patterns(fields, patterns)
        self.marker = marker
        self._field_re = (
            re.compile(r"(?:^|_)(?:" + "|".join(f"(?:{p})" for p in fields) + r")(?:$|_)")
            if fields
            else None
        )
        self._value_re = (
            re.compile("|".join(f"(?P<{name}>{regex})" for name, regex in patterns.items()))
            if patterns
            else None
        )
        hints: list[str] = []
        self._digit_hint = False
        self._prefilter = True
        for name, regex in patterns.items():
            if DEFAULT_VALUE_PATTERNS.get(name) != regex:
                self._prefilter = False  # a custom pattern: no safe shortcut
            elif name == "card":
                self._digit_hint = True
            else:
                hints += _HINTS[name]
        self._hints = tuple(hints)
        self._name_cache: dict[str, bool] = {}

    def is_secret_field(self, name: str) -> bool:
        """Return whether a field called ``name`` holds a secret.

        >>> Redactor().is_secret_field("accessToken"), Redactor().is_secret_field("company")
        (True, False)
        """
        cached = self._name_cache.get(name)
        if cached is not None:
            return cached
        words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
        words = re.sub(r"[^a-z0-9]+", "_", words)
        secret = bool(self._field_re and self._field_re.search(words))
        if len(self._name_cache) < 4096:
            self._name_cache[name] = secret
        return secret

    def _replace(self, match: re.Match[str]) -> str:
        kind = match.lastgroup or "secret"
        text = match.group()
        if kind == "card" and not _luhn_ok(text.replace(" ", "").replace("-", "")):
            return text
        return f"[REDACTED:{kind}]"

    def _suspicious(self, text: str) -> bool:
        if not self._prefilter:
            return True
        lowered = text.lower()
        for hint in self._hints:
            if hint in lowered:
                return True
        return self._digit_hint and _FOUR_DIGITS.search(text) is not None

    def redact_text(self, text: str) -> str:
        """Replace secret-looking parts of ``text`` with ``[REDACTED:<kind>]`` markers."""
        if self._value_re is None or len(text) < _SHORTEST_SECRET or not self._suspicious(text):
            return text
        return self._value_re.sub(self._replace, text)

    def redact_value(self, value: Any) -> Any:
        """Redact strings inside any JSON-like value (nested dicts and lists too)."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            return self.redact_mapping(value)
        if isinstance(value, list | tuple):
            return [self.redact_value(item) for item in value]
        if type(value) is int and value > 999_999_999_999 and self._value_re is not None:
            if self.redact_text(str(value)) != str(value):
                return "[REDACTED:card]"
        return value

    def redact_mapping(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Return a copy of ``data`` with secret fields and secret text replaced."""
        result = dict(data)
        self.redact_in_place(result)
        return result

    def redact_in_place(self, data: dict[str, Any]) -> None:
        """Redact a dict that the caller owns, without copying it."""
        cache = self._name_cache
        for name, value in data.items():
            secret = cache.get(name)
            if secret is None:
                secret = isinstance(name, str) and self.is_secret_field(name)
            if secret:
                data[name] = self.marker
            elif type(value) is str:
                if len(value) >= _SHORTEST_SECRET and self._value_re is not None:
                    if self._suspicious(value):
                        data[name] = self._value_re.sub(self._replace, value)
            elif type(value) is not bool and value is not None:
                data[name] = self.redact_value(value)


#: The redactor :class:`~maestro_audit_logger.AuditLogger` uses unless told otherwise.
DEFAULT_REDACTOR = Redactor()
