"""Fixtures of the template tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from template_render import make_template_repo


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """A throw-away git repository holding the current template, committed once."""
    return make_template_repo(tmp_path / "template-repo")
