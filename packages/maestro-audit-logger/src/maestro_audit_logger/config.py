"""Configuration from a dict, a TOML file and ``MAESTRO_AUDIT_*`` environment variables.

Every value is checked, and errors name the offending key and its source.

>>> config = AuditConfig.from_dict({"path": "audit.jsonl", "durability": "always"})
>>> config.durability
'always'
>>> AuditConfig.from_dict({"durabilty": "always"})
Traceback (most recent call last):
...
maestro_audit_logger.errors.ConfigError: unknown key 'durabilty' (did you mean 'durability'?)
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestro_audit_logger._filelog import DURABILITIES
from maestro_audit_logger.errors import ConfigError
from maestro_audit_logger.integrity import ALGORITHMS
from maestro_audit_logger.redaction import DEFAULT_FIELD_PATTERNS, DEFAULT_VALUE_PATTERNS, Redactor
from maestro_audit_logger.sinks import BoundedQueue, Checkpoints, Rotation

__all__ = ["ENV_PREFIX", "AuditConfig"]

#: Prefix of the environment variables read by :meth:`AuditConfig.from_env`.
ENV_PREFIX = "MAESTRO_AUDIT_"


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _finite_positive_number(value: Any) -> bool:
    return _positive_number(value) and value < math.inf


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _path(value: Any) -> bool:
    return isinstance(value, str | os.PathLike) and os.fspath(value) != ""


def _strings(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value)


def _string_map(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


# key -> (check, what the check expects, parser for an environment string)
_SPEC: dict[str, tuple[Callable[[Any], bool], str, Callable[[str], Any]]] = {
    "path": (_path, "a file path", str),
    "key": (lambda v: isinstance(v, str | bytes) and len(v) > 0, "a non-empty str", str),
    "key_file": (_path, "a file path", str),
    "key_env": (_text, "an environment variable name", str),
    "algorithm": (lambda v: v in ALGORITHMS, f"one of {', '.join(ALGORITHMS)}", str),
    "durability": (lambda v: v in DURABILITIES, f"one of {', '.join(DURABILITIES)}", str),
    "fsync_every": (_positive_int, "a positive integer", int),
    "fsync_interval": (
        _finite_positive_number,
        "a positive, finite number of seconds",
        float,
    ),
    "service": (_text, "a non-empty str", str),
    "shared": (lambda v: isinstance(v, bool), "true or false", lambda s: _parse_bool(s)),
    "max_record_bytes": (_positive_int, "a positive integer", int),
    "redact": (lambda v: isinstance(v, bool), "true or false", lambda s: _parse_bool(s)),
    "redact_fields": (_strings, "a list of regex strings", lambda s: _parse_list(s)),
    "redact_values": (_string_map, "a table of name = regex", lambda s: _parse_map(s)),
    "rotate_bytes": (_positive_int, "a positive integer", int),
    "rotate_interval": (_positive_number, "a positive number of seconds", float),
    "keep_files": (_positive_int, "a positive integer", int),
    "max_age": (_positive_number, "a positive number of seconds", float),
    "checkpoint_path": (_path, "a file path", str),
    "checkpoint_every": (_positive_int, "a positive integer", int),
    "queue_size": (_positive_int, "a positive integer", int),
    "when_full": (lambda v: v in ("block", "drop"), "'block' or 'drop'", str),
}


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true/false, got {text!r}")


def _parse_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _parse_map(text: str) -> dict[str, str]:
    result = {}
    for part in text.split(";"):
        if part.strip():
            name, sep, regex = part.partition("=")
            if not sep:
                raise ValueError(f"expected name=regex;..., got {part!r}")
            result[name.strip()] = regex.strip()
    return result


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """Validated settings for :meth:`AuditLogger.from_config`.

    Field names are the keys accepted in dicts, TOML (top level, or an ``[audit]`` or
    ``[tool.maestro-audit]`` table) and, upper-cased with ``MAESTRO_AUDIT_``, in the
    environment. The key is never shown in ``repr``. Prefer ``key_file`` or ``key_env``
    to a key written in a config file.
    """

    path: str | None = None
    key: str | bytes | None = field(default=None, repr=False)
    key_file: str | None = None
    key_env: str | None = None
    algorithm: str | None = None
    durability: str = "batch"
    fsync_every: int = 1000
    fsync_interval: float = 0.2
    service: str | None = None
    shared: bool = False
    max_record_bytes: int = 64 * 1024
    redact: bool = True
    redact_fields: tuple[str, ...] = ()
    redact_values: Mapping[str, str] = field(default_factory=dict)
    rotate_bytes: int | None = None
    rotate_interval: float | None = None
    keep_files: int | None = None
    max_age: float | None = None
    checkpoint_path: str | None = None
    checkpoint_every: int = 10_000
    queue_size: int | None = None
    when_full: str = "block"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "") -> AuditConfig:
        """Validate a mapping; ``None`` values mean "use the default".

        Raises:
            ConfigError: unknown key, or a value of the wrong type or range.
        """
        where = f"{source}: " if source else ""
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in _SPEC:
                close = difflib.get_close_matches(str(name), _SPEC, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"{where}unknown key {name!r}{hint}")
            if value is None:
                continue
            check, expected, _ = _SPEC[name]
            if not check(value):
                shown = "<hidden>" if name == "key" else repr(value)
                raise ConfigError(f"{where}{name} must be {expected}, not {shown}")
            if name in ("path", "key_file", "checkpoint_path"):
                value = os.fspath(value)
            elif name == "redact_fields":
                value = tuple(value)
            elif name == "redact_values":
                value = dict(value)
            elif name == "fsync_interval":
                value = float(value)
            values[name] = value
        config = cls(**values)
        try:
            config.redactor()
        except ConfigError as exc:  # a bad pattern, named by the Redactor
            raise ConfigError(f"{where}redact_fields/redact_values: {exc}") from None
        return config

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> AuditConfig:
        """Read a TOML file (top level, ``[audit]`` or ``[tool.maestro-audit]``).

        Raises:
            ConfigError: the file cannot be read or parsed, or a value is bad.
        """
        if not isinstance(path, str | os.PathLike):  # open(5) would read and close fd 5
            raise ConfigError(
                f"the config file must be a path (str or os.PathLike), not {type(path).__name__}"
            )
        try:
            with open(path, "rb") as handle:
                document = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        table: Any = document
        if "audit" in document:
            table = document["audit"]
        elif "maestro-audit" in document.get("tool", {}):
            table = document["tool"]["maestro-audit"]
        if not isinstance(table, Mapping):
            raise ConfigError(f"{path}: the audit settings must be a table")
        return cls.from_dict(table, source=str(path))

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, prefix: str = ENV_PREFIX
    ) -> AuditConfig:
        """Read ``MAESTRO_AUDIT_<KEY>`` variables (e.g. ``MAESTRO_AUDIT_DURABILITY=always``).

        Lists are comma-separated; ``REDACT_VALUES`` is ``name=regex;name=regex``.

        >>> AuditConfig.from_env({"MAESTRO_AUDIT_FSYNC_EVERY": "50"}).fsync_every
        50
        """
        return cls.from_dict(cls._env_values(os.environ if environ is None else environ, prefix))

    @staticmethod
    def _env_values(environ: Mapping[str, str], prefix: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for variable, text in environ.items():
            if not variable.startswith(prefix):
                continue
            name = variable[len(prefix) :].lower()
            if name not in _SPEC:
                close = difflib.get_close_matches(name, _SPEC, n=1)
                hint = f" (did you mean {prefix}{close[0].upper()}?)" if close else ""
                raise ConfigError(f"unknown environment variable {variable}{hint}")
            try:
                values[name] = _SPEC[name][2](text)
            except ValueError as exc:
                shown = "<hidden>" if name == "key" else repr(text)
                raise ConfigError(
                    f"{variable} must be {_SPEC[name][1]}, not {shown} ({exc})"
                ) from None
        return values

    @classmethod
    def load(
        cls,
        toml: str | os.PathLike[str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> AuditConfig:
        """Merge defaults, then a TOML file, then the environment, then ``overrides``.

        >>> AuditConfig.load(environ={"MAESTRO_AUDIT_SHARED": "true"}, service="api").shared
        True
        """
        merged: dict[str, Any] = {}
        if toml is not None:
            merged.update(_as_dict(cls.from_toml(toml)))
        env = cls._env_values(os.environ if environ is None else environ, ENV_PREFIX)
        merged.update(env)
        merged.update(overrides)
        return cls.from_dict(merged)

    def resolve_key(self) -> bytes | str | None:
        """Return the key from ``key``, ``key_file`` or ``key_env`` (in that order).

        Raises:
            ConfigError: the key file is unreadable or the variable is unset.
        """
        if self.key is not None:
            return self.key
        if self.key_file is not None:
            try:
                return Path(self.key_file).read_bytes().rstrip(b"\r\n")
            except OSError as exc:
                raise ConfigError(f"key_file {self.key_file}: {exc.strerror}") from None
        if self.key_env is not None:
            value = os.environ.get(self.key_env)
            if not value:
                raise ConfigError(f"key_env: environment variable {self.key_env} is not set")
            return value
        return None

    def redactor(self) -> Redactor | None:
        """Return the configured redactor (defaults plus extra patterns), or ``None``."""
        if not self.redact:
            return None
        values = {**DEFAULT_VALUE_PATTERNS, **self.redact_values}
        return Redactor((*DEFAULT_FIELD_PATTERNS, *self.redact_fields), values)

    def logger_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments for :class:`~maestro_audit_logger.AuditLogger`."""
        rotation = None
        if any(
            v is not None
            for v in (self.rotate_bytes, self.rotate_interval, self.keep_files, self.max_age)
        ):
            rotation = Rotation(
                self.rotate_bytes, self.rotate_interval, self.keep_files, self.max_age
            )
        return {
            "path": self.path,
            "key": self.resolve_key(),
            "durability": self.durability,
            "algorithm": self.algorithm,
            "service": self.service,
            "redactor": self.redactor(),
            "rotation": rotation,
            "shared": self.shared,
            "max_record_bytes": self.max_record_bytes,
            "fsync_every": self.fsync_every,
            "fsync_interval": self.fsync_interval,
            "checkpoints": None
            if self.checkpoint_path is None
            else Checkpoints(self.checkpoint_path, self.checkpoint_every),
            "queue": None
            if self.queue_size is None
            else BoundedQueue(self.queue_size, self.when_full),  # type: ignore[arg-type]
        }


def _as_dict(config: AuditConfig) -> dict[str, Any]:
    defaults = AuditConfig()
    return {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if getattr(config, f.name) != getattr(defaults, f.name)
    }
