"""JUnit XML reader: the edges of its fast path."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from maestro_test_adapters import ResultFileError, Status, TestResult, iter_results, read_results


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def gc_state() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("gc_state")
@pytest.mark.parametrize("enabled", [True, False])
def test_reading_leaves_the_garbage_collector_as_it_was(tmp_path: Path, enabled: bool) -> None:
    good = write(tmp_path, "good.xml", '<testsuite name="s"><testcase name="a"/></testsuite>')
    cut = write(tmp_path, "cut.xml", '<testsuite name="s"><testcase name="a"/>')
    if enabled:
        gc.enable()
    else:
        gc.disable()
    assert read_results(good).totals.total == 1
    assert gc.isenabled() is enabled
    with pytest.raises(ResultFileError, match="cut.xml"):
        read_results(cut)
    assert gc.isenabled() is enabled


def test_a_testcase_inside_a_testcase_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "nested.xml",
        '<testsuite name="s">\n<testcase name="a">\n<testcase name="b"/>\n</testcase>\n'
        "</testsuite>",
    )
    with pytest.raises(ResultFileError) as caught:
        read_results(path)
    assert str(caught.value) == f"{path}:3: <testcase> inside another <testcase>"


def test_a_line_that_is_not_a_decimal_number_is_left_out(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lines.xml",
        '<testsuite name="s"><testcase name="a" file="t.py" line="\u00b2"/>'
        '<testcase name="b" file="t.py" line="12"/><testcase name="c" line=""/></testsuite>',
    )
    assert [result.line for result in read_results(path).iter_results()] == [None, 12, None]


def test_results_read_and_streamed_are_equal_with_shared_names(tmp_path: Path) -> None:
    suites = "".join(
        f'<testsuite name="pkg.Suite{s}" time="1">'
        f'<testcase classname="pkg.Suite{s}" name="test_same" time="0.5"/>'
        f'<testcase classname="pkg.Suite{s}" name="test_fails" time="0,25">'
        '<failure message="boom">trace</failure></testcase>'
        "</testsuite>"
        for s in range(3)
    )
    path = write(tmp_path, "many.xml", f"<testsuites>{suites}</testsuites>")
    run = read_results(path)
    results = list(run.iter_results())
    assert [r.test_id for r in results[:2]] == ["pkg.Suite0::test_same", "pkg.Suite0::test_fails"]
    assert [(r.status, r.duration, r.message) for r in results[1::2]] == [
        (Status.FAILED, 0.25, "boom")
    ] * 3
    # Repeated names and messages are kept once, not once per result.
    assert results[0].name is results[2].name is results[4].name
    assert results[1].message is results[3].message
    assert [result for _, result in iter_results(path)] == results


def test_a_located_last_case_straight_under_testsuites_is_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "loose.xml",
        '<testsuites><testcase name="a"/><testcase name="b" file="t.py" line="3"/></testsuites>',
    )
    assert [result.name for result in read_results(path).iter_results()] == ["a", "b"]
    assert [result.name for _, result in iter_results(path)] == ["a", "b"]


def count_results() -> int:
    return sum(isinstance(item, TestResult) for item in gc.get_objects())


@pytest.mark.usefixtures("gc_state")
def test_a_dropped_run_is_freed_without_the_cyclic_collector(tmp_path: Path) -> None:
    cases = "".join(f'<testcase name="t{i}"/>' for i in range(100))
    path = write(tmp_path, "r.xml", f'<testsuite name="s">{cases}</testsuite>')
    gc.collect()
    gc.disable()  # what is freed now is freed by reference counting alone
    before = count_results()
    run = read_results(path)
    assert count_results() == before + 100
    del run
    assert count_results() == before


def test_an_untimed_suite_lasts_as_long_as_its_tests(tmp_path: Path) -> None:
    path = tmp_path / "mocha.xml"
    path.write_text(
        '<testsuites><testsuite name="A"><testcase name="a1" time="0.25"/>'
        '<testcase name="a2" time="0.5"><failure message="no"/></testcase></testsuite>'
        '<testsuite name="B" time="3"><testcase name="b1" time="0.1"/></testsuite>'
        '<testcase name="loose" time="2"/></testsuites>',
        encoding="utf-8",
    )

    run = read_results(path)

    assert [(suite.name, suite.duration) for suite in run.suites] == [
        ("A", 0.75),
        ("B", 3.0),  # a suite's own time wins over its tests'
        ("", 2.0),  # cases straight under <testsuites>
    ]
    assert run.duration == 5.75  # the root is untimed: the sum of its suites
    # Streamed suites get what only their end tells once the stream has passed it.
    streamed = {suite.name: suite for suite, _ in iter_results(path)}
    assert {name: suite.duration for name, suite in streamed.items()} == {
        "A": 0.75,
        "B": 3.0,
        "": 2.0,
    }
