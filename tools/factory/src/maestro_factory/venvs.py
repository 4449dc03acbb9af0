"""Install a requirement into a brand-new virtual environment and import it from there.

The import runs with ``python -I`` from an empty temporary folder, so neither the
source tree nor the current directory can shadow the installed files; every
imported module must come from inside the new environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from maestro_factory.errors import StepFailedError, UsageError
from maestro_factory.index import Redactor

__all__ = [
    "InstallSource",
    "environment_without_secrets",
    "install_and_import",
    "run_checked",
    "uv_executable",
]

_NO_SECRETS = Redactor()

# Runs inside the new environment: import every top-level module of the distribution.
_PROBE = """
import importlib, importlib.metadata as md, json, sys
dist = md.distribution(sys.argv[1])
tops = set()
for path in dist.files or ():
    head = path.parts[0] if path.parts else ""
    if head in ("..", "__pycache__") or head.endswith((".dist-info", ".data")):
        continue
    if len(path.parts) > 1 or path.suffix == ".py":
        tops.add(head.removesuffix(".py"))
modules = {name: importlib.import_module(name).__file__ for name in sorted(tops)}
print(json.dumps({"version": dist.version, "modules": modules}))
"""


#: Variables that hold secrets: no child process (tests, builds, installs) needs them.
SECRET_VARIABLES = frozenset(
    {"NEXUS_PASSWORD", "NEXUS_TOKEN", "NEXUS_URL", "NEXUS_INDEX_URL", "FACTORY_AUDIT_KEY"}
)


def environment_without_secrets() -> dict[str, str]:
    """The current environment minus the index credentials and the audit key.

    >>> import os
    >>> os.environ["NEXUS_PASSWORD"] = "x"
    >>> "NEXUS_PASSWORD" in environment_without_secrets()
    False
    >>> del os.environ["NEXUS_PASSWORD"]
    """
    return {key: value for key, value in os.environ.items() if key not in SECRET_VARIABLES}


def uv_executable() -> str:
    """The uv binary: the one running us (``$UV``, set by ``uv run``) or the first on ``PATH``.

    Raises:
        UsageError: uv cannot be found.
    """
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise UsageError(
            "uv is needed to create test environments: install it (pip install uv) or run via `uv run`"
        )
    return found


@dataclass(frozen=True)
class InstallSource:
    """Where the installer finds packages.

    Attributes:
        find_links: Folders with distribution files (the freshly built siblings).
        environment: Extra environment variables for uv (``UV_INDEX`` and friends,
            so that a URL with credentials never appears on a command line).
        refresh: Packages whose cached index pages must be revalidated.
    """

    find_links: tuple[Path, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    refresh: tuple[str, ...] = ()


def install_and_import(
    requirement: str,
    distribution: str,
    version: str,
    *,
    source: InstallSource,
    redact: Callable[[str], str] = _NO_SECRETS,
) -> list[str]:
    """Install *requirement* into a new venv, import every module of *distribution*, return their names.

    Args:
        requirement: What to install, e.g. ``"maestro-x[extra]==1.0.0"`` or ``"maestro-x @ file:///..."``.
        distribution: The distribution whose modules are imported.
        version: The version that must end up installed.
        source: Where the installer looks for packages.
        redact: Masks secrets in error output.

    Raises:
        StepFailedError: The install or an import failed, the installed version is not
            *version*, or a module was imported from outside the environment.
    """
    uv = uv_executable()
    with tempfile.TemporaryDirectory(prefix="factory-venv-") as tmp:
        venv, cwd = Path(tmp) / "venv", Path(tmp) / "cwd"
        cwd.mkdir()
        env = {**environment_without_secrets(), **source.environment}
        env.pop("VIRTUAL_ENV", None)

        def run(command: list[str], what: str) -> subprocess.CompletedProcess[str]:
            return run_checked(command, what, env=env, cwd=cwd, redact=redact)

        run(
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            f"creating a venv for {requirement}",
        )
        python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        command = [uv, "pip", "install", "--quiet", "--python", str(python), requirement]
        for folder in source.find_links:
            command += ["--find-links", str(folder)]
        for name in source.refresh:
            command += ["--refresh-package", name]
        run(command, f"installing {requirement}")
        probe = run([str(python), "-I", "-c", _PROBE, distribution], f"importing {distribution}")
        report = json.loads(probe.stdout)
        if report["version"] != version:
            raise StepFailedError(
                f"{requirement}: installed {distribution} {report['version']}, expected {version}"
            )
        if not report["modules"]:
            raise StepFailedError(f"{requirement}: {distribution} installs no importable module")
        root = venv.resolve()
        for module, location in report["modules"].items():
            if location is None or not Path(location).resolve().is_relative_to(root):
                raise StepFailedError(
                    f"{requirement}: {module} was imported from {location}, not from the new environment"
                )
        return sorted(report["modules"])


def run_checked(
    command: Sequence[str],
    what: str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    redact: Callable[[str], str] = _NO_SECRETS,
) -> subprocess.CompletedProcess[str]:
    """Run *command* with its output captured; a failure shows the end of that output.

    Args:
        command: The program and its arguments.
        what: What the command does, for the error message (``"building x"``).
        env: The environment; defaults to :func:`environment_without_secrets`.
        cwd: The working directory; defaults to the current one.
        redact: Masks secrets in the error message.

    Raises:
        StepFailedError: The command exited with a non-zero status.

    >>> run_checked([sys.executable, "-c", "print('hi')"], "greeting").stdout
    'hi\\n'
    """
    result = subprocess.run(
        command,
        env=environment_without_secrets() if env is None else dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        output = redact((result.stderr + result.stdout).strip()[-3000:])
        raise StepFailedError(f"{what} failed (exit {result.returncode}):\n{output}")
    return result
