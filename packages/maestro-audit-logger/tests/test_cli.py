"""The maestro-audit command: sub-commands, exit codes, terminal safety."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from maestro_audit_logger import AuditLogger, Checkpoints
from maestro_audit_logger.cli import main


@pytest.fixture
def trail(tmp_path: Path, key: bytes) -> Path:
    path = tmp_path / "audit.jsonl"
    with AuditLogger(path, key=key) as audit:
        audit.log("user.login", actor="alice")
        audit.log(
            "invoice.delete",
            actor="bob",
            resource="invoice:7",
            outcome="denied",
            reason="\x1b[2Jnot owner\u202e",
        )
        audit.log("report.export", actor="=cmd|'/c calc'!A1", resource="report:q3")
    return path


@pytest.fixture
def key_file(tmp_path: Path, key: bytes) -> Path:
    path = tmp_path / "audit.key"
    path.write_bytes(key + b"\n")
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_verify_ok_and_failed(
    trail: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["verify", str(trail), "--key-file", str(key_file)], capsys)
    assert (code, out) == (0, "OK: 3 records verified, last seq 3\n")
    lines = trail.read_bytes().splitlines(keepends=True)
    trail.write_bytes(b"".join([lines[0], lines[1], lines[3]]))  # seq 2 deleted
    code, out, _ = run(["verify", str(trail), "--key-file", str(key_file), "--json"], capsys)
    result = json.loads(out)
    assert (code, result["ok"], result["problem"], result["bad_seq"]) == (1, False, "deleted", 2)


def test_verify_key_from_environment(
    trail: Path, key: bytes, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAESTRO_AUDIT_KEY", key.decode())
    assert run(["verify", str(trail)], capsys)[0] == 0
    monkeypatch.setenv("OTHER_KEY", "wrong-key-0123456789abcdef012345")
    code, out, _ = run(["verify", str(trail), "--key-env", "OTHER_KEY"], capsys)
    assert code == 1 and "wrong-key" in out
    monkeypatch.delenv("MAESTRO_AUDIT_KEY")
    code, out, _ = run(["verify", str(trail)], capsys)
    assert code == 1 and "key-required" in out


def test_verify_with_checkpoints(
    tmp_path: Path, key: bytes, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, points = tmp_path / "a.jsonl", tmp_path / "points.jsonl"
    with AuditLogger(path, key=key, checkpoints=Checkpoints(points, every=2)) as audit:
        for i in range(4):
            audit.log("a", actor="b", i=i)
    argv = ["verify", str(path), "--key-file", str(key_file), "--checkpoints", str(points)]
    assert run(argv, capsys)[0] == 0
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-1]))
    code, out, _ = run(argv, capsys)
    assert code == 1 and out.startswith("FAILED at seq 4: truncated")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["verify"],
        ["frobnicate", "x"],
        ["export", "x", "--format", "xml"],
        ["query", "x", "--outcome", "meh"],
        ["tail", "x", "-n", "many"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(argv, capsys)
    assert code == 2 and "usage:" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "{missing}"], "no audit log at"),
        (["query", "{missing}"], "no audit log at"),
        (["verify", "{trail}", "--key-file", "{missing}"], "cannot read key file"),
        (["verify", "{trail}", "--key-env", "UNSET_VARIABLE_X"], "is not set"),
        (["query", "{trail}", "--since", "yesterday"], "not an ISO 8601 time"),
        (["verify", "{garbage}"], "does not start with an audit segment header"),
        (["stats", "{garbage}"], "not a JSON record"),
        (["verify", "{trail}", "--checkpoints", "{garbage}"], "not a checkpoint record"),
        (["verify", "{trail}", "--checkpoints", "{missing}"], "no checkpoint file at {missing}"),
        (["export", "{trail}", "--format", "csv", "-o", "{missing}/x.csv"], "does not exist"),
        (["export", "{trail}", "--format", "csv", "-o", "{tmp}"], "{tmp} is a directory"),
        (["stats", "{trail}", "--top", "-1"], "--top must be zero or more"),
    ],
)
def test_input_errors_exit_2_without_traceback(
    argv: list[str],
    message: str,
    trail: Path,
    tmp_path: Path,
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("this is not\nan audit log\n")
    monkeypatch.setenv("MAESTRO_AUDIT_KEY", key_file.read_text().strip())
    names = {
        "missing": tmp_path / "nope.jsonl",
        "trail": trail,
        "garbage": garbage,
        "tmp": tmp_path,
    }
    code, _, err = run([a.format(**names) for a in argv], capsys)
    assert code == 2
    assert message.format(**names) in err and "Traceback" not in err
    assert err.startswith("maestro-audit: error: ")


def test_query_table_is_terminal_safe(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["query", str(trail)], capsys)
    assert code == 0
    assert out.replace("\n", "").isprintable()
    assert "\\x1b[2Jnot owner\\u202e" in out
    assert out.splitlines()[0].split() == [
        "SEQ",
        "TIME",
        "ACTOR",
        "ACTION",
        "RESOURCE",
        "OUTCOME",
        "REASON",
    ]


def test_query_filters_and_json(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["query", str(trail), "--outcome", "denied", "--format", "json"], capsys)
    (event,) = json.loads(out)
    assert code == 0 and event["actor"]["id"] == "bob"
    assert out.isascii()  # escapes and bidi controls arrive as \\u escapes
    code, out, _ = run(["query", str(trail), "--action", "*.export", "--format", "jsonl"], capsys)
    assert [json.loads(line)["seq"] for line in out.splitlines()] == [3]
    code, out, _ = run(["query", str(trail), "--limit", "1", "--format", "jsonl"], capsys)
    assert len(out.splitlines()) == 1


def test_tail(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["tail", str(trail), "-n", "2", "--json"], capsys)
    assert code == 0 and [json.loads(line)["seq"] for line in out.splitlines()] == [2, 3]
    code, out, _ = run(["tail", str(trail), "-n", "1"], capsys)
    assert len(out.splitlines()) == 2 and "report.export" in out


def test_export_csv_to_file_is_injection_safe(
    trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "audit.csv"
    target.parent.mkdir()
    code, _, err = run(["export", str(trail), "--format", "csv", "-o", str(target)], capsys)
    assert code == 0 and "exported 3 events" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert rows[2]["actor_id"] == "'=cmd|'/c calc'!A1"
    assert sorted(p.name for p in target.parent.iterdir()) == ["audit.csv"]  # no temp left


@pytest.mark.parametrize("fmt", ["json", "jsonl", "cef", "syslog"])
def test_export_formats_to_stdout(
    fmt: str, trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["export", str(trail), "--format", fmt, "--actor", "alice"], capsys)
    assert code == 0 and "user.login" in out and "invoice.delete" not in out


def test_stats(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["stats", str(trail), "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["events"] == 3
    assert data["outcomes"] == {"success": 2, "denied": 1}
    code, out, _ = run(["stats", str(trail)], capsys)
    assert out.replace("\n", "").isprintable()


def test_python_dash_m_runs_the_cli(trail: Path, key_file: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "maestro_audit_logger",
            "verify",
            str(trail),
            "--key-file",
            str(key_file),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "OK: 3 records verified, last seq 3")
    bad = subprocess.run(
        [sys.executable, "-m", "maestro_audit_logger", "query", "/nonexistent.jsonl"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "cef", "syslog"])
def test_export_to_a_terminal_escapes_control_characters(
    fmt: str, tmp_path: Path, key: bytes
) -> None:
    import pty

    path = tmp_path / "audit.jsonl"
    with AuditLogger(path, key=key) as audit:
        audit.log("x\x1b]0;owned\x07", actor="\x9b31mred", reason="\x1b[2J\u202ecls\rback")
    controller, terminal = pty.openpty()
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "maestro_audit_logger", "export", str(path), "--format", fmt],
            stdout=terminal,
            stderr=subprocess.PIPE,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        assert child.wait(timeout=120) == 0
    finally:
        os.close(controller)
    text = shown.decode("utf-8").replace("\r\n", "\n")  # the tty turns \n into \r\n
    assert "user" in text or "x" in text
    for control in ("\x1b", "\x07", "\x9b", "\u202e", "\r"):
        assert control not in text, (control, text)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_export_to_an_unwritable_directory_names_it(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /proc accepts no new files, even for root (a chmod would not stop root).
    code, _, err = run(["export", str(trail), "--format", "csv", "-o", "/proc/audit.csv"], capsys)
    assert code == 2
    assert err.startswith("maestro-audit: error: cannot write to /proc: ")
    assert ".audit.csv." not in err  # not the temporary file's name
