"""Every ```python block of the documentation runs as written.

One test per Markdown file: its ``python`` (or ``py``) blocks run in order, in one
namespace, in a fresh interpreter whose current directory is an empty temporary
folder. A failure names the file and the line of the failing block. Use ``pycon``
for an illustrative session and ``bash``/``console``/``text`` for the rest.
(Docstring ``>>>`` examples run in each package's own pytest ``--doctest-modules``.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

TIMEOUT_SECONDS = 300

# Runs in the child interpreter: the blocks arrive as JSON on stdin. Each block is
# compiled under the Markdown file's name with its real line numbers, so a traceback
# points into the document. The namespace is a real ``__main__`` module, so that
# dataclasses, pickling and ``typing.get_type_hints`` behave as in a script.
RUNNER = r"""
import json, sys, traceback, types
main = types.ModuleType("__main__")
main.__file__ = "<docs example>"
sys.modules["__main__"] = main
for block in json.load(sys.stdin):
    code = compile("\n" * (block["line"] - 1) + block["source"], block["file"], "exec")
    try:
        exec(code, main.__dict__)
    except BaseException:
        where = f"{block['file']}:{block['fence']}"
        print(f"{where}: the python block at line {block['fence']} failed:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
"""


def run_examples(
    hook: ModuleType, languages: frozenset[str], document: Path, shown_as: str, workdir: Path
) -> subprocess.CompletedProcess[str]:
    """Run the python blocks of ``document`` in order, in a fresh interpreter in ``workdir``."""
    blocks = [
        {
            "file": shown_as,
            "fence": block.fence_line,
            "line": block.body_start_line,
            "source": block.body,
        }
        for block in hook.iter_fenced_blocks(document.read_text(encoding="utf-8"))
        if block.language in languages
    ]
    return subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(blocks),
        cwd=workdir,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def test_python_examples_run(
    document_with_examples: Path,
    repo_root: Path,
    hook: ModuleType,
    example_languages: frozenset[str],
    tmp_path: Path,
) -> None:
    """One case per document (parametrised by conftest's pytest_generate_tests)."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    shown_as = document_with_examples.relative_to(repo_root).as_posix()
    result = run_examples(hook, example_languages, document_with_examples, shown_as, workdir)
    if result.returncode != 0:
        pytest.fail(
            result.stderr or result.stdout or f"exit code {result.returncode}", pytrace=False
        )


def test_a_failing_example_names_its_file_and_line(
    hook: ModuleType, example_languages: frozenset[str], tmp_path: Path
) -> None:
    document = tmp_path / "guide.md"
    document.write_text(
        "# Guide\n\n```python\ntotal = 1\n```\n\nText.\n\n"
        "```pycon\n>>> not run\n```\n\n```python\nassert total == 2, total\n```\n",
        encoding="utf-8",
    )
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    result = run_examples(hook, example_languages, document, "docs/guide.md", workdir)
    assert result.returncode == 1
    assert "docs/guide.md:13: the python block at line 13 failed" in result.stderr
    assert 'File "docs/guide.md", line 14' in result.stderr
    assert "AssertionError: 1" in result.stderr


def test_examples_run_in_an_empty_folder_in_one_namespace(
    hook: ModuleType, example_languages: frozenset[str], tmp_path: Path
) -> None:
    document = tmp_path / "README.md"
    document.write_text(
        "```python\nimport os\nfiles = os.listdir()\n```\n"
        "```py\nassert files == [], files\nassert __name__ == '__main__'\n```\n",
        encoding="utf-8",
    )
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    result = run_examples(hook, example_languages, document, "README.md", workdir)
    assert result.returncode == 0, result.stderr
