"""Readers on small files written the way each producer writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maestro_test_adapters import (
    ResultFileError,
    ResultFormat,
    Status,
    TestRun,
    UnknownFormatError,
    detect_format,
    get_format,
    iter_results,
    read_results,
    register_format,
    supported_formats,
)
from maestro_test_adapters.readers import _unregister

SUPPORTED = (
    "maestro",
    "junit",
    "trx",
    "jest",
    "playwright",
    "pytest-json",
    "cucumber-json",
    "cucumber-messages",
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


# -- JUnit XML ---------------------------------------------------------------------------

SUREFIRE = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.acme.CalcTest" time="1,234.5" tests="99" failures="0"
           timestamp="2026-11-27T10:00:00">
  <properties><property name="java.version" value="21"/></properties>
  <testcase name="adds" classname="com.acme.CalcTest" time="0,25"/>
  <testcase name="divides" classname="com.acme.CalcTest" time="1 234,5">
    <failure message="#x1B[31mexpected 1#x1B[0m" type="AssertionError">trace line 1
trace line 2</failure>
    <rerunFailure message="again" type="AssertionError" time="0.5">
      <stackTrace>second trace</stackTrace></rerunFailure>
    <system-out>out &amp; about</system-out>
  </testcase>
  <testcase name="ignored" classname="com.acme.CalcTest"><skipped message="not today"/></testcase>
  <testcase name="later" classname="com.acme.CalcTest"><skipped>because</skipped></testcase>
  <system-err>suite stderr</system-err>
</testsuite>
"""


def test_junit_surefire_dialect(tmp_path: Path) -> None:
    run = read_results(write(tmp_path, "TEST-calc.xml", SUREFIRE))
    assert run.framework == "junit"
    assert run.duration == 1234.5  # the root suite's time, thousands separator and all
    (suite,) = run.suites
    assert suite.name == "com.acme.CalcTest"
    assert suite.properties == (("java.version", "21"),)
    assert suite.stderr == "suite stderr"
    assert suite.started_at is not None and suite.started_at.hour == 10
    adds, divides, ignored, later = suite.tests
    assert adds.test_id == "com.acme.CalcTest::adds" and adds.duration == 0.25
    assert divides.status is Status.FAILED
    assert divides.duration == 1234.5
    assert divides.message == "expected 1"  # ANSI colours (as pytest escapes them) removed
    assert divides.traceback == "trace line 1\ntrace line 2"
    assert divides.stdout == "out & about"
    (rerun,) = divides.attempts
    assert (rerun.status, rerun.message, rerun.traceback, rerun.duration) == (
        Status.FAILED,
        "again",
        "second trace",
        0.5,
    )
    assert (ignored.status, ignored.message) == (Status.SKIPPED, "not today")
    assert (later.status, later.message) == (Status.SKIPPED, "because")
    assert run.totals.total == 4  # not the tests="99" of the summary


PYTEST_XUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites>
<testsuite name="pytest" errors="0" failures="1" skipped="2" tests="4" time="0.1"
 timestamp="2026-11-27T10:00:00.123456+01:00">
<testcase classname="tests.test_x" name="test_ok" file="tests/test_x.py" line="3" time="0.001"/>
<testcase classname="tests.test_x" name="test_xfail" file="tests/test_x.py" line="7" time="0.001">
<skipped type="pytest.xfail" message="known bug"/></testcase>
<testcase classname="tests.test_x" name="test_retried" file="tests/test_x.py" line="9" time="0.2">
<failure message="assert 1 == 2">E assert 1 == 2</failure></testcase>
<testcase classname="tests.test_x" name="test_retried" file="tests/test_x.py" line="9" time="0.3"/>
<testcase classname="tests.test_x" name="test_param" time="0.1"/>
<testcase classname="tests.test_x" name="test_param" time="0.1"><failure message="no"/></testcase>
</testsuite></testsuites>"""


def test_junit_pytest_dialect_with_xfail_and_reruns(tmp_path: Path) -> None:
    run = read_results(write(tmp_path, "junit.xml", PYTEST_XUNIT))
    ok, xfail, retried, param_ok, param_failed = run.iter_results()
    assert (ok.file, ok.line, ok.test_id) == (
        "tests/test_x.py",
        3,
        "tests/test_x.py::tests.test_x::test_ok",
    )
    assert (xfail.status, xfail.message) == (Status.XFAILED, "known bug")
    # Same file and line right after a failure: a rerun that passed.
    assert retried.status is Status.PASSED and retried.flaky
    assert retried.duration == 0.3 and retried.attempts[0].message == "assert 1 == 2"
    # Same name but no location: two distinct (parametrised) tests.
    assert (param_ok.status, param_failed.status) == (Status.PASSED, Status.FAILED)
    assert run.totals == run.totals.__class__(5, 3, 1, 0, 0, 1, 0, 1)


def test_junit_same_location_with_other_properties_is_another_test(tmp_path: Path) -> None:
    # The same Playwright test in two projects, as the exporter writes it: two tests.
    # A repeat whose properties extend the first's (pytest on a rerun) is a retry.
    case = (
        '<testcase classname="login" name="signs in" file="login.spec.ts" line="3">'
        "<properties>{}</properties>{}</testcase>"
    )
    prop = '<property name="{}" value="{}"/>'
    failure = '<failure message="boom"/>'
    xml = "<testsuite name='s'>{}</testsuite>".format(
        case.format(prop.format("project", "chromium"), failure)
        + case.format(prop.format("project", "webkit"), "")
        + case.format(prop.format("owner", "qa"), failure)
        + case.format(prop.format("owner", "qa") * 2, "")
    )
    run = read_results(write(tmp_path, "junit.xml", xml))
    chromium, webkit, retried = run.iter_results()
    assert (chromium.status, chromium.attempts) == (Status.FAILED, ())
    assert (webkit.status, webkit.attempts) == (Status.PASSED, ())
    assert retried.flaky and retried.attempts[0].message == "boom"


def test_junit_nested_suites_and_attachments(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "phpunit.xml",
        """<testsuites><testsuite name="all"><testsuite name="Unit">
        <testsuite name="Tests\\Calc" file="tests/CalcTest.php">
          <testcase name="testAdd" class="Tests\\Calc" file="tests/CalcTest.php" line="10"/>
        </testsuite></testsuite>
        <testcase name="direct">
          <properties><property name="attachment" value="shots/a.png"/>
          <property name="note">multi
line</property></properties>
          <system-out>log
[[ATTACHMENT|/tmp/trace.zip]]</system-out>
        </testcase></testsuite></testsuites>""",
    )
    run = read_results(path)
    assert [suite.name for suite in run.suites] == ["all", "Tests\\Calc"]  # "Unit" only groups
    (direct,) = run.suites[0].tests
    assert [(a.path, a.media_type) for a in direct.attachments] == [
        ("shots/a.png", "image/png"),
        ("/tmp/trace.zip", "application/zip"),
    ]
    assert ("note", "multi\nline") in direct.properties
    assert run.suites[1].file == "tests/CalcTest.php"


def test_junit_byte_order_marks_and_utf16(tmp_path: Path) -> None:
    document = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<testsuite name="s"><testcase name="ü 😀"/></testsuite>'
    )
    utf16 = write(tmp_path, "utf16.xml", document.encode("utf-16"))
    assert detect_format(utf16) == "junit"
    assert next(read_results(utf16).iter_results()).name == "ü 😀"
    bom = write(tmp_path, "bom.xml", b"\xef\xbb\xbf" + document.replace("UTF-16", "UTF-8").encode())
    assert next(read_results(bom).iter_results()).name == "ü 😀"


def test_junit_bazel_status_and_suite_output(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "test.xml",
        '<testsuites><testsuite name="//pkg:t"><testcase name="a" status="notrun"/>'
        "<system-out>log</system-out></testsuite></testsuites>",
    )
    run = read_results(path)
    assert next(run.iter_results()).status is Status.SKIPPED
    assert run.suites[0].stdout == "log"


def test_junit_forced_on_another_xml_root_says_what_it_found(tmp_path: Path) -> None:
    path = write(
        tmp_path, "nunit.xml", '<test-results total="1"><test-case name="x"/></test-results>'
    )
    with pytest.raises(UnknownFormatError, match=r"XML root element <test-results>") as caught:
        read_results(path)
    assert caught.value.supported == SUPPORTED
    with pytest.raises(ResultFileError, match=r"root element <test-results> is not JUnit XML"):
        read_results(path, format="junit")


def test_iter_results_streams_junit_with_suite_context(tmp_path: Path) -> None:
    path = write(tmp_path, "r.xml", SUREFIRE)
    pairs = list(iter_results(path))
    assert [(suite.name, result.name) for suite, result in pairs] == [
        ("com.acme.CalcTest", name) for name in ("adds", "divides", "ignored", "later")
    ]


# -- TRX -----------------------------------------------------------------------------------

TRX = """\ufeff<?xml version="1.0" encoding="utf-8"?>
<TestRun id="1" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  <Times start="2026-11-27T10:00:00.000+00:00" finish="2026-11-27T10:01:30.500+00:00"/>
  <Results>
    <UnitTestResult testId="a" testName="Calc.Adds" duration="00:00:01.5000000" outcome="Passed"/>
    <UnitTestResult testId="b" testName="Calc.Divides" duration="1.00:00:00" outcome="Failed">
      <Output><StdOut>out</StdOut>
        <ErrorInfo><Message>boom</Message><StackTrace>at Calc</StackTrace></ErrorInfo>
      </Output>
      <ResultFiles><ResultFile path="shot.png"/></ResultFiles>
    </UnitTestResult>
    <UnitTestResult testId="c" testName="Calc.Later" outcome="NotExecuted"/>
    <UnitTestResult testId="d" testName="Calc.Hangs" outcome="Timeout"/>
  </Results>
  <TestDefinitions>
    <UnitTest id="a" storage="calc.dll">
      <TestMethod className="Calc, Calc.Tests" name="Adds"/></UnitTest>
    <UnitTest id="b" storage="calc.dll"><TestMethod className="Calc" name="Divides"/></UnitTest>
  </TestDefinitions>
</TestRun>"""


def test_trx(tmp_path: Path) -> None:
    path = write(tmp_path, "run.trx", TRX)
    assert detect_format(path) == "trx"
    run = read_results(path)
    assert run.duration == 90.5
    adds, divides = run.suites[0].tests
    assert (adds.test_id, adds.duration, adds.classname) == ("Calc::Adds", 1.5, "Calc")
    assert (divides.status, divides.duration, divides.message, divides.traceback) == (
        Status.FAILED,
        86400.0,
        "boom",
        "at Calc",
    )
    assert divides.stdout == "out" and divides.attachments[0].path == "shot.png"
    later, hangs = run.suites[1].tests  # no definition: a suite without class
    assert (later.status, hangs.status) == (Status.SKIPPED, Status.ERROR)


# -- Jest --json -------------------------------------------------------------------------


def jest_report(root: Path) -> dict[str, object]:
    return {
        "numFailedTestSuites": 2,
        "numTotalTests": 4,
        "startTime": 1_780_000_000_000,
        "success": False,
        "testResults": [
            {
                "name": str(root / "src" / "calc.test.js"),
                "status": "failed",
                "startTime": 1_780_000_000_100,
                "endTime": 1_780_000_001_100,
                "message": "",
                "assertionResults": [
                    {
                        "ancestorTitles": ["calc", "add"],
                        "fullName": "calc add works",
                        "title": "works",
                        "status": "passed",
                        "duration": 5,
                        "failureMessages": [],
                        "location": {"line": 3, "column": 5},
                        "invocations": 2,
                        "retryReasons": ["\u001b[31mError: flaky\u001b[39m\n    at calc.test.js:4"],
                    },
                    {
                        "ancestorTitles": ["calc"],
                        "fullName": "calc divides",
                        "title": "divides",
                        "status": "failed",
                        "duration": None,
                        "failureMessages": ["Error: expect(received).toBe(expected)\n  at x"],
                    },
                    {
                        "ancestorTitles": [],
                        "title": "later",
                        "status": "todo",
                        "failureMessages": [],
                    },
                    {
                        # Jest 30 without logErrorsBeforeRetry: invocations, no reasons.
                        "ancestorTitles": [],
                        "title": "always fails",
                        "status": "failed",
                        "invocations": 3,
                        "retryReasons": [],
                        "failureMessages": ["Error: no"],
                    },
                ],
            },
            {
                "name": str(root / "src" / "broken.test.js"),
                "status": "failed",
                "message": "  ● Test suite failed to run\n\n    Cannot find module 'nope'",
                "assertionResults": [],
            },
        ],
    }


def test_trx_data_driven_rows_are_the_tests(tmp_path: Path) -> None:
    # The data-driven result was counted as one more test (and one more failure).
    trx = """<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results>
<UnitTestResult testId="t1" testName="AddTest" outcome="Failed" resultType="DataDrivenTest">
  <InnerResults>
    <UnitTestResult testId="t1" testName="AddTest (1,2)" duration="00:00:00.1" outcome="Passed"/>
    <UnitTestResult testId="t1" testName="AddTest (2,2)" duration="00:00:00.2" outcome="Failed">
      <Output><ErrorInfo><Message>expected 4</Message></ErrorInfo></Output>
    </UnitTestResult>
  </InnerResults>
  <Output><ErrorInfo><Message>1 of 2 rows failed</Message></ErrorInfo></Output>
</UnitTestResult>
<UnitTestResult testId="t2" testName="SubTest" outcome="Passed"/>
</Results><TestDefinitions>
<UnitTest id="t1"><TestMethod className="Calc.Tests" name="AddTest"/></UnitTest>
<UnitTest id="t2"><TestMethod className="Calc.Tests" name="SubTest"/></UnitTest>
</TestDefinitions></TestRun>"""
    run = read_results(write(tmp_path, "dd.trx", trx))
    assert [(r.test_id, r.status, r.message) for r in run.iter_results()] == [
        ("Calc.Tests::AddTest (1,2)", Status.PASSED, None),
        ("Calc.Tests::AddTest (2,2)", Status.FAILED, "expected 4"),
        ("Calc.Tests::SubTest", Status.PASSED, None),
    ]
    assert run.suites[0].duration == pytest.approx(0.3)


def test_jest_json(tmp_path: Path) -> None:
    path = write(tmp_path, "report.json", json.dumps(jest_report(tmp_path)))
    assert detect_format(path) == "jest"
    run = read_results(path)
    assert run.framework == "jest" and run.started_at is not None
    assert run.duration == pytest.approx(1.1)
    calc, broken = run.suites
    assert calc.name == "src/calc.test.js" and calc.duration == 1.0
    works, divides, later, always = calc.tests
    assert works.test_id == "src/calc.test.js::calc > add > works"
    assert (works.classname, works.line, works.duration) == ("calc > add", 3, 0.005)
    assert works.flaky and works.attempts[0].message == "Error: flaky"
    assert divides.message == "Error: expect(received).toBe(expected)"
    assert later.status is Status.SKIPPED
    assert [attempt.status for attempt in always.attempts] == [Status.FAILED, Status.FAILED]
    assert always.status is Status.FAILED and not always.flaky
    (crashed,) = broken.tests
    assert crashed.status is Status.ERROR and "Cannot find module" in (crashed.traceback or "")


def test_jest_file_failed_by_its_after_all_hook_is_an_error(tmp_path: Path) -> None:
    # As Jest 29 writes it: the test passed, the file failed. It used to read as all green.
    message = (
        "\n\n  \u25cf Test suite failed to run\n\n    cleanup broke\n\n      at hook.test.js:2"
    )
    report = {
        "numTotalTests": 1,
        "numFailedTestSuites": 1,
        "success": False,
        "testResults": [
            {
                "name": str(tmp_path / "hook.test.js"),
                "status": "failed",
                "message": message,
                "assertionResults": [{"ancestorTitles": ["d"], "title": "ok", "status": "passed"}],
            }
        ],
    }
    run = read_results(write(tmp_path, "report.json", json.dumps(report)))
    passed, failed_file = run.iter_results()
    assert passed.status is Status.PASSED
    assert failed_file.test_id == "hook.test.js::Test suite failed to run"
    assert failed_file.status is Status.ERROR and failed_file.message == "cleanup broke"
    assert "cleanup broke" in (failed_file.traceback or "")
    assert not run.totals.ok


# -- pytest-json-report ------------------------------------------------------------------


def test_pytest_json_report(tmp_path: Path) -> None:
    report = {
        "created": 1_780_000_010.0,
        "duration": 10.0,
        "exitcode": 1,
        "root": "/src",
        "environment": {"Python": "3.11.7", "Plugins": {"x": "1"}},
        "summary": {"total": 99},
        "collectors": [
            {
                "nodeid": "tests/test_bad.py",
                "outcome": "failed",
                "longrepr": "E   ImportError: nope",
            }
        ],
        "tests": [
            {
                "nodeid": "tests/test_a.py::TestX::test_one",
                "lineno": 4,
                "outcome": "rerun",
                "setup": {"duration": 0.1, "outcome": "passed"},
                "call": {
                    "duration": 0.2,
                    "outcome": "failed",
                    "crash": {"message": "AssertionError: first"},
                    "longrepr": "def test_one():\n>  assert False",
                    "stdout": "try 1\n",
                },
            },
            {
                "nodeid": "tests/test_a.py::TestX::test_one",
                "lineno": 4,
                "outcome": "passed",
                "setup": {"duration": 0.1, "outcome": "passed"},
                "call": {"duration": 0.3, "outcome": "passed", "stdout": "try 2\n"},
                "user_properties": [{"owner": "qa"}],
            },
            {"nodeid": "tests/test_a.py::test_xf", "lineno": 9, "outcome": "xfailed"},
        ],
    }
    path = write(tmp_path, ".report.json", json.dumps(report))
    assert detect_format(path) == "pytest-json"
    run = read_results(path)
    assert run.environment == {"Python": "3.11.7"}
    bad_suite, a_suite = run.suites
    assert bad_suite.tests[0].status is Status.ERROR
    assert bad_suite.tests[0].message == "E   ImportError: nope"
    one, xfail = a_suite.tests
    assert (one.name, one.classname, one.line, one.stdout) == ("test_one", "TestX", 5, "try 2\n")
    assert one.duration == pytest.approx(0.4)
    assert one.flaky and one.attempts[0].message == "AssertionError: first"
    assert one.properties == (("owner", "qa"),)
    assert xfail.status is Status.XFAILED


def test_pytest_json_reruns_without_a_final_entry_keep_the_test(tmp_path: Path) -> None:
    # The test used to vanish: its rerun entries waited for a final one that never came.
    rerun = {
        "nodeid": "tests/test_a.py::test_net",
        "outcome": "rerun",
        "call": {"duration": 0.5, "outcome": "failed", "crash": {"message": "refused"}},
    }
    report = {
        "created": 1_780_000_010.0,
        "exitcode": 1,
        "root": "/src",
        "tests": [rerun, rerun, {"nodeid": "tests/test_a.py::test_ok", "outcome": "passed"}],
    }
    run = read_results(write(tmp_path, ".report.json", json.dumps(report)))
    net, ok = run.iter_results()
    assert (net.test_id, net.status, net.message) == (
        "tests/test_a.py::test_net",
        Status.FAILED,
        "refused",
    )
    assert [attempt.message for attempt in net.attempts] == ["refused"]
    assert ok.status is Status.PASSED and not ok.attempts
    assert run.totals.total == 2


@pytest.mark.parametrize(("exitcode", "errors"), [(0, 0), (1, 0), (5, 0), (2, 1), (3, 1)])
def test_pytest_json_interrupted_session_is_not_green(
    tmp_path: Path, exitcode: int, errors: int
) -> None:
    # Ctrl-C (2) or an internal error (3) after some tests passed used to read as all green.
    report = {
        "created": 1_780_000_010.0,
        "exitcode": exitcode,
        "root": "/src",
        "tests": [{"nodeid": "tests/test_a.py::test_ok", "outcome": "passed"}],
    }
    run = read_results(write(tmp_path, ".report.json", json.dumps(report)))
    assert run.totals.error == errors
    if errors:
        broken = run.suites[-1].tests[0]
        assert broken.test_id == "pytest::<run>" and broken.message is not None
        assert broken.message.startswith(f"pytest exited with code {exitcode} (")


# -- Playwright JSON --------------------------------------------------------------------


def test_playwright_json_expected_failures_and_attachments(tmp_path: Path) -> None:
    def test(expected: str, *statuses: str) -> dict[str, object]:
        return {
            "projectName": "chromium",
            "expectedStatus": expected,
            "annotations": [{"type": "issue", "description": "#12"}],
            "results": [
                {
                    "status": status,
                    "duration": 1500,
                    "retry": index,
                    "errors": [
                        {"message": "\u001b[2mexpect\u001b[22m failed", "stack": "at spec:3"}
                    ]
                    if status != "passed"
                    else [],
                    "stdout": [{"text": "hello "}, {"buffer": "d29ybGQ="}],
                    "attachments": [
                        {"name": "screenshot", "contentType": "image/png", "path": "/r/shot.png"}
                    ],
                }
                for index, status in enumerate(statuses)
            ],
        }

    report = {
        "config": {"rootDir": "/src", "version": "1.55.0"},
        "suites": [
            {
                "title": "login.spec.ts",
                "file": "login.spec.ts",
                "specs": [],
                "suites": [
                    {
                        "title": "login",
                        "specs": [
                            {"title": "known bug", "line": 3, "tests": [test("failed", "failed")]},
                            {"title": "fixed bug", "line": 9, "tests": [test("failed", "passed")]},
                            {
                                "title": "timeout",
                                "line": 12,
                                "tests": [test("passed", "timedOut", "timedOut")],
                            },
                        ],
                    }
                ],
            }
        ],
        "errors": [],
        "stats": {"startTime": "2026-11-27T10:00:00.000Z", "duration": 4200.5},
    }
    path = write(tmp_path, "results.json", json.dumps(report))
    assert detect_format(path) == "playwright"
    run = read_results(path)
    assert run.environment == {"playwright": "1.55.0"} and run.duration == 4.2005
    known, fixed, timeout = run.iter_results()
    assert known.status is Status.XFAILED and fixed.status is Status.XPASSED
    assert known.test_id == "login.spec.ts::chromium::login > known bug"
    assert known.message == "expect failed" and known.traceback == "at spec:3"
    assert known.stdout == "hello world"
    assert known.attachments[0].path == "/r/shot.png"
    assert ("project", "chromium") in known.properties and ("issue", "#12") in known.properties
    assert timeout.status is Status.FAILED and len(timeout.attempts) == 1


def test_playwright_messages_are_their_first_written_line(tmp_path: Path) -> None:
    # Messages starting with a newline used to give an empty message.
    report = {
        "config": {"rootDir": "/src"},
        "suites": [
            {
                "file": "a.spec.ts",
                "specs": [
                    {
                        "title": "t",
                        "tests": [
                            {"results": [{"status": "failed", "error": {"message": "\nboom"}}]}
                        ],
                    }
                ],
            }
        ],
        "errors": [{"message": "\n\nError: no tests found"}],
    }
    run = read_results(write(tmp_path, "results.json", json.dumps(report)))
    failed, outside = run.iter_results()
    assert failed.message == "boom"
    assert outside.test_id == "(global)::errors" and outside.message == "Error: no tests found"


# -- Cucumber JSON (behave) and messages -------------------------------------------------


def test_behave_cucumber_json(tmp_path: Path) -> None:
    features = [
        {
            "keyword": "Feature",
            "name": "Login",
            "location": "features/login.feature:1",
            "status": "failed",
            "elements": [
                {
                    "type": "scenario",
                    "keyword": "Scenario",
                    "name": "wrong password",
                    "location": "features/login.feature:3",
                    "status": "failed",
                    "tags": ["smoke"],
                    "steps": [
                        {
                            "keyword": "Given",
                            "name": "a user",
                            "result": {"status": "passed", "duration": 0.5},
                        },
                        {
                            "keyword": "When",
                            "name": "they log in",
                            "result": {
                                "status": "failed",
                                "duration": 0.25,
                                "error_message": ["Assertion Failed: denied", "more"],
                            },
                        },
                        {"keyword": "Then", "name": "never", "result": {"status": "skipped"}},
                    ],
                },
                {
                    "type": "scenario",
                    "keyword": "Scenario",
                    "name": "not written",
                    "location": "features/login.feature:9",
                    "steps": [{"keyword": "Given", "name": "x", "result": {"status": "undefined"}}],
                },
            ],
        }
    ]
    path = write(tmp_path, "behave.json", json.dumps(features))
    assert detect_format(path) == "cucumber-json"
    run = read_results(path)
    assert run.framework == "behave"
    failed, undefined = run.iter_results()
    assert failed.test_id == "features/login.feature:3::wrong password"
    assert (failed.status, failed.duration, failed.message) == (
        Status.FAILED,
        0.75,
        "Assertion Failed: denied",
    )
    assert failed.properties == (("tag", "smoke"),)
    assert (undefined.status, undefined.message) == (Status.ERROR, "a step is undefined")


def test_behave_errors_and_hook_errors_are_errors(tmp_path: Path) -> None:
    # As behave 1.3 writes them: an exception in a step is status "error" (with no
    # message), one in before_scenario leaves the steps without a result and the
    # scenario "hook_error". Both used to read as skipped, the run as green.
    def scenario(name: str, status: str, step: dict[str, object]) -> dict[str, object]:
        return {
            "type": "scenario",
            "keyword": "Scenario",
            "name": name,
            "tags": [],
            "location": f"features/a.feature:{len(name)}",
            "status": status,
            "steps": [{"keyword": "Given", "name": "ok", **step}],
        }

    report = [
        {
            "keyword": "Feature",
            "name": "A",
            "location": "features/a.feature:1",
            "status": "error",
            "elements": [
                scenario("raises", "error", {"result": {"status": "error", "duration": 0.1}}),
                scenario("hooked", "hook_error", {}),
            ],
        }
    ]
    run = read_results(write(tmp_path, "behave.json", json.dumps(report)))
    assert run.framework == "behave"
    assert [(r.name, r.status, r.message) for r in run.iter_results()] == [
        ("raises", Status.ERROR, "a step raised an error"),
        ("hooked", Status.ERROR, "a hook raised an error"),
    ]


def test_cucumber_messages_with_retry(tmp_path: Path) -> None:
    envelopes = [
        {
            "meta": {
                "implementation": {"name": "cucumber-js", "version": "11.0.0"},
                "os": {"name": "linux"},
            }
        },
        {
            "gherkinDocument": {
                "uri": "features/a.feature",
                "feature": {
                    "name": "A",
                    "children": [
                        {"scenario": {"id": "s1", "location": {"line": 3}, "examples": []}}
                    ],
                },
            }
        },
        {
            "pickle": {
                "id": "p1",
                "uri": "features/a.feature",
                "name": "flaky one",
                "astNodeIds": ["s1"],
            }
        },
        {"testCase": {"id": "c1", "pickleId": "p1", "testSteps": []}},
        {"testRunStarted": {"timestamp": {"seconds": 100, "nanos": 0}}},
        {
            "testCaseStarted": {
                "id": "r1",
                "testCaseId": "c1",
                "attempt": 0,
                "timestamp": {"seconds": 100, "nanos": 0},
            }
        },
        {
            "testStepFinished": {
                "testCaseStartedId": "r1",
                "testStepId": "t",
                "testStepResult": {"status": "FAILED", "message": "nope"},
            }
        },
        {
            "attachment": {
                "testCaseStartedId": "r1",
                "body": "aGk=",
                "contentEncoding": "BASE64",
                "mediaType": "image/png",
            }
        },
        {
            "testCaseFinished": {
                "testCaseStartedId": "r1",
                "timestamp": {"seconds": 101, "nanos": 0},
                "willBeRetried": True,
            }
        },
        {
            "testCaseStarted": {
                "id": "r2",
                "testCaseId": "c1",
                "attempt": 1,
                "timestamp": {"seconds": 101, "nanos": 0},
            }
        },
        {
            "testStepFinished": {
                "testCaseStartedId": "r2",
                "testStepId": "t",
                "testStepResult": {"status": "PASSED"},
            }
        },
        {
            "testCaseFinished": {
                "testCaseStartedId": "r2",
                "timestamp": {"seconds": 101, "nanos": 500000000},
                "willBeRetried": False,
            }
        },
        {"testRunFinished": {"timestamp": {"seconds": 102, "nanos": 0}, "success": True}},
    ]
    path = write(tmp_path, "messages.ndjson", "\n".join(json.dumps(e) for e in envelopes) + "\n")
    assert detect_format(path) == "cucumber-messages"
    run = read_results(path)
    assert (run.framework, run.duration, run.environment["os"]) == ("cucumber-js", 2.0, "linux")
    (result,) = run.iter_results()
    assert result.test_id == "features/a.feature:3::flaky one" and result.duration == 0.5
    assert result.flaky and result.attempts[0].message == "nope"
    assert result.attempts[0].attachments[0].content == "aGk="


def test_cucumber_messages_of_a_run_that_stopped_are_not_green(tmp_path: Path) -> None:
    # A scenario cut off by a crash vanished, and a failed run with no failed
    # scenario (a BeforeAll hook threw) read as passed.
    def ndjson(*envelopes: object) -> str:
        return "".join(json.dumps(envelope) + "\n" for envelope in envelopes)

    head = [
        {"meta": {"implementation": {"name": "cucumber-js"}}},
        {"pickle": {"id": "p1", "uri": "a.feature", "name": "cut off", "astNodeIds": []}},
        {"testCase": {"id": "tc1", "pickleId": "p1"}},
        {"testRunStarted": {"timestamp": {"seconds": 10}}},
        {"testCaseStarted": {"id": "c1", "testCaseId": "tc1", "timestamp": {"seconds": 11}}},
    ]
    cut = read_results(write(tmp_path, "cut.ndjson", ndjson(*head)))
    [result] = cut.iter_results()
    assert (result.test_id, result.status) == ("a.feature::cut off", Status.ERROR)
    assert result.message == "did not finish: the run stopped during it"

    hook = {"exception": {"type": "Error", "message": "db down\n    at hooks.js:2"}}
    failed = ndjson(
        head[0], {"testRunFinished": {"success": False, "timestamp": {"seconds": 12}, **hook}}
    )
    [run_error] = read_results(write(tmp_path, "failed.ndjson", failed)).iter_results()
    assert (run_error.test_id, run_error.status) == ("cucumber-js::<run>", Status.ERROR)
    assert run_error.message == "db down"


def test_broken_ndjson_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "m.ndjson", '{"meta": {}}\n{"source": {}}\n{"pickle": \n')
    with pytest.raises(ResultFileError, match=r"m\.ndjson:3: not a JSON message"):
        read_results(path)


def test_messages_forced_on_other_json_is_an_error_not_an_empty_run(tmp_path: Path) -> None:
    # A Jest report read as messages used to give 0 tests and pass.
    report = {"numTotalTests": 1, "testResults": []}
    path = write(tmp_path, "report.json", json.dumps(report))
    with pytest.raises(ResultFileError, match=r"report\.json:1: not a Cucumber message envelope"):
        read_results(path, format="cucumber-messages")


# -- the package's own JSON, detection and errors -----------------------------------------


def test_normalised_json_is_detected_and_read(tmp_path: Path) -> None:
    original = read_results(write(tmp_path, "junit.xml", SUREFIRE))
    path = write(tmp_path, "run.json", original.to_json())
    assert detect_format(path) == "maestro"
    assert read_results(path) == original


def test_invalid_normalised_json_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "run.json", json.dumps({"schema": "maestro-test-run/1", "suites": 1}))
    with pytest.raises(ResultFileError, match="suites: expected an array, got int"):
        read_results(path)


def test_normalised_json_of_another_version_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "run.json", json.dumps({"schema": "maestro-test-run/2", "suites": []}))
    assert detect_format(path) == "maestro"
    with pytest.raises(
        ResultFileError, match="expected 'maestro-test-run/1', got 'maestro-test-run/2'"
    ):
        read_results(path)


def test_jest_assertion_without_a_title_is_refused(tmp_path: Path) -> None:
    report = jest_report(tmp_path)
    report["testResults"][0]["assertionResults"][1]["title"] = None  # type: ignore[index]
    path = write(tmp_path, "report.json", json.dumps(report))
    with pytest.raises(
        ResultFileError, match='expected a "title" string in each of "assertionResults"'
    ):
        read_results(path)


def test_truncated_json_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "report.json", '{\n"numTotalTests": 1,\n"testResults": [\n')
    with pytest.raises(ResultFileError, match=r"report\.json:4: not valid JSON"):
        read_results(path)


def test_wrong_structure_for_a_forced_format(tmp_path: Path) -> None:
    path = write(tmp_path, "x.json", "[1, 2]")
    with pytest.raises(ResultFileError, match='expected a Jest report object with "testResults"'):
        read_results(path, format="jest")


def test_unknown_content_lists_the_supported_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.txt", "hello")
    with pytest.raises(UnknownFormatError) as caught:
        detect_format(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not a recognised test result format")
    assert all(name in message for name in SUPPORTED)


def test_unknown_format_name_lists_the_supported_formats(tmp_path: Path) -> None:
    with pytest.raises(
        UnknownFormatError, match="unknown result format 'nunit'; supported formats: maestro, junit"
    ):
        read_results(write(tmp_path, "a.xml", SUREFIRE), format="nunit")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.xml", "cannot read the file"),
        (lambda p: p, "cannot read the file"),
        (lambda p: write(p, "empty.xml", "  \n"), "the file is empty"),
    ],
)
def test_unreadable_files(tmp_path: Path, make: object, message: str) -> None:
    with pytest.raises(ResultFileError, match=message):
        read_results(make(tmp_path))  # type: ignore[operator]


def test_registry_accepts_new_formats(tmp_path: Path) -> None:
    assert supported_formats() == SUPPORTED
    fmt = ResultFormat(
        "tap", "TAP", lambda head: head.startswith("TAP"), lambda path: TestRun("tap")
    )
    register_format(fmt)
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_format(fmt)
        assert get_format("tap") is fmt
        assert read_results(write(tmp_path, "r.tap", "TAP version 13\n")).framework == "tap"
    finally:
        _unregister("tap")
    assert supported_formats() == SUPPORTED
