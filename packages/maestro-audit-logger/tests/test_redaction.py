"""Redaction happens before sealing; markers are visible; the key never leaks."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from maestro_audit_logger import AuditLogger, ConfigError, Redactor, read_events, verify
from maestro_audit_logger.cli import main


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "user_password",
        "passwd",
        "apiKey",
        "api-key",
        "access_token",
        "AccessToken",
        "client_secret",
        "Authorization",
        "cookie",
        "session_id",
        "card_number",
        "cvv",
        "ssn",
        "private_key",
        "credentials",
    ],
)
def test_secret_field_names(name: str) -> None:
    assert Redactor().redact_mapping({name: "value", "user": "bob"}) == {
        name: "[REDACTED]",
        "user": "bob",
    }


@pytest.mark.parametrize("name", ["company", "author", "tokenizer_name", "passage", "spin"])
def test_ordinary_field_names_are_kept(name: str) -> None:
    assert Redactor().redact_mapping({name: "value"}) == {name: "value"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paid with 4111 1111 1111 1111 today", "paid with [REDACTED:card] today"),
        ("card 5500-0000-0000-0004", "card [REDACTED:card]"),
        ("order 1234567890123456 shipped", "order 1234567890123456 shipped"),  # fails Luhn
        ("Authorization: Bearer abcdefghijklmnop.qrs", "Authorization: [REDACTED:bearer]"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nat_ure ok", "jwt [REDACTED:jwt] ok"),
        ("key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED:aws_key] used"),
        (
            "db https://admin:s3cr3t@db.internal/x",
            "db https://[REDACTED:url_password]@db.internal/x",
        ),
        ("login password=hunter2&next=/", "login [REDACTED:secret_pair]&next=/"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
            "[REDACTED:private_key]",
        ),
        ("nothing to hide here", "nothing to hide here"),
    ],
)
def test_secret_values_inside_text(text: str, expected: str) -> None:
    assert Redactor().redact_text(text) == expected


def test_nested_values_and_custom_patterns() -> None:
    redactor = Redactor(field_patterns=["pin"], value_patterns={"ticket": r"TCK-\d+"})
    data = {"pin": "1234", "notes": ["see TCK-991", {"deep": "TCK-2"}], "n": 3}
    assert redactor.redact_mapping(data) == {
        "pin": "[REDACTED]",
        "notes": ["see [REDACTED:ticket]", {"deep": "[REDACTED:ticket]"}],
        "n": 3,
    }
    assert data["pin"] == "1234"  # the caller's data is not modified


def test_a_single_str_of_field_patterns_is_refused() -> None:
    # list("password") is its letters: no field called "password" would be redacted.
    with pytest.raises(ConfigError, match=r"not the str 'password'; write \['password'\]"):
        Redactor(field_patterns="password")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"field_patterns": ["("]}, "field pattern '(' is a bad regular expression"),
        ({"value_patterns": {"ticket": "TCK-("}}, "value pattern 'ticket' ('TCK-(') is a bad"),
        ({"value_patterns": {"e-mail": "@"}}, "value pattern name 'e-mail' must be an identifier"),
    ],
)
def test_bad_patterns_raise_config_errors_naming_them(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Redactor(**kwargs)


def test_redaction_happens_before_hashing(log_path: Path, key: bytes) -> None:
    with AuditLogger(log_path, key=key) as audit:
        event = audit.log(
            "user.login",
            actor="alice",
            reason="wrong password=hunter2",
            password="hunter2",
            headers={"Authorization": "Bearer abcdefghijklmnop"},
        )
    raw = log_path.read_bytes()
    assert b"hunter2" not in raw and b"abcdefghijklmnop" not in raw
    assert event.metadata["password"] == "[REDACTED]"
    assert event.reason == "wrong [REDACTED:secret_pair]"
    (stored,) = read_events(log_path)
    assert stored.metadata["headers"] == {"Authorization": "[REDACTED]"}
    assert verify(log_path, key=key).ok  # the seal covers the redacted record


def test_redaction_can_be_turned_off(log_path: Path) -> None:
    with AuditLogger(log_path, redactor=None) as audit:
        audit.log("x", actor="a", password="visible")
    assert b"visible" in log_path.read_bytes()


def test_key_is_never_written_or_printed(
    tmp_path: Path, key: bytes, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    log_path = tmp_path / "audit.jsonl"
    caplog.set_level(logging.DEBUG)
    with AuditLogger(log_path, key=key) as audit:
        audit.log("a", actor="b")
        print(repr(audit))
    key_file = tmp_path / "key"
    key_file.write_bytes(key)
    for argv in (
        ["verify", str(log_path), "--key-file", str(key_file)],
        ["verify", str(log_path), "--key-file", str(key_file), "--json"],
        ["verify", str(log_path)],
        ["stats", str(log_path)],
        ["tail", str(log_path), "--json"],
    ):
        main(argv)
    out = capsys.readouterr()
    written = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p != key_file)
    for text in (out.out, out.err, caplog.text, written.decode("utf-8", "replace")):
        assert key.decode() not in text
        assert key.hex() not in text
    stream = io.StringIO()
    json.dump(verify(log_path, key=key).to_dict(), stream)
    assert key.decode() not in stream.getvalue()
