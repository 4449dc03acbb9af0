"""Build, check and smoke-test the distributions of one package."""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from maestro_factory.errors import StepFailedError, UsageError
from maestro_factory.index import version_of
from maestro_factory.venvs import InstallSource, install_and_import, run_checked, uv_executable
from maestro_factory.workspace import Package

__all__ = [
    "Artefacts",
    "build_package",
    "find_artefacts",
    "smoke_test",
    "twine_check",
    "wheel_extras",
]


@dataclass(frozen=True)
class Artefacts:
    """The sdist and wheels of one package version in ``dist/<package>/``."""

    package: Package
    sdists: tuple[Path, ...]
    wheels: tuple[Path, ...]

    @property
    def files(self) -> tuple[Path, ...]:
        """Sdists first, then wheels (the order they are uploaded in)."""
        return self.sdists + self.wheels


def _version(package: Package) -> Version:
    try:
        return Version(package.version)
    except InvalidVersion:
        raise UsageError(
            f"{package.name}: version {package.version!r} is not a valid PEP 440 version; fix it (factory check)"
        ) from None


def find_artefacts(package: Package, dist_dir: Path) -> Artefacts:
    """The files of *package* at its current version in ``<dist_dir>/<name>/``."""
    folder = dist_dir / package.name
    wanted = (canonicalize_name(package.name), _version(package))
    files = (
        sorted(path for path in folder.glob("*") if version_of(path.name) == wanted)
        if folder.is_dir()
        else []
    )
    sdists = tuple(path for path in files if not path.name.endswith(".whl"))
    wheels = tuple(path for path in files if path.name.endswith(".whl"))
    return Artefacts(package, sdists, wheels)


def build_package(package: Package, dist_dir: Path) -> Artefacts:
    """Build the sdist, then the wheel from it, into a cleaned ``<dist_dir>/<name>/``.

    ``--no-sources`` makes the build use only the published metadata, never the
    workspace's development sources, exactly as a consumer's build would.

    Raises:
        StepFailedError: The build failed or did not produce one sdist and a wheel.
    """
    _version(package)  # fail before a slow build
    folder = dist_dir / package.name
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        if stale.is_file() and stale.name.endswith((".whl", ".tar.gz", ".zip")):
            stale.unlink()
    command = [
        uv_executable(),
        "build",
        "--quiet",
        "--no-sources",
        "--out-dir",
        str(folder),
        str(package.directory),
    ]
    run_checked(command, f"building {package.name}")
    artefacts = find_artefacts(package, dist_dir)
    if len(artefacts.sdists) != 1 or not artefacts.wheels:
        produced = ", ".join(path.name for path in folder.iterdir()) or "nothing"
        raise StepFailedError(
            f"building {package.name} {package.version} should give one sdist and a wheel in {folder}, got: {produced}"
        )
    return artefacts


def twine_check(files: Iterable[Path]) -> None:
    """``twine check --strict``: the metadata and the long description must render on an index.

    Raises:
        StepFailedError: twine reports an error or a warning.
    """
    paths = [str(path) for path in files]
    run_checked(
        [sys.executable, "-m", "twine", "check", "--strict", *paths], "twine check --strict"
    )


def wheel_extras(wheel: Path) -> list[str]:
    """The extras a wheel declares (``Provides-Extra``), from its METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        name = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
        if name is None:
            raise StepFailedError(f"{wheel.name} has no .dist-info/METADATA")
        metadata = HeaderParser().parsestr(archive.read(name).decode("utf-8"))
    return sorted(set(metadata.get_all("Provides-Extra") or []))


def smoke_test(
    artefacts: Artefacts, find_links: Iterable[Path], say: Callable[[str], None]
) -> None:
    """Install each wheel, alone and with each extra, into a fresh venv and import it from there.

    Sibling packages come from *find_links* (their freshly built wheels), third-party
    requirements from the configured index.
    """
    package = artefacts.package
    source = InstallSource(find_links=tuple(find_links))
    for wheel in artefacts.wheels:
        for extra in [None, *wheel_extras(wheel)]:
            spec = f"{package.name}[{extra}]" if extra else package.name
            modules = install_and_import(
                f"{spec} @ {wheel.resolve().as_uri()}", package.name, package.version, source=source
            )
            say(
                f"  {wheel.name}{f' [{extra}]' if extra else ''}: imported {', '.join(modules)} from a fresh venv"
            )
