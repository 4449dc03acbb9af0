"""SeleniumAdapter runs a real Selenium suite on system Chromium and chromedriver."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro_test_adapters import Status
from maestro_test_adapters.adapters import SeleniumAdapter, ToolNotFoundError

pytestmark = pytest.mark.browser


def test_selenium_suite_attaches_screenshot_and_html_on_failure(
    python_suites: Path, served_page: str, tmp_path: Path
) -> None:
    run = SeleniumAdapter(artifacts_dir=tmp_path).run(
        "check_selenium_pages.py",
        workdir=python_suites,
        env={"MAESTRO_FIXTURE_URL": served_page},
        timeout=180,
    )

    results = {result.name: result for result in run.iter_results()}
    assert results["test_title"].status is Status.PASSED
    failed = results["test_wrong_heading"]
    assert failed.status is Status.FAILED
    by_type = {attachment.media_type: Path(attachment.path) for attachment in failed.attachments}
    assert set(by_type) == {"image/png", "text/html"}
    assert by_type["image/png"].parent == tmp_path
    assert by_type["image/png"].read_bytes().startswith(b"\x89PNG")
    assert "<h1>Hello</h1>" in by_type["text/html"].read_text()
    assert run.framework == "selenium"


def test_a_grid_url_in_the_environment_needs_no_local_driver(
    python_suites: Path, served_page: str, webdriver_server: str, tmp_path: Path
) -> None:
    adapter = SeleniumAdapter(chromedriver=tmp_path / "no-chromedriver")

    run = adapter.run(
        "check_selenium_pages.py",
        workdir=python_suites,
        env={"MAESTRO_SELENIUM_REMOTE_URL": webdriver_server, "MAESTRO_FIXTURE_URL": served_page},
        extra_args=["-k", "test_title", f"--maestro-artifacts={tmp_path}"],
        timeout=180,
    )

    assert [(r.name, r.status) for r in run.iter_results()] == [("test_title", Status.PASSED)]


def test_a_missing_chromedriver_says_what_to_install(tmp_path: Path) -> None:
    adapter = SeleniumAdapter(chromedriver=tmp_path / "chromedriver")

    with pytest.raises(ToolNotFoundError, match="is not an executable file"):
        adapter.run("tests", workdir=tmp_path)


def test_a_test_with_a_very_long_id_still_gets_its_artifacts(
    served_page: str, tmp_path: Path
) -> None:
    # The file name was the whole node id: past 255 bytes nothing could be saved.
    (tmp_path / "test_long.py").write_text(
        "import os\n"
        "import pytest\n\n"
        "@pytest.mark.parametrize('case', ['x'], ids=['x' * 300])\n"
        "def test_heading(selenium_driver, case):\n"
        "    selenium_driver.get(os.environ['MAESTRO_FIXTURE_URL'])\n"
        "    assert case == 'y'\n"
    )
    run = SeleniumAdapter(artifacts_dir=tmp_path / "shots").run(
        "test_long.py", workdir=tmp_path, env={"MAESTRO_FIXTURE_URL": served_page}, timeout=180
    )

    [failed] = run.iter_results()
    assert failed.status is Status.FAILED
    assert sorted(a.media_type for a in failed.attachments) == ["image/png", "text/html"]
    assert all(Path(a.path).is_file() for a in failed.attachments)
    assert all(len(Path(a.path).name) <= 255 for a in failed.attachments)
