"""Checks that every package made from the Maestro template keeps (owned by the template)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import maestro_test_result_aggregator as package

DISTRIBUTION = "maestro-test-result-aggregator"
EXTRAS = ["analytics"]


def test_version_comes_from_the_installed_metadata() -> None:
    assert package.__version__ == importlib.metadata.version(DISTRIBUTION)


def test_package_is_marked_as_typed() -> None:
    package_dir = Path(package.__file__).parent
    assert (package_dir / "py.typed").is_file()


def test_public_names_exist() -> None:
    exported = package.__all__
    assert "__version__" in exported
    missing = [name for name in exported if not hasattr(package, name)]
    assert missing == []


def test_metadata_declares_requires_python_and_extras() -> None:
    metadata = importlib.metadata.metadata(DISTRIBUTION)
    assert metadata["Requires-Python"] == ">=3.11"
    declared = set(metadata.get_all("Provides-Extra") or [])
    assert declared == ({*EXTRAS, "all"} if EXTRAS else set())
    requirements = metadata.get_all("Requires-Dist") or []
    assert not [r for r in requirements if "file:" in r or " @ " in r]


SCRIPT = "maestro-results"


def test_console_script_is_installed() -> None:
    (script,) = importlib.metadata.entry_points(group="console_scripts", name=SCRIPT)
    assert script.value == "maestro_test_result_aggregator.cli:main"
    assert callable(script.load())
