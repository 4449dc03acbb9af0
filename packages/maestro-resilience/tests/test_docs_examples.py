"""Every ```python block of README.md and docs/*.md runs as written (in order, per file)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from maestro_resilience import set_testing

PACKAGE = Path(__file__).resolve().parents[1]
DOCUMENTS = [PACKAGE / "README.md", *sorted((PACKAGE / "docs").glob("*.md"))]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_python_blocks_run(document: Path, tmp_path: Path) -> None:
    blocks = PYTHON_BLOCK.findall(document.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": "__docs__"}
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        for number, block in enumerate(blocks, start=1):
            exec(compile(block, f"{document.name}[block {number}]", "exec"), namespace)
    finally:
        os.chdir(previous)
        set_testing(False)  # an example may leave test mode on
