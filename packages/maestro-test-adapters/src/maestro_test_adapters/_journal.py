"""The pytest plugin's journal: results of finished tests, one JSON document per line.

The plugin appends each test to the journal as soon as it finishes and
deletes the journal once the full report is written. When the run dies
before that (the interpreter crashed, a timeout killed it), the journal still
holds every test that finished, and the adapter reads it instead.
"""

from __future__ import annotations

from pathlib import Path

from maestro_test_adapters.models import InvalidRunError, TestRun, TestSuite


def journal_path(report: Path) -> Path:
    """Where the journal of the report ``report`` is kept.

    >>> journal_path(Path("out/run.json")).name
    'run.json.partial'
    """
    return report.with_name(f"{report.name}.partial")


def read_journal(report: Path, framework: str) -> TestRun | None:
    """Read the journal of ``report``; ``None`` when there is none or it is empty.

    A last line cut short by the crash is ignored, even when the cut split a character.
    """
    try:
        raw = journal_path(report).read_bytes()
    except OSError:
        return None
    # Only the cut line can hold a broken character: replaced, it fails as JSON below.
    lines = raw.decode("utf-8", "replace").splitlines()
    suites: dict[str, TestSuite] = {}
    for line in lines:
        try:
            entry = TestRun.from_json(line)
        except InvalidRunError:
            break  # the line being written when the process died
        for suite in entry.suites:
            merged = suites.setdefault(suite.name, TestSuite(suite.name, file=suite.file))
            merged.tests.extend(suite.tests)
            merged.duration += suite.duration
    if not suites:
        return None
    return TestRun(framework, suites=list(suites.values()))
