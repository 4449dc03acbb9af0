"""The pytest plugin, run in a real child pytest on suites written by the tests."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema

from maestro_test_adapters import Status, TestRun, json_schema

SUITE = """
import pytest

setups = []


@pytest.fixture(scope="module")
def shared():
    setups.append(1)
    return len(setups)


@pytest.fixture
def noisy_teardown():
    yield
    raise RuntimeError("cleanup failed")


def test_attaches(maestro_attach, tmp_path):
    log = tmp_path / "run.log"
    log.write_text("details")
    maestro_attach(log, "text/plain", "log")


def test_reruns_keep_module_fixtures(shared, request):
    request.config.stash.setdefault(ATTEMPTS, []).append(1)
    assert shared == 1
    assert len(request.config.stash[ATTEMPTS]) == 3, "passes on the third attempt"


def test_teardown_error(noisy_teardown):
    pass


ATTEMPTS = pytest.StashKey()
"""


def _run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_suite.py").write_text(textwrap.dedent(SUITE))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "maestro_test_adapters.pytest_plugin", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_report_follows_the_schema_with_attempts_and_attachments(tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.json"

    completed = _run_pytest(tmp_path, f"--maestro-report={report}", "--maestro-reruns=2")

    assert completed.returncode == 1, completed.stdout
    document = json.loads(report.read_text())
    jsonschema.validate(document, json_schema())
    run = TestRun.from_dict(document)
    results = {result.name: result for result in run.iter_results()}

    [attachment] = results["test_attaches"].attachments
    assert (attachment.media_type, attachment.name) == ("text/plain", "log")
    assert Path(attachment.path).read_text() == "details"

    rerun = results["test_reruns_keep_module_fixtures"]
    assert rerun.status is Status.PASSED and rerun.flaky
    assert [attempt.status for attempt in rerun.attempts] == [Status.FAILED, Status.FAILED]

    teardown = results["test_teardown_error"]
    assert teardown.status is Status.ERROR
    assert teardown.message == "error in teardown: RuntimeError: cleanup failed"
    assert list(tmp_path.joinpath("out").iterdir()) == [report], "no temporary file is left"


def test_earlier_attempts_stay_out_of_the_terminal_summary(tmp_path: Path) -> None:
    completed = _run_pytest(tmp_path, "--maestro-reruns=2", "-k", "reruns")

    assert completed.returncode == 0, completed.stdout
    assert "1 passed" in completed.stdout and "failed" not in completed.stdout


def test_no_report_unless_asked(tmp_path: Path) -> None:
    completed = _run_pytest(tmp_path, "-k", "attaches")

    assert completed.returncode == 0, completed.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".json") == []


def test_negative_reruns_is_a_usage_error(tmp_path: Path) -> None:
    completed = _run_pytest(tmp_path, "--maestro-reruns=-1")

    assert completed.returncode == 4
    assert "--maestro-reruns must be 0 or more" in completed.stderr


def test_a_report_path_that_cannot_be_written_is_a_usage_error(tmp_path: Path) -> None:
    # A folder gave an INTERNALERROR traceback once every test had run.
    (tmp_path / "reports").mkdir()
    (tmp_path / "notes.txt").write_text("a file")
    for report, message in [
        ("reports", "--maestro-report reports is a directory: name a file"),
        ("notes.txt/run.json", "--maestro-report notes.txt/run.json: notes.txt is not a folder"),
    ]:
        completed = _run_pytest(tmp_path, f"--maestro-report={report}", "-k", "attaches")

        assert completed.returncode == 4, completed.stdout
        assert message in completed.stderr and "INTERNALERROR" not in completed.stdout


def test_an_artifacts_path_that_is_not_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    # Each failing browser test got a teardown FileNotFoundError instead.
    notes = tmp_path / "notes.txt"
    notes.write_text("a file")
    for artifacts in ("notes.txt", "notes.txt/shots"):
        completed = _run_pytest(tmp_path, f"--maestro-artifacts={artifacts}", "-k", "attaches")

        assert completed.returncode == 4, completed.stdout
        assert f"--maestro-artifacts {artifacts}: {notes} is not a folder" in completed.stderr


def test_an_interrupted_session_is_not_green(tmp_path: Path) -> None:
    # The interrupted test was reported as passed (its setup was), the run as green.
    (tmp_path / "test_stop.py").write_text(
        "def test_a():\n    pass\n\n"
        "def test_b():\n    raise KeyboardInterrupt\n\n"
        "def test_c():\n    pass\n"
    )
    report = tmp_path / "run.json"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "maestro_test_adapters.pytest_plugin"]
        + [f"--maestro-report={report}", "test_stop.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 2, completed.stdout
    run = TestRun.from_json(report.read_text())
    assert [(r.name, r.status, r.message) for r in run.iter_results()] == [
        ("test_a", Status.PASSED, None),
        ("test_b", Status.ERROR, "did not finish: the session was interrupted"),
    ]
