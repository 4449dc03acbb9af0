"""Hash chain sealing every record, and the verifier.

Each log line is ``<record JSON without its closing brace>,"chain":"<64 hex>"}``.
The chain value of record *n* is ``MAC(key, chain[n-1] + body[n])`` where ``body``
is the exact bytes before ``,"chain"``; the first file of a log starts from 64 ``0``
characters. Keyed logs use keyed BLAKE2b (default) or HMAC-SHA256; without a key
the chain is plain SHA-256 (detects accidents, not a forger who can rewrite the file).

Every file (segment) starts with a header record that names the algorithm, the
first sequence number, the chain value it continues from, and a short key check
value, so a wrong key is reported as such and rotation keeps one unbroken chain.

>>> chain = Chain.create(b"0123456789abcdef0123456789abcdef")
>>> chain.algorithm
'blake2b'
>>> len(chain.seal(GENESIS, b'{"seq":1'))
64
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import os
from binascii import hexlify
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from maestro_audit_logger._segments import log_files
from maestro_audit_logger.errors import ConfigError, LogFormatError

__all__ = [
    "ALGORITHMS",
    "GENESIS",
    "Algorithm",
    "Chain",
    "Problem",
    "VerifyResult",
    "verify",
]

Algorithm = Literal["blake2b", "hmac-sha256", "sha256"]
ALGORITHMS: tuple[Algorithm, ...] = ("blake2b", "hmac-sha256", "sha256")
#: Chain value the very first record of a log continues from.
GENESIS = b"0" * 64
CHAIN_FIELD = b',"chain":"'
#: Bytes after the body: ``,"chain":"`` + 64 hex digits + ``"}`` + newline.
TAIL_LEN = len(CHAIN_FIELD) + 64 + 3
MIN_KEY_BYTES = 16
_KEY_CHECK_LABEL = b"maestro-audit-logger key check v1"
_SEQ_PREFIX = b'{"seq":'
_HEADER_PREFIX = b'{"segment":'


def normalize_key(key: bytes | str | None) -> bytes | None:
    """Return the key as bytes, checking its length (never echoing it).

    Raises:
        ConfigError: the key is shorter than 16 bytes or not bytes/str.
    """
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes | bytearray):
        raise ConfigError(f"key must be bytes or str, not {type(key).__name__}")
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"key is {len(key)} bytes; it must be at least {MIN_KEY_BYTES} bytes "
            "(for example secrets.token_bytes(32))"
        )
    return bytes(key)


@dataclass(frozen=True, slots=True)
class Chain:
    """The sealing function of one log: algorithm plus (hidden) key.

    Use :meth:`create`; the key is never part of ``repr`` or of any message.

    >>> Chain.create(None).algorithm
    'sha256'
    """

    algorithm: Algorithm
    _mac: Callable[[bytes], bytes] = field(repr=False, compare=False)
    key_check: str | None = None
    # For single-state algorithms: returns a fresh (keyed) hash state, so hot loops can
    # skip the call to _mac. None for HMAC, which needs two states.
    _state: Callable[[], Any] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def create(cls, key: bytes | str | None, algorithm: Algorithm | None = None) -> Chain:
        """Build the chain for ``key`` (``None``: unkeyed SHA-256).

        Raises:
            ConfigError: unknown algorithm, a keyed algorithm without key, or a bad key.
        """
        raw = normalize_key(key)
        if algorithm is None:
            algorithm = "sha256" if raw is None else "blake2b"
        if algorithm not in ALGORITHMS:
            raise ConfigError(
                f"algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}"
            )
        if algorithm == "sha256":
            if raw is not None:
                raise ConfigError("algorithm 'sha256' takes no key; use 'blake2b' or 'hmac-sha256'")
            sha256 = hashlib.sha256

            def mac(data: bytes) -> bytes:
                return hexlify(sha256(data).digest())

            return cls("sha256", mac, None, sha256)
        if raw is None:
            raise ConfigError(f"algorithm {algorithm!r} needs a key")
        # Keyed states are prepared once and copied per record: the key schedule is
        # paid once, not for every record.
        if algorithm == "blake2b":
            # BLAKE2b takes keys up to 64 bytes; longer keys are hashed first, as HMAC does.
            bkey = raw if len(raw) <= 64 else hashlib.blake2b(raw).digest()
            keyed = hashlib.blake2b(key=bkey, digest_size=32).copy

            def mac(data: bytes) -> bytes:
                state = keyed()
                state.update(data)
                return hexlify(state.digest())

        else:  # HMAC-SHA256 as in RFC 2104, with precomputed inner and outer states
            block = raw if len(raw) <= 64 else hashlib.sha256(raw).digest()
            block = block.ljust(64, b"\0")
            inner = hashlib.sha256(bytes(b ^ 0x36 for b in block)).copy
            outer = hashlib.sha256(bytes(b ^ 0x5C for b in block)).copy

            def mac(data: bytes) -> bytes:
                state = inner()
                state.update(data)
                final = outer()
                final.update(state.digest())
                return hexlify(final.digest())

        check = mac(_KEY_CHECK_LABEL)[:16].decode()
        return cls(algorithm, mac, check, keyed if algorithm == "blake2b" else None)

    def seal(self, previous: bytes, body: bytes) -> bytes:
        """Return the 64 hex-digit chain value of ``body`` following ``previous``."""
        return self._mac(previous + body)


def seal_line(chain: Chain, previous: bytes, body: bytes) -> tuple[bytes, bytes]:
    """Return ``(chain_value, full_line)`` for a record body."""
    value = chain._mac(previous + body)
    return value, body + CHAIN_FIELD + value + b'"}\n'


def header_body(chain: Chain, first_seq: int, previous: bytes, created: str) -> bytes:
    """Return the body of the header record that opens every segment."""
    header: dict[str, Any] = {
        "alg": chain.algorithm,
        "first_seq": first_seq,
        "prev": previous.decode(),
        "key_check": chain.key_check,
        "schema": 1,
        "created": created,
    }
    return b'{"segment":' + json.dumps(header, separators=(",", ":")).encode()


class Problem(enum.StrEnum):
    """Why verification failed."""

    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"
    INSERTED = "inserted"
    TRUNCATED = "truncated"
    WRONG_KEY = "wrong-key"
    KEY_REQUIRED = "key-required"
    CHECKPOINT_MISMATCH = "checkpoint-mismatch"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`verify`; true when the log is intact.

    Attributes:
        ok: Whether every record verified.
        records: Number of event records that verified before the first problem.
        first_seq: Sequence number of the first event present (0 for an empty log).
        last_seq: Sequence number of the last event that verified.
        head: Chain value of the last verified record (compare with a checkpoint).
        algorithm: Chain algorithm named by the log.
        files: Files read, oldest first.
        problem: What was wrong, or ``None``.
        bad_seq: The first sequence number that failed, or ``None``.
        message: One-line human explanation.
        anchored: True when the log starts at the genesis value (nothing cut off the start).
    """

    ok: bool
    records: int
    first_seq: int
    last_seq: int
    head: str
    algorithm: str
    files: tuple[str, ...]
    problem: Problem | None = None
    bad_seq: int | None = None
    message: str = "ok"
    anchored: bool = True

    def __bool__(self) -> bool:
        return self.ok

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary."""
        return {
            "ok": self.ok,
            "records": self.records,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head": self.head,
            "algorithm": self.algorithm,
            "files": list(self.files),
            "problem": None if self.problem is None else self.problem.value,
            "bad_seq": self.bad_seq,
            "message": self.message,
            "anchored": self.anchored,
        }


class _Failure(Exception):
    def __init__(self, problem: Problem, seq: int, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.seq = seq
        self.message = message


def _seq_of(line: bytes) -> int | None:
    if not line.startswith(_SEQ_PREFIX):
        return None
    end = line.find(b",", 7)
    try:
        return int(line[7:end])
    except ValueError:
        return None


def _links(chain: Chain, previous: bytes, line: bytes | None) -> bool:
    if line is None or len(line) <= TAIL_LEN or not line.endswith(b'"}\n'):
        return False
    if not line.startswith(CHAIN_FIELD, len(line) - TAIL_LEN):
        return False
    return hmac.compare_digest(chain._mac(previous + line[:-TAIL_LEN]), line[-67:-3])


def _diagnose(
    chain: Chain, line: bytes, previous: bytes, expected: int, rest: Iterator[bytes]
) -> _Failure:
    """Explain why ``line`` did not verify; reads ahead in ``rest`` (streaming)."""
    if line.startswith(_HEADER_PREFIX):
        return _Failure(
            Problem.INSERTED, expected, f"unexpected segment header before seq {expected}"
        )
    try:
        data = json.loads(line)
        seq = int(data["seq"])
        stored = str(data["chain"]).encode()
    except (ValueError, KeyError, TypeError):
        return _Failure(
            Problem.EDITED, expected, f"record seq {expected} is damaged (not a record)"
        )
    following = next(rest, None)
    if _links(chain, stored, following) and _seq_of(following or b"") == expected + 1:
        return _Failure(Problem.EDITED, expected, f"record seq {expected} was modified")
    if (
        seq <= expected
        and _links(chain, previous, following)
        and _seq_of(following or b"") == expected
    ):
        return _Failure(
            Problem.INSERTED,
            expected,
            f"a record (claiming seq {seq}) was inserted before seq {expected}",
        )
    if seq == expected:
        true_value = chain._mac(previous + line[:-TAIL_LEN])
        if _links(chain, true_value, following):
            return _Failure(
                Problem.EDITED, expected, f"the chain value of seq {expected} was modified"
            )
        return _Failure(Problem.EDITED, expected, f"record seq {expected} was modified")
    if seq > expected:
        later = following
        while later is not None:
            if _seq_of(later) == expected:
                return _Failure(
                    Problem.REORDERED, expected, f"record seq {expected} appears after seq {seq}"
                )
            later = next(rest, None)
        missing = (
            f"record {expected} is" if seq == expected + 1 else f"records {expected}..{seq - 1} are"
        )
        return _Failure(Problem.DELETED, expected, f"{missing} missing")
    return _Failure(
        Problem.REORDERED, expected, f"record seq {seq} appears where {expected} belongs"
    )


def _read_checkpoints(path: str | os.PathLike[str], chain: Chain) -> dict[int, bytes]:
    points: dict[int, bytes] = {}
    try:
        handle = open(path, "rb")  # closed by the with block below
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint file at {path}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):
                break  # a torn checkpoint line from a crash proves nothing
            try:
                data = json.loads(line)
                body = json.dumps(data["checkpoint"], separators=(",", ":"), sort_keys=True)
                valid = hmac.compare_digest(chain._mac(body.encode()), str(data["mac"]).encode())
                seq, value = int(data["checkpoint"]["seq"]), str(data["checkpoint"]["chain"])
            except (ValueError, KeyError, TypeError) as exc:
                raise LogFormatError(f"{path}:{number}: not a checkpoint record ({exc})") from exc
            if not valid:
                raise LogFormatError(
                    f"{path}:{number}: checkpoint seal is wrong (edited or wrong key)"
                )
            points[seq] = value.encode()
    return points


def checkpoint_line(chain: Chain, seq: int, value: bytes, log: str, time: str) -> bytes:
    """Return one sealed checkpoint line for a separate checkpoint sink."""
    point = {"seq": seq, "chain": value.decode(), "log": log, "time": time}
    body = json.dumps(point, separators=(",", ":"), sort_keys=True)
    mac = chain._mac(body.encode()).decode()
    return json.dumps({"checkpoint": point, "mac": mac}, separators=(",", ":")).encode() + b"\n"


def verify(
    path: str | os.PathLike[str],
    *,
    key: bytes | str | None = None,
    checkpoints: str | os.PathLike[str] | None = None,
) -> VerifyResult:
    """Verify a log (active file plus rotated segments, or a directory holding one log).

    Reads the files once, streaming, in constant memory. Stops at the first problem
    and reports its sequence number and kind (edited, deleted, reordered, inserted,
    truncated, wrong key). With ``checkpoints`` (a file written by a checkpoint sink),
    also checks the chain against each checkpoint, which detects records cut off the
    end of the log and a log re-sealed from scratch.

    Args:
        path: The active log file or its directory.
        key: The key the log was written with (``None`` for an unkeyed log).
        checkpoints: Optional checkpoint file to compare the chain against.

    Raises:
        FileNotFoundError: no log at ``path``, or no file at ``checkpoints``.
        LogFormatError: the files are not audit logs, or the checkpoint file is bad.

    >>> import tempfile, os
    >>> from maestro_audit_logger import AuditLogger
    >>> log_path = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
    >>> with AuditLogger(log_path) as audit:
    ...     _ = audit.log("user.login", actor="alice")
    >>> verify(log_path).ok
    True
    """
    files = log_files(path)
    raw_key = normalize_key(key)
    state: dict[str, Any] = {
        "records": 0,
        "first": 0,
        "last": 0,
        "head": GENESIS,
        "alg": "",
        "anchored": True,
    }
    problem: Problem | None = None
    bad_seq: int | None = None
    try:
        _verify_files(files, raw_key, checkpoints, state)
    except _Failure as failure:
        problem, bad_seq, message = failure.problem, failure.seq, failure.message
    else:
        message = f"ok: {state['records']} records verified"
    return VerifyResult(
        ok=problem is None,
        records=state["records"],
        first_seq=state["first"],
        last_seq=state["last"],
        head=state["head"].decode(),
        algorithm=state["alg"],
        files=tuple(str(f) for f in files),
        problem=problem,
        bad_seq=bad_seq,
        message=message,
        anchored=state["anchored"],
    )


def _open_segment(
    handle: BinaryIO, name: Path, raw_key: bytes | None, chain: Chain | None, expected: int
) -> tuple[Chain, Mapping[str, Any], bytes]:
    first = handle.readline()
    if not first:
        raise _Failure(Problem.TRUNCATED, expected, f"{name.name} is empty (torn rotation)")
    if first.startswith(_HEADER_PREFIX) and not first.endswith(b"\n"):
        raise _Failure(
            Problem.TRUNCATED, expected, f"segment header of {name.name} is torn (incomplete)"
        )
    if first.startswith(_SEQ_PREFIX):  # a record where the header belongs: it was removed
        seq = expected if expected > 1 else _seq_of(first) or expected
        raise _Failure(Problem.DELETED, seq, f"segment header of {name.name} is missing")
    if not first.startswith(_HEADER_PREFIX):
        raise LogFormatError(f"{name} does not start with an audit segment header")
    try:
        header = json.loads(first)["segment"]
        algorithm = header["alg"]
    except (ValueError, KeyError, TypeError) as exc:
        raise LogFormatError(f"{name}: damaged segment header ({exc})") from exc
    if chain is None or chain.algorithm != algorithm:
        if algorithm != "sha256" and raw_key is None:
            raise _Failure(
                Problem.KEY_REQUIRED,
                expected,
                f"{name.name} is sealed with keyed {algorithm}; pass the key to verify it",
            )
        if algorithm == "sha256" and raw_key is not None:
            raise _Failure(
                Problem.WRONG_KEY,
                expected,
                f"{name.name} is not keyed (sha256) although a key was given: "
                "it may have been re-written without the key",
            )
        try:
            chain = Chain.create(raw_key, algorithm)
        except ConfigError as exc:
            raise LogFormatError(f"{name}: {exc}") from exc
    if chain.key_check is not None and header.get("key_check") != chain.key_check:
        raise _Failure(
            Problem.WRONG_KEY,
            int(header.get("first_seq", expected)),
            f"{name.name} was sealed with a different key",
        )
    return chain, header, first


def _verify_files(
    files: list[Path],
    raw_key: bytes | None,
    checkpoints: str | os.PathLike[str] | None,
    state: dict[str, Any],
) -> None:
    chain: Chain | None = None
    previous = GENESIS
    expected = 1
    points: dict[int, bytes] | None = None
    for index, name in enumerate(files):
        with open(name, "rb") as handle:
            chain, header, first = _open_segment(handle, name, raw_key, chain, expected)
            state["alg"] = chain.algorithm
            if points is None and checkpoints is not None:
                points = _read_checkpoints(checkpoints, chain)
            first_seq, header_prev = int(header["first_seq"]), str(header["prev"]).encode()
            if index == 0:
                previous, expected = header_prev, first_seq
                anchored = header_prev == GENESIS and first_seq == 1
                state["anchored"] = anchored
                state["first"] = first_seq
            elif first_seq > expected:
                raise _Failure(
                    Problem.DELETED, expected, f"records {expected}..{first_seq - 1} are missing"
                )
            elif first_seq < expected or header_prev != previous:
                raise _Failure(
                    Problem.INSERTED, expected, f"{name.name} does not continue the chain"
                )
            if not _links(chain, previous, first):
                raise _Failure(
                    Problem.EDITED, expected, f"segment header of {name.name} was modified"
                )
            previous = first[-67:-3]
            state["head"] = previous
            lines = iter(handle)
            mac = chain._mac
            compare = hmac.compare_digest
            start = expected
            try:
                for line in lines:
                    value = line[-67:-3]
                    if (
                        not compare(mac(previous + line[:-TAIL_LEN]), value)
                        # the few bytes outside the seal must be exactly what the writer puts
                        or not line.endswith(b'"}\n')
                        or not line.startswith(CHAIN_FIELD, len(line) - TAIL_LEN)
                    ):
                        if line[-1:] != b"\n":
                            raise _Failure(
                                Problem.TRUNCATED,
                                expected,
                                f"record seq {expected} is torn (incomplete)",
                            )
                        raise _diagnose(chain, line, previous, expected, lines)
                    if not line.startswith(b'{"seq":%d,' % expected):
                        raise _diagnose(chain, line, previous, expected, lines)
                    if points is not None and expected in points and points[expected] != value:
                        raise _Failure(
                            Problem.CHECKPOINT_MISMATCH,
                            expected,
                            f"chain at seq {expected} differs from the checkpoint: "
                            "the log was re-sealed",
                        )
                    previous = value
                    expected += 1
            finally:
                # Hot loop keeps its counters in locals; publish them once per file.
                state["records"] += expected - start
                if expected > start:
                    state["last"] = expected - 1
                    state["head"] = previous
    if points:
        beyond = max(points)
        if beyond >= expected:
            raise _Failure(
                Problem.TRUNCATED,
                expected,
                f"log ends at seq {expected - 1} but a checkpoint exists for seq {beyond}",
            )
