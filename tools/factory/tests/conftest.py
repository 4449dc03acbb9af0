"""Fixtures of the factory tests: a real pypiserver and throwaway workspaces built once."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the tests import factory_test_support

from factory_test_support import PypiServer, make_workspace, run_factory, start_pypiserver


@pytest.fixture
def pypiserver(tmp_path: Path) -> Iterator[PypiServer]:
    server = start_pypiserver(tmp_path / "index")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def built_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway workspace whose dist/ is built once (no smoke test) for the whole session."""
    root = make_workspace(tmp_path_factory.mktemp("built") / "ws")
    result = run_factory(root, "build", "--no-smoke-test")
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def workspace(built_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the built workspace (sources, git history and dist/)."""
    copy = tmp_path / "ws"
    shutil.copytree(built_workspace, copy, symlinks=True)
    return copy
