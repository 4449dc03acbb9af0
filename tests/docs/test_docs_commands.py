"""The shell commands of the developers' guide name files that exist and run as CI does."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

# The developers' guide: the root README and the site's own pages (package READMEs and
# how-tos are checked by their examples, in test_docs_examples.py).
GUIDE_DOCUMENTS = ("README.md", "docs/**/*.md")
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console"})
# pytest options whose value is the next word, not a path
PYTEST_OPTIONS_WITH_VALUE = frozenset({"-m", "-k", "-p", "-c", "-o", "--rootdir"})


def shell_commands(hook: ModuleType, text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(fence_line, words)`` for each command of the shell blocks of ``text``."""
    for block in hook.iter_fenced_blocks(text):
        if block.language not in SHELL_LANGUAGES:
            continue
        for line in block.body.replace("\\\n", " ").splitlines():
            try:
                words = shlex.split(line.removeprefix("$ "), comments=True)
            except ValueError:
                continue  # not a complete command (a heredoc line, a quoted newline)
            if words:
                yield block.fence_line, words


def pytest_paths(words: list[str]) -> list[str] | None:
    """The paths a ``uv run pytest ...`` command runs, or ``None`` for another command."""
    if words[:3] != ["uv", "run", "pytest"]:
        return None
    paths: list[str] = []
    arguments = iter(words[3:])
    for word in arguments:
        if word in PYTEST_OPTIONS_WITH_VALUE:
            next(arguments, None)
        elif not word.startswith("-"):
            paths.append(word.split("::")[0])
    return paths


def pytest_config_root(path: str) -> str:
    """The folder whose pytest settings apply: a package's own, else the repository's."""
    parts = Path(path).parts
    return "/".join(parts[:2]) if len(parts) >= 2 and parts[0] == "packages" else "."


def guide_documents(repo_root: Path) -> list[Path]:
    return sorted({path for pattern in GUIDE_DOCUMENTS for path in repo_root.glob(pattern)})


def test_pytest_commands_name_existing_paths_under_one_configuration(
    repo_root: Path, hook: ModuleType
) -> None:
    """``uv run pytest packages/a tests/x`` runs the package's tests under the root's
    settings (no doctests, other markers), unlike ``./dev test``: give them apart."""
    problems: list[str] = []
    for document in guide_documents(repo_root):
        shown = document.relative_to(repo_root).as_posix()
        for line, words in shell_commands(hook, document.read_text(encoding="utf-8")):
            paths = pytest_paths(words)
            if paths is None:
                continue
            problems.extend(
                f"{shown}:{line}: {path} does not exist"
                for path in paths
                if not (repo_root / path).exists()
            )
            if len({pytest_config_root(path) for path in paths}) > 1:
                problems.append(f"{shown}:{line}: one pytest run mixes {' '.join(paths)}")
    assert problems == []


def test_python_scripts_of_the_guides_exist(repo_root: Path, hook: ModuleType) -> None:
    missing = [
        f"{document.relative_to(repo_root).as_posix()}:{line}: {words[3]}"
        for document in guide_documents(repo_root)
        for line, words in shell_commands(hook, document.read_text(encoding="utf-8"))
        if words[:3] == ["uv", "run", "python"]
        and len(words) > 3
        and words[3].endswith(".py")
        and not (repo_root / words[3]).is_file()
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ('uv run pytest tests/docs -m "not browser"', ["tests/docs"]),
        ("uv run pytest packages/a/tests/test_x.py::test_y -q", ["packages/a/tests/test_x.py"]),
        ("uv run mkdocs build --strict", None),
    ],
)
def test_pytest_paths_skip_option_values(command: str, expected: list[str] | None) -> None:
    assert pytest_paths(shlex.split(command)) == expected


def test_package_and_root_paths_have_different_configurations() -> None:
    roots = {pytest_config_root(p) for p in ("tests/template/test_drift.py", "packages/a")}
    assert roots == {".", "packages/a"}
    assert pytest_config_root("packages/a/tests") == pytest_config_root("packages/a/src")
