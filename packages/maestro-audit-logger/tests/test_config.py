"""Configuration from dicts, TOML and the environment, with errors naming the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from maestro_audit_logger import AuditConfig, AuditLogger, ConfigError, read_events, verify


def test_from_dict_builds_a_working_logger(tmp_path: Path, key: bytes) -> None:
    path = tmp_path / "audit.jsonl"
    config = {
        "path": str(path),
        "key": key.decode(),
        "durability": "always",
        "service": "billing",
        "rotate_bytes": 4096,
        "keep_files": 2,
        "redact_fields": ["pin"],
        "checkpoint_path": str(tmp_path / "points.jsonl"),
        "checkpoint_every": 10,
    }
    with AuditLogger.from_config(config) as audit:
        assert audit.durability == "always"
        for i in range(100):
            event = audit.log("a", actor="b", pin="1234", i=i)
    assert event.source.service == "billing" and event.metadata["pin"] == "[REDACTED]"
    rotated = [p for p in tmp_path.iterdir() if p.name.split(".")[-1].isdigit()]
    assert len(rotated) == 2  # retention kept two rotated files
    result = verify(path, key=key, checkpoints=tmp_path / "points.jsonl")
    assert result.ok and result.last_seq == 100 and not result.anchored


def test_paths_may_be_path_objects(tmp_path: Path) -> None:
    config = AuditConfig.from_dict({"path": tmp_path / "a.jsonl", "checkpoint_path": tmp_path})
    assert config.path == str(tmp_path / "a.jsonl")
    assert config.checkpoint_path == str(tmp_path)
    with pytest.raises(ConfigError, match="path must be a file path, not 42"):
        AuditConfig.from_dict({"path": 42})


def test_from_toml_tables(tmp_path: Path) -> None:
    for text in (
        'durability = "none"\nfsync_every = 7\n',
        '[audit]\ndurability = "none"\nfsync_every = 7\n',
        '[tool.maestro-audit]\ndurability = "none"\nfsync_every = 7\n',
    ):
        file = tmp_path / "audit.toml"
        file.write_text(text)
        config = AuditConfig.from_toml(file)
        assert (config.durability, config.fsync_every) == ("none", 7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('durability = "sometimes"', "durability must be one of none, batch, always"),
        ("fsync_every = -1", "fsync_every must be a positive integer"),
        ("shared = 1", "shared must be true or false"),
        ('durabilty = "none"', "unknown key 'durabilty' (did you mean 'durability'?)"),
        ('redact_fields = ["("]', "bad regular expression"),
        ("durability = ", "invalid TOML"),
        ('audit = "x"', "must be a table"),
    ],
)
def test_toml_errors_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "audit.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        AuditConfig.from_toml(file)
    assert message in str(caught.value)
    assert str(file) in str(caught.value)


def test_a_config_that_is_not_a_path_is_refused_without_touching_file_descriptors() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"not = [toml")
    os.close(write_end)
    try:
        with pytest.raises(ConfigError, match="must be a path .str or os.PathLike., not int"):
            AuditLogger.from_config(read_end)  # type: ignore[arg-type]
        os.fstat(read_end)  # still open: it used to be read and closed as the "file"
    finally:
        os.close(read_end)


def test_missing_toml_file() -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        AuditConfig.from_toml("/nonexistent/audit.toml")


def test_environment_variables() -> None:
    config = AuditConfig.from_env(
        {
            "MAESTRO_AUDIT_DURABILITY": "always",
            "MAESTRO_AUDIT_SHARED": "yes",
            "MAESTRO_AUDIT_FSYNC_INTERVAL": "0.5",
            "MAESTRO_AUDIT_REDACT_FIELDS": "pin, badge",
            "MAESTRO_AUDIT_REDACT_VALUES": "ticket=TCK-\\d+",
            "UNRELATED": "x",
        }
    )
    assert (config.durability, config.shared, config.fsync_interval) == ("always", True, 0.5)
    assert config.redact_fields == ("pin", "badge")
    assert config.redact_values == {"ticket": "TCK-\\d+"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MAESTRO_AUDIT_FSYNC_EVERY": "lots"}, "MAESTRO_AUDIT_FSYNC_EVERY must be a positive"),
        ({"MAESTRO_AUDIT_SHARED": "perhaps"}, "MAESTRO_AUDIT_SHARED must be true or false"),
        ({"MAESTRO_AUDIT_DURABILTY": "x"}, "did you mean MAESTRO_AUDIT_DURABILITY?"),
        ({"MAESTRO_AUDIT_FSYNC_INTERVAL": "inf"}, "fsync_interval must be a positive, finite"),
    ],
)
def test_environment_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("?", r"\?")):
        AuditConfig.from_env(environ)


def test_load_merges_toml_then_environment_then_overrides(tmp_path: Path) -> None:
    file = tmp_path / "audit.toml"
    file.write_text('durability = "none"\nservice = "from-toml"\nfsync_every = 5\n')
    config = AuditConfig.load(file, environ={"MAESTRO_AUDIT_SERVICE": "from-env"}, fsync_every=9)
    assert (config.durability, config.service, config.fsync_every) == ("none", "from-env", 9)


def test_key_sources_and_hidden_key(
    tmp_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(key + b"\n")
    assert AuditConfig(key_file=str(key_file)).resolve_key() == key
    monkeypatch.setenv("MY_AUDIT_KEY", key.decode())
    assert AuditConfig(key_env="MY_AUDIT_KEY").resolve_key() == key.decode()
    with pytest.raises(ConfigError, match="NOPE_KEY is not set"):
        AuditConfig(key_env="NOPE_KEY").resolve_key()
    with pytest.raises(ConfigError, match="key_file"):
        AuditConfig(key_file=str(tmp_path / "missing")).resolve_key()
    config = AuditConfig.from_dict({"key": key.decode()})
    assert key.decode() not in repr(config)
    with pytest.raises(ConfigError) as caught:
        AuditConfig.from_dict({"key": 12345})
    assert "<hidden>" in str(caught.value) and "12345" not in str(caught.value)


def test_from_config_with_a_toml_path_and_overrides(tmp_path: Path) -> None:
    file = tmp_path / "audit.toml"
    file.write_text(f'path = "{tmp_path / "audit.jsonl"}"\nqueue_size = 8\n')
    with AuditLogger.from_config(file, service="svc") as audit:
        audit.log("a", actor="b")
    (event,) = read_events(tmp_path / "audit.jsonl")
    assert event.source.service == "svc"
