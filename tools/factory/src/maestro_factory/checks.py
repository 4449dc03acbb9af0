"""Release readiness: versions, changelog entries and inter-package requirements."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from packaging.version import InvalidVersion, Version

from maestro_factory.gitrepo import Git
from maestro_factory.workspace import Package, Workspace

__all__ = ["RELEASED_PATHS", "CheckReport", "Finding", "changelog_versions", "check_packages"]

#: Paths inside a package whose change alters what gets published (a new version is due).
RELEASED_PATHS = ("src/", "pyproject.toml")

_HEADING = re.compile(r"^##\s+\[(?P<version>[^\]]+)\]", re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    """One problem that blocks a release of *package*."""

    package: str
    message: str

    def __str__(self) -> str:
        return f"{self.package}: {self.message}"


@dataclass
class CheckReport:
    """Findings (blocking) and notes (informative) of ``factory check``."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing blocks the release."""
        return not self.findings


def changelog_versions(text: str) -> list[Version]:
    """Versions that have a ``## [x.y.z]`` entry in a Keep a Changelog file.

    >>> changelog_versions("## [Unreleased]\\n## [1.1.0] - 2026-11-27\\n## [1.0] - 2026-01-01\\n")
    [<Version('1.1.0')>, <Version('1.0')>]
    """
    versions = []
    for match in _HEADING.finditer(text):
        try:
            versions.append(Version(match["version"].strip()))
        except InvalidVersion:
            continue  # "Unreleased" and other non-version headings
    return versions


def check_packages(
    workspace: Workspace, packages: Iterable[Package], git: Git | None
) -> CheckReport:
    """Check each package for a valid, bumped version, a changelog entry and satisfiable siblings.

    Args:
        workspace: The workspace the packages belong to.
        packages: The packages to check.
        git: The repository, for the release tags; ``None`` skips the bump check.
    """
    report = CheckReport()
    if git is None:
        report.notes.append(
            "not a git repository: the version-bump check against release tags is skipped"
        )
    for package in packages:
        _check_package(workspace, package, git, report)
    return report


def _check_package(
    workspace: Workspace, package: Package, git: Git | None, report: CheckReport
) -> None:
    def fail(message: str) -> None:
        report.findings.append(Finding(package.name, message))

    try:
        version = Version(package.version)
    except InvalidVersion:
        fail(f"version {package.version!r} is not a valid PEP 440 version (for example 1.2.0)")
        return
    if str(version) != package.version:
        report.notes.append(f"{package.name}: version {package.version!r} normalises to {version}")

    for key, specifier in package.sibling_requirements.items():
        sibling = workspace.packages[key]
        if not specifier.contains(sibling.version, prereleases=True):
            fail(
                f"requires {sibling.name}{specifier} but the workspace has {sibling.name} "
                f"{sibling.version}: widen the range or release a matching {sibling.name}"
            )

    released = git.release_versions(package.name) if git else []
    latest = released[-1] if released else None
    if latest is not None and version < latest:
        fail(
            f"version {version} is lower than the released {latest} (tag {package.name}-v{latest})"
        )
        return
    changed: list[str] = []
    if latest is not None and git is not None:
        changed = [
            path
            for path in git.paths_changed_since_tag(f"{package.name}-v{latest}", package.directory)
            if _is_released_path(package, path, workspace)
        ]
        if changed and version == latest:
            shown = ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
            fail(
                f"code changed since tag {package.name}-v{latest} ({shown}) but the version is still "
                f"{version}: bump it in pyproject.toml and add a CHANGELOG entry"
            )
    if latest is None or version > latest:
        _check_changelog(package, version, fail)
    elif not changed:
        report.notes.append(
            f"{package.name} {version}: released (tag {package.name}-v{latest}), unchanged"
        )


def _is_released_path(package: Package, path: str, workspace: Workspace) -> bool:
    inside = (workspace.root / path).resolve().relative_to(package.directory).as_posix()
    return any(inside == prefix or inside.startswith(prefix) for prefix in RELEASED_PATHS)


def _check_changelog(package: Package, version: Version, fail: Callable[[str], None]) -> None:
    if not package.changelog.is_file():
        fail(
            f"{package.changelog.name} is missing: add one (Keep a Changelog) with a [{version}] entry"
        )
        return
    try:
        text = package.changelog.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        fail(f"{package.changelog.name} is not UTF-8 text ({error.reason} at byte {error.start})")
        return
    except OSError as error:
        fail(f"{package.changelog.name} cannot be read: {error.strerror or error}")
        return
    if version not in changelog_versions(text):
        fail(
            f"CHANGELOG.md has no entry for {version}: add a '## [{version}] - YYYY-MM-DD' section"
        )
