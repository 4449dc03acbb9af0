"""``factory build`` (artefacts, twine check, smoke test from the wheel) and ``factory ship`` end to end."""

from __future__ import annotations

from pathlib import Path

from factory_test_support import audit_records, git, make_workspace, run_factory, write_package


def test_build_checks_and_smoke_tests_every_wheel_and_extra(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")

    result = run_factory(root, "build", "--package", "tp-alpha", "--package", "tp-beta")

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (root / "dist" / "tp-beta").glob("tp_beta-*")) == [
        "tp_beta-1.0.0-py3-none-any.whl",
        "tp_beta-1.0.0.tar.gz",
    ]
    assert "(twine check --strict ok)" in result.stdout
    # tp-beta needs tp-alpha, which is on no index: it came from the fresh build via --find-links
    assert "tp_beta-1.0.0-py3-none-any.whl: imported tp_beta from a fresh venv" in result.stdout
    assert (
        "tp_beta-1.0.0-py3-none-any.whl [fast]: imported tp_beta from a fresh venv" in result.stdout
    )
    assert not (root / "dist" / "tp-gamma").exists()


def test_building_a_dependant_alone_builds_what_its_smoke_test_needs(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")  # a fresh clone: nothing in dist/

    result = run_factory(root, "build", "--package", "tp-beta")

    assert result.returncode == 0, result.stderr
    # tp-alpha is on no index: without its wheel the install would look for it on PyPI
    assert "build: tp-alpha 1.0.0: " in result.stdout
    assert "(needed to smoke-test the selected packages)" in result.stdout
    assert (root / "dist" / "tp-alpha" / "tp_alpha-1.0.0-py3-none-any.whl").is_file()
    assert "tp_beta-1.0.0-py3-none-any.whl: imported tp_beta from a fresh venv" in result.stdout
    assert "smoke test: tp-alpha" not in result.stdout  # only the selected package is tested
    assert not (root / "dist" / "tp-gamma").exists()


def test_a_wheel_that_cannot_be_imported_fails_the_smoke_test(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    module = root / "packages" / "tp-gamma" / "src" / "tp_gamma" / "__init__.py"
    module.write_text("import tp_undeclared_dependency  # present nowhere\n")

    result = run_factory(root, "build", "--package", "tp-gamma")

    assert result.returncode == 1
    assert "importing tp-gamma failed" in result.stderr
    assert "No module named 'tp_undeclared_dependency'" in result.stderr


def test_a_build_failure_is_reported(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    pyproject = root / "packages" / "tp-gamma" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('include = "tp_gamma"', 'include = "tp_missing"')
    )

    result = run_factory(root, "build", "--package", "tp-gamma", "--no-smoke-test")

    assert result.returncode == 1
    assert "building tp-gamma failed" in result.stderr


def add_docs(root: Path) -> None:
    (root / "mkdocs.yml").write_text("site_name: Throwaway\nsite_dir: build/site\n")
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text("# Throwaway\n\nHello.\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "docs")


def test_ship_runs_the_whole_release_on_the_embedded_index(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    add_docs(root)

    first = run_factory(root, "ship")

    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    steps = ["check: 3 package(s)", "test: tp-alpha", "build: tp-alpha", "smoke test: tp-beta",
             "index: no NEXUS_URL set", "publish: 6 file(s) uploaded", "verify install: tp-beta[fast]==1.0.0",
             "docs: mkdocs build --strict ok", "ship: done"]  # fmt: skip
    positions = [out.index(step) for step in steps]
    assert positions == sorted(positions)
    assert sorted(p.name for p in (root / "build" / "index").iterdir()) == sorted(
        p.name for p in (root / "dist").glob("*/*") if p.name.endswith((".whl", ".tar.gz"))
    )
    assert (root / "build" / "site" / "index.html").is_file()
    records = audit_records(root)
    assert sum(r["action"] == "publish" for r in records) == 6
    assert git(root, "tag", "--list") == ""  # the embedded index is a demo: no release tags

    second = run_factory(root, "ship", "--skip-tests")

    assert second.returncode == 0, second.stdout + second.stderr
    assert "publish: 0 file(s) uploaded, 6 already on the index" in second.stdout


def test_ship_without_a_docs_site_says_so(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")

    result = run_factory(root, "ship", "--skip-tests", "--package", "tp-gamma")

    assert result.returncode == 1
    assert "mkdocs.yml does not exist, so the documentation site cannot be built" in result.stderr
    assert "pass --skip-docs" in result.stderr
    assert "publish: 2 file(s) uploaded" in result.stdout  # everything before the docs step ran


def test_ship_stops_at_a_failing_check(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    write_package(root, "tp-gamma", "1.0.1")  # a version without its own changelog entry...
    (root / "packages" / "tp-gamma" / "CHANGELOG.md").write_text("# Changelog\n\n## [Unreleased]\n")

    result = run_factory(root, "ship")

    assert result.returncode == 1
    assert "FAIL tp-gamma: CHANGELOG.md has no entry for 1.0.1" in result.stdout
    assert not (root / "dist").exists()


def test_ship_stops_at_failing_tests(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    (root / "packages" / "tp-gamma" / "tests" / "test_it.py").write_text(
        "def test_no():\n    assert 1 == 2\n"
    )

    result = run_factory(root, "ship", "--skip-docs")

    assert result.returncode == 1
    assert "the tests of tp-gamma failed" in result.stderr
    assert not (root / "build" / "index").exists()


def test_ship_to_a_configured_index_tags_and_keeps_credentials_from_the_tests(
    tmp_path: Path,
) -> None:
    from factory_test_support import start_pypiserver

    root = make_workspace(tmp_path / "ws")
    (root / "packages" / "tp-gamma" / "tests" / "test_it.py").write_text(
        "import os\n\ndef test_no_secrets_here():\n"
        "    assert not {'NEXUS_URL', 'NEXUS_PASSWORD', 'FACTORY_AUDIT_KEY'} & set(os.environ)\n"
    )
    git(root, "commit", "-qam", "a test that looks for secrets")
    server = start_pypiserver(tmp_path / "index")  # open for uploads: the credentials are ignored
    env = {"NEXUS_URL": server.url, "NEXUS_USERNAME": "ci", "NEXUS_PASSWORD": "pass-Never-Shown"}
    try:
        result = run_factory(root, "ship", "--skip-docs", "--package", "tp-gamma", env=env)
    finally:
        server.stop()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "pass-Never-Shown" not in result.stdout + result.stderr
    assert git(root, "tag", "--list").split() == ["tp-gamma-v1.0.0"]
    assert "tagged tp-gamma-v1.0.0" in result.stdout
    assert git(root, "cat-file", "-t", "tp-gamma-v1.0.0").strip() == "tag"  # annotated


def test_building_an_invalid_version_is_an_input_error(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    pyproject = root / "packages" / "tp-gamma" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0.0"', 'version = "latest"'))

    result = run_factory(root, "build", "--package", "tp-gamma")

    assert result.returncode == 2
    assert "tp-gamma: version 'latest' is not a valid PEP 440 version" in result.stderr
