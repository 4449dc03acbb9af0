"""The maestro-results CLI: subcommands, --json, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator_testing import FIXTURES
from maestro_test_result_aggregator.cli import main


def _junit(path: Path, outcomes: dict[str, str]) -> Path:
    body = {"passed": "", "failed": '<failure message="boom"/>', "skipped": "<skipped/>"}
    cases = "".join(
        f'<testcase classname="c" name="{name}" time="0.5">{body[status]}</testcase>'
        for name, status in outcomes.items()
    )
    path.write_text(f'<testsuite name="c">{cases}</testsuite>')
    return path


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("CI", raising=False)
    path = tmp_path / "history.db"
    for build, outcomes in enumerate(
        [
            {"a": "passed", "b": "passed", "c": "skipped"},
            {"a": "passed", "b": "failed", "c": "skipped"},
        ],
        start=1,
    ):
        source = _junit(tmp_path / f"build{build}.xml", outcomes)
        code = main(
            ["ingest", "--db", str(path), "--project", "shop", "--branch", "main",
             "--build", str(build), "--started-at", f"2026-11-0{build}T10:00:00Z", str(source)]
        )  # fmt: skip
        assert code == 0
    return path


def test_ingest_reports_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "new.db"
    folder = str(FIXTURES / "junitparser")
    assert main(["ingest", "--db", str(db), "--no-ci-env", "--workers", "2", folder]) == 0
    assert "ingested 2 run(s), 4 result(s); 0 already stored, 0 failed" in capsys.readouterr().out


def test_ingest_of_a_broken_file_names_it_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = FIXTURES / "publish-unit-test-result-action" / "corrupt-xml.xml"
    good = FIXTURES / "junitparser" / "jenkins.xml"
    code = main(["ingest", "--db", str(tmp_path / "x.db"), "--json", str(broken), str(good)])
    captured = capsys.readouterr()
    assert code == 2
    assert f"cannot ingest {broken}: line 11" in captured.err
    assert json.loads(captured.out)["new_runs"] == 1
    assert "Traceback" not in captured.err


def test_runs_trend_tests_flaky_as_text_and_json(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "shop" in text and "50.0%" in text  # skipped tests do not count
    for command in ("runs", "trend", "tests", "flaky"):
        assert main([command, "--db", str(db), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert isinstance(data, list)
    assert main(["tests", "--db", str(db), "--failing", "--json"]) == 0
    assert [t["name"] for t in json.loads(capsys.readouterr().out)] == ["b"]
    assert main(["trend", "--db", str(db), "--json", "--branch", "main"]) == 0
    assert [p["pass_rate"] for p in json.loads(capsys.readouterr().out)] == [1.0, 0.5]
    assert main(["trend", "--db", str(db), "--json", "--test", "c::b"]) == 0
    assert [o["status"] for o in json.loads(capsys.readouterr().out)] == ["passed", "failed"]
    assert main(["trend", "--db", str(db), "--test", "c::nope"]) == 0
    assert "did not run" in capsys.readouterr().out
    assert main(["runs", "--db", str(db), "--by", "branch", "--json"]) == 0
    (group,) = json.loads(capsys.readouterr().out)
    assert (group["key"], group["runs"], group["failed"]) == ("main", 2, 1)
    assert main(["runs", "--db", str(db), "--by", "build"]) == 0
    assert "group" in capsys.readouterr().out


def test_diff_gate_exits_1_on_new_failures(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--db", str(db)]) == 0
    assert "new failures: 1" in capsys.readouterr().out
    assert main(["diff", "--db", str(db), "--fail-on-new-failures"]) == 1
    capsys.readouterr()
    assert main(["diff", "2", "1", "--db", str(db), "--fail-on-new-failures", "--json"]) == 0
    assert [c["name"] for c in json.loads(capsys.readouterr().out)["fixed"]] == ["b"]


def test_ingest_gate(db: Path, tmp_path: Path) -> None:
    third = _junit(tmp_path / "b3.xml", {"a": "failed", "b": "failed"})
    args = ["ingest", "--db", str(db), "--project", "shop", "--branch", "main", "--build", "3"]
    assert main([*args, "--fail-on-new-failures", str(third)]) == 1


def test_ingest_gate_compares_a_folder_of_result_files_with_the_previous_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Gradle and Surefire write one file per test class: the gate must compare builds."""
    db = tmp_path / "shards.db"
    for build in (1, 2):
        folder = tmp_path / f"build{build}"
        folder.mkdir()
        # (one passing test renamed per build, so no file repeats an earlier one)
        _junit(folder / "TEST-A.xml", {"a1": "passed", "a2": "failed", f"a_{build}": "passed"})
        _junit(folder / "TEST-B.xml", {"b1": "passed", "b2": "failed", f"b_{build}": "passed"})
        code = main(
            ["ingest", "--db", str(db), "--no-ci-env", "--project", "shop", "--build",
             str(build), "--started-at", f"2026-11-0{build}T10:00:00Z",
             "--fail-on-new-failures", str(folder)]
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err  # build 2 fails exactly as build 1 did
    assert main(["diff", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "build 1 -> build 2" in out
    assert "c::a_2 (absent -> passed)" in out and "None" not in out
    assert "new failures: 0" in out and "still failing: 2" in out
    assert main(["report", "--db", str(db), "--format", "md"]) == 0
    assert "Since build 1: **0 new failures**" in capsys.readouterr().out


def test_report_formats(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("html", "md", "json", "junit", "csv"):
        out = tmp_path / f"report.{fmt}"
        assert main(["report", "--db", str(db), "--format", fmt, "-o", str(out)]) == 0
        assert out.stat().st_size > 100
    assert main(["report", "--db", str(db), "--format", "md"]) == 0
    assert "Test results" in capsys.readouterr().out
    assert main(["report", "--db", str(db), "--fail-on-new-failures", "-o", str(out)]) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["runs", "--db", "missing.db"], "no result store at 'missing.db'"),
        (["diff", "nope", "--db", "{db}"], "no run matches 'nope'"),
        (["flaky", "--db", "{db}", "--last", "0"], "expected a number >= 1"),
        (["report", "--db", "{db}", "--format", "pdf"], "invalid choice"),
        (["ingest", "--db", "{db}", "nothing-here-*.xml"], "no result files matched"),
        (["bogus"], "invalid choice"),
    ],
)
def test_usage_and_input_errors_exit_2_without_traceback(
    db: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([arg.replace("{db}", str(db)) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_first_ingest_that_stores_nothing_leaves_no_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "new.db"
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuites><testsuite name='s'>", encoding="utf-8")

    assert main(["ingest", "--db", str(store), str(tmp_path / "nothing-*.xml")]) == 2
    assert main(["ingest", "--db", str(store), str(broken)]) == 2
    assert not store.exists() and list(tmp_path.iterdir()) == [broken]
    assert main(["runs", "--db", str(store)]) == 2
    assert f"no result store at {str(store)!r}" in capsys.readouterr().err


def test_an_ingest_that_stores_nothing_keeps_an_existing_store(db: Path) -> None:
    assert main(["ingest", "--db", str(db), "nothing-here-*.xml"]) == 2
    assert db.exists()
    assert main(["runs", "--db", str(db)]) == 0


def test_a_reader_that_closes_the_pipe_early_is_not_an_error(db: Path) -> None:
    """`maestro-results tests | head -1` must not fail the pipeline or print an error."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    proc = subprocess.run(
        [sys.executable, "-m", "maestro_test_result_aggregator", "runs", "--db", str(db)],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    os.close(write_end)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_progress_stays_quiet_when_not_a_terminal(tmp_path: Path) -> None:
    source = _junit(tmp_path / "a.xml", {"a": "passed"})
    proc = subprocess.run(
        [sys.executable, "-m", "maestro_test_result_aggregator", "ingest", "--db",
         str(tmp_path / "q.db"), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert proc.stdout.startswith("ingested 1 run(s)")


def test_progress_is_shown_on_a_terminal(tmp_path: Path) -> None:
    import os
    import pty

    sources = [_junit(tmp_path / f"r{i}.xml", {f"t{i}": "passed"}) for i in range(3)]
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "JENKINS_URL", "TF_BUILD")}
    proc = subprocess.run(
        [sys.executable, "-m", "maestro_test_result_aggregator", "ingest", "--db",
         str(tmp_path / "tty.db"), *map(str, sources)],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
        timeout=120,
    )  # fmt: skip
    os.close(follower)
    shown = os.read(leader, 65536).decode()
    os.close(leader)
    assert proc.returncode == 0
    assert "\ringesting 3/3 files, 3 results" in shown
