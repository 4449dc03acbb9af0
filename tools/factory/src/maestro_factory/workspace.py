"""The packages of the repository and the dependencies between them.

A workspace is a folder with ``packages/<distribution>/pyproject.toml`` files
(PEP 621 metadata). Requirements that name another workspace package are the
edges of the dependency graph; everything else is a third-party requirement.
"""

from __future__ import annotations

import graphlib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from maestro_factory.errors import UsageError

__all__ = ["Package", "Workspace", "find_root"]

PACKAGES_DIR = "packages"


@dataclass(frozen=True)
class Package:
    """One distribution of the workspace, as its ``pyproject.toml`` declares it.

    Attributes:
        name: The distribution name as written in ``[project] name``.
        version: The version string as written (validated by ``factory check``).
        directory: The package folder.
        extras: The names of the optional-dependency groups.
        sibling_requirements: Requirement specifiers on other workspace packages,
            keyed by their normalised name (all groups merged).

    >>> p = Package("maestro-x", "1.0.0", Path("packages/maestro-x"))
    >>> p.key, p.tag
    ('maestro-x', 'maestro-x-v1.0.0')
    """

    name: str
    version: str
    directory: Path
    extras: tuple[str, ...] = ()
    sibling_requirements: Mapping[NormalizedName, SpecifierSet] = field(default_factory=dict)

    @property
    def key(self) -> NormalizedName:
        """The PEP 503 normalised name, used to compare and look packages up."""
        return canonicalize_name(self.name)

    @property
    def tag(self) -> str:
        """The git tag of this version: ``<distribution>-v<version>``."""
        return f"{self.name}-v{self.version}"

    @property
    def changelog(self) -> Path:
        """The package's ``CHANGELOG.md``."""
        return self.directory / "CHANGELOG.md"


def _read_pyproject(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path} is not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{path} is not valid TOML: it is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None


def _requirements(project: Mapping[str, object], path: Path) -> tuple[list[Requirement], list[str]]:
    raw: list[str] = list(_string_list(project.get("dependencies", []), path, "dependencies"))
    optional = project.get("optional-dependencies", {}) or {}
    if not isinstance(optional, dict):
        raise UsageError(f"{path}: [project.optional-dependencies] must be a table")
    for extra, items in optional.items():
        raw.extend(_string_list(items, path, f"optional-dependencies.{extra}"))
    requirements = []
    for text in raw:
        try:
            requirements.append(Requirement(text))
        except InvalidRequirement as error:
            raise UsageError(f"{path}: invalid requirement {text!r}: {error}") from error
    return requirements, sorted(str(extra) for extra in optional)


def _string_list(value: object, path: Path, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UsageError(f"{path}: [project] {what} must be a list of strings")
    return list(value)


def _load_package(pyproject: Path) -> tuple[Package, list[Requirement]]:
    data = _read_pyproject(pyproject)
    project = data.get("project")
    if not isinstance(project, dict):
        raise UsageError(f"{pyproject} has no [project] table (PEP 621 metadata is required)")
    name, version = project.get("name"), project.get("version")
    if not isinstance(name, str) or not isinstance(version, str):
        raise UsageError(f"{pyproject}: [project] needs a static 'name' and 'version'")
    requirements, extras = _requirements(project, pyproject)
    package = Package(name, version, pyproject.parent, tuple(extras))
    return package, requirements


@dataclass(frozen=True)
class Workspace:
    """All packages found under ``<root>/packages/*/pyproject.toml``.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name, deps in [("a", ""), ("b", '"a>=1,<2"')]:
    ...     (root / "packages" / name).mkdir(parents=True)
    ...     toml = f'[project]\\nname = "{name}"\\nversion = "1.0.0"\\ndependencies = [{deps}]\\n'
    ...     _ = (root / "packages" / name / "pyproject.toml").write_text(toml)
    >>> ws = Workspace.load(root)
    >>> [p.name for p in ws.in_dependency_order()]
    ['a', 'b']
    >>> dict(ws.get("B").sibling_requirements)
    {'a': <SpecifierSet('<2,>=1')>}
    """

    root: Path
    packages: Mapping[NormalizedName, Package]

    @classmethod
    def load(cls, root: Path) -> Workspace:
        """Read every ``packages/*/pyproject.toml`` under *root*.

        Raises:
            UsageError: No package was found or a ``pyproject.toml`` is unusable.
        """
        root = root.resolve()
        found = [
            _load_package(path) for path in sorted(root.glob(f"{PACKAGES_DIR}/*/pyproject.toml"))
        ]
        if not found:
            raise UsageError(
                f"no package found: {root}/{PACKAGES_DIR}/*/pyproject.toml matches nothing"
            )
        names = {package.key for package, _ in found}
        if len(names) < len(found):
            raise UsageError(_duplicates_message(package for package, _ in found))
        packages: dict[NormalizedName, Package] = {}
        for package, requirements in found:
            siblings: dict[NormalizedName, SpecifierSet] = {}
            for requirement in requirements:
                key = canonicalize_name(requirement.name)
                if key in names and key != package.key:
                    siblings[key] = siblings.get(key, SpecifierSet()) & requirement.specifier
            packages[package.key] = Package(
                package.name, package.version, package.directory, package.extras, siblings
            )
        workspace = cls(root, packages)
        workspace.in_dependency_order()  # fail early on a cycle
        return workspace

    def get(self, name: str) -> Package:
        """The package called *name* (any spelling PEP 503 considers equal).

        Raises:
            UsageError: No workspace package has that name.
        """
        try:
            return self.packages[canonicalize_name(name)]
        except KeyError:
            known = ", ".join(sorted(p.name for p in self.packages.values()))
            raise UsageError(f"unknown package {name!r}; the workspace has: {known}") from None

    def select(self, names: Iterable[str] | None) -> list[Package]:
        """The named packages (all when *names* is ``None``) in dependency order."""
        if names is None:
            return self.in_dependency_order()
        wanted = {self.get(name).key for name in names}
        return [p for p in self.in_dependency_order() if p.key in wanted]

    def in_dependency_order(self) -> list[Package]:
        """Every package after the packages it requires (ties broken by name).

        Raises:
            UsageError: The packages require each other in a cycle.
        """
        sorter: graphlib.TopologicalSorter[NormalizedName] = graphlib.TopologicalSorter()
        for key, package in self.packages.items():
            sorter.add(key, *package.sibling_requirements)
        try:
            sorter.prepare()
        except graphlib.CycleError as error:
            cycle = " -> ".join(error.args[1])
            raise UsageError(f"workspace packages require each other in a cycle: {cycle}") from None
        ordered: list[Package] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready())
            ordered.extend(self.packages[key] for key in ready)
            sorter.done(*ready)
        return ordered

    def owner_of(self, relative_path: str) -> Package | None:
        """The package whose folder contains *relative_path* (relative to the root)."""
        path = (self.root / relative_path).resolve()
        for package in self.packages.values():
            if path.is_relative_to(package.directory):
                return package
        return None


def _duplicates_message(packages: Iterable[Package]) -> str:
    folders: dict[NormalizedName, list[str]] = {}
    for package in packages:
        folders.setdefault(package.key, []).append(package.directory.name)
    clashes = "; ".join(
        f"{key} in {' and '.join(f'{PACKAGES_DIR}/{name}' for name in names)}"
        for key, names in folders.items()
        if len(names) > 1
    )
    return f"two workspace packages have the same distribution name: {clashes}; rename one"


def find_root(start: Path) -> Path:
    """The nearest folder at or above *start* that has a ``packages/`` folder and a ``pyproject.toml``.

    Raises:
        UsageError: There is no such folder.
    """
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / PACKAGES_DIR).is_dir():
            return candidate
    raise UsageError(
        f"{start} is not inside a factory workspace (no pyproject.toml next to a packages/ folder); "
        "run from the repository or pass --root"
    )
