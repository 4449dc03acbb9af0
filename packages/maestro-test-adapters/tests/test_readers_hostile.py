"""Hostile and broken input: entity attacks, truncation, huge files with bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from maestro_test_adapters import (
    ResultFileError,
    UnknownFormatError,
    detect_format,
    iter_results,
    read_results,
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<testsuites><testsuite name="&lol9;"><testcase name="x"/></testsuite></testsuites>
"""


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("read", [read_results, detect_format, lambda p: list(iter_results(p))])
def test_billion_laughs_is_refused_without_expanding(tmp_path: Path, read: object) -> None:
    path = write(tmp_path, "lol.xml", BILLION_LAUGHS)
    with pytest.raises(ResultFileError) as caught:
        read(path)  # type: ignore[operator]
    assert caught.value.reason.startswith("refused: the document declares a DTD (<!DOCTYPE lolz>);")
    assert caught.value.path == str(path)
    assert "lol" * 10 not in str(caught.value)


def test_external_entity_is_not_resolved(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.txt", "TOP-SECRET-VALUE")
    path = write(
        tmp_path,
        "xxe.xml",
        f'<?xml version="1.0"?>\n<!DOCTYPE testsuites [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        '<testsuites><testsuite name="s"><testcase name="&xxe;"/></testsuite></testsuites>',
    )
    with pytest.raises(ResultFileError, match="XXE") as caught:
        read_results(path, format="junit")
    assert "TOP-SECRET-VALUE" not in str(caught.value)


def test_external_dtd_is_refused_before_any_fetch(tmp_path: Path) -> None:
    # Port 9 on the loopback: nothing is fetched, and nothing leaves the machine.
    path = write(
        tmp_path,
        "ext.xml",
        '<!DOCTYPE testsuites SYSTEM "http://127.0.0.1:9/evil.dtd"><testsuites/>',
    )
    with pytest.raises(ResultFileError, match="refused"):
        read_results(path)


def test_a_dtd_after_a_long_prolog_is_still_refused(tmp_path: Path) -> None:
    comment = "<!-- " + "x" * 200_000 + " -->\n"
    path = write(tmp_path, "late.xml", comment + BILLION_LAUGHS.split("\n", 1)[1])
    with pytest.raises(ResultFileError, match="refused"):
        read_results(path, format="junit")


def test_undeclared_entity_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "ent.xml", '<testsuites>\n<testsuite name="&nope;"/>\n</testsuites>')
    with pytest.raises(ResultFileError, match=r"ent\.xml:2: not well-formed XML: undefined entity"):
        read_results(path)


def test_truncated_file_names_file_and_line(tmp_path: Path) -> None:
    cases = "".join(f'<testcase name="t{i}" time="0.1"/>\n' for i in range(50_000))
    full = f'<testsuites><testsuite name="s">\n{cases}</testsuite></testsuites>'
    path = write(tmp_path, "cut.xml", full[: len(full) // 2])
    with pytest.raises(ResultFileError) as caught:
        read_results(path)
    assert caught.value.line is not None and caught.value.line > 20_000
    assert str(caught.value).startswith(f"{path}:{caught.value.line}: not well-formed XML")


def test_streaming_stops_at_the_truncation_after_the_good_part(tmp_path: Path) -> None:
    cases = "".join(f'<testcase name="t{i}"/>\n' for i in range(30_000))
    path = write(tmp_path, "cut.xml", f'<testsuite name="s">\n{cases}<testcase name="x"')
    seen = 0
    with pytest.raises(ResultFileError, match="cut.xml"):
        for _ in iter_results(path):
            seen += 1
    assert seen > 20_000


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.json", '{"numTotalTests": 1, "testResults": ' + "[" * 100_000)
    with pytest.raises(ResultFileError, match="deep.json"):
        read_results(path)


def test_binary_garbage_is_not_a_format(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(ValueError, match="supported formats"):
        read_results(path)


MEASURE = textwrap.dedent(
    """
    import json, sys, tracemalloc
    from pathlib import Path
    from maestro_test_adapters import iter_results

    path = Path(sys.argv[1])
    suites, cases = int(sys.argv[2]), int(sys.argv[3])
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\\n<testsuites>\\n')
        for s in range(suites):
            out.write(f'<testsuite name="pkg.Suite{s}" tests="{cases}" time="1.5">\\n')
            for c in range(cases):
                head = f'<testcase classname="pkg.Suite{s}" name="test_{c}" time="0.01"'
                if c % 50 == 0:
                    trace = "Traceback line\\n" + "  at frame\\n" * 10
                    log = "log line\\n" * 20
                    out.write(
                        f'{head}><failure message="expected {c}">{trace}</failure>'
                        f"<system-out>{log}</system-out></testcase>\\n"
                    )
                else:
                    out.write(f"{head}/>\\n")
            out.write("</testsuite>\\n")
        out.write("</testsuites>\\n")
    tracemalloc.start()
    count = failed = 0
    for suite, result in iter_results(path):
        count += 1
        failed += result.status.value == "failed"
    peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({"count": count, "failed": failed, "peak": peak, "size": path.stat().st_size}))
    """
)


def measure(tmp_path: Path, suites: int, cases: int) -> dict[str, int]:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURE,
            str(tmp_path / f"huge-{suites}.xml"),
            str(suites),
            str(cases),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, int] = json.loads(done.stdout)
    return result


def test_huge_file_streams_with_bounded_memory(tmp_path: Path) -> None:
    small = measure(tmp_path, 10, 1000)
    large = measure(tmp_path, 160, 1000)  # 16x the data: about 15 MB
    assert (small["count"], large["count"]) == (10_000, 160_000)
    assert large["failed"] == 160 * 20
    assert large["size"] > 14 * small["size"]
    # Memory does not grow with the file: it stays at a few chunks' worth.
    assert large["peak"] < 4 * 1024 * 1024
    assert large["peak"] < 2 * small["peak"] + 512 * 1024


def _ndjson(*envelopes: object) -> str:
    return "".join(json.dumps(envelope) + "\n" for envelope in envelopes)


PYTEST_JSON_HEAD = {"duration": 1.0, "exitcode": 0, "root": "/x", "tests": []}


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        # Timestamps far out of range gave OverflowError tracebacks.
        ("p.json", json.dumps({"created": 1e30, **PYTEST_JSON_HEAD}), "pytest-json"),
        (
            "m.ndjson",
            _ndjson({"meta": {}}, {"testRunStarted": {"timestamp": {"seconds": 1e30}}}),
            "cucumber-messages",
        ),
        # A message body that is not an object gave an AttributeError.
        ("m.ndjson", _ndjson({"meta": {}}, {"testStepFinished": "oops"}), "cucumber-messages"),
        (
            "m.ndjson",
            _ndjson({"meta": {}}, {"testStepFinished": {"testCaseStartedId": [1]}}),
            "cucumber-messages",
        ),
        # An infinite line number gave "cannot convert float infinity to integer".
        (
            "m.ndjson",
            _ndjson(
                {"meta": {}},
                {
                    "gherkinDocument": {
                        "uri": "a.feature",
                        "feature": {"children": [{"scenario": {"location": {"line": 1e400}}}]},
                    }
                },
            ).replace("Infinity", "1e999"),
            "cucumber-messages",
        ),
        # A TRX run with an offset on one end only gave a TypeError.
        (
            "t.trx",
            '<TestRun><Times start="2024-01-01T10:00:00" finish="2024-01-01T10:00:01Z"/>'
            '<Results><UnitTestResult testId="1" testName="A.b" outcome="Passed"/></Results>'
            "</TestRun>",
            "trx",
        ),
    ],
)
def test_values_out_of_range_are_read_not_crashed_on(
    tmp_path: Path, name: str, content: str, fmt: str
) -> None:
    path = write(tmp_path, name, content)
    run = read_results(path)
    assert detect_format(path) == fmt
    assert run.started_at is None or fmt == "trx"  # TRX: the start alone is still known
    assert run.duration == (1.0 if fmt == "pytest-json" else 0.0)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "jest.json",
            '{"numTotalTests": 1, "testResults": [{"name": "a.test.js", "assertionResults":'
            ' [{"title": "t", "status": "passed", "duration": 1e999}]}]}',
        ),
        (
            "cucumber.json",
            '[{"keyword": "Feature", "name": "F", "uri": "a.feature", "elements": [{"keyword":'
            ' "Scenario", "name": "S", "steps": [{"result": {"status": "passed",'
            ' "duration": 1e999}}]}]}]',
        ),
    ],
)
def test_infinite_durations_read_as_unknown_and_json_stays_strict(
    tmp_path: Path, name: str, content: str
) -> None:
    # They were kept as inf, and to_json wrote "Infinity", which is not JSON.
    run = read_results(write(tmp_path, name, content))
    [result] = run.iter_results()
    assert result.duration == 0.0 and run.duration == 0.0

    def refuse(constant: str) -> object:
        raise AssertionError(f"{constant} in the JSON")

    json.loads(run.to_json(), parse_constant=refuse)


def test_messages_that_are_not_utf8_name_the_line(tmp_path: Path) -> None:
    # The decoding error escaped as a UnicodeDecodeError traceback.
    path = tmp_path / "messages.ndjson"
    path.write_bytes(b'\xef\xbb\xbf{"meta": {}}\n{"source": {"data": "caf\xe9"}}\n')
    with pytest.raises(ResultFileError, match=r"messages.ndjson:2: not UTF-8 text: invalid"):
        read_results(path, format="cucumber-messages")


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        # LookupError and RecursionError used to escape as tracebacks.
        (
            b"<?xml version='1.0' encoding='klingon'?><testsuite/>",
            None,
            r"doc:1: not readable XML: unknown encoding: klingon",
        ),
        (b'{"a":' * 100_000, "cucumber-messages", r"doc:1: refused: JSON nested too deeply"),
    ],
)
def test_unreadable_encodings_and_deep_nesting_are_read_errors(
    tmp_path: Path, content: bytes, fmt: str | None, message: str
) -> None:
    path = tmp_path / "doc"
    path.write_bytes(content)
    with pytest.raises(ResultFileError, match=message):
        read_results(path, format=fmt)


def test_deeply_nested_json_is_not_detected_as_messages(tmp_path: Path) -> None:
    path = tmp_path / "doc"
    path.write_bytes(b'{"a":' * 100_000)
    with pytest.raises(UnknownFormatError):
        detect_format(path)
