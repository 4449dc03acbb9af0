"""Which packages a change touches: the packages whose files changed, plus their dependants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName

from maestro_factory.workspace import Package, Workspace

__all__ = ["WORKSPACE_WIDE_FILES", "ChangeSet", "affected_packages"]

#: Root files whose change can alter any package's build or test environment.
WORKSPACE_WIDE_FILES = frozenset({"pyproject.toml", "uv.lock"})


@dataclass(frozen=True)
class ChangeSet:
    """The affected packages, in dependency order, each with the reason it is included.

    >>> from pathlib import Path
    >>> ChangeSet(Path("."), (), {}).as_json("main")["matrix"]
    {'include': []}
    """

    root: Path
    packages: tuple[Package, ...]
    reasons: dict[NormalizedName, str]

    def as_json(self, since: str) -> dict[str, object]:
        """A JSON document for a CI matrix (``fromJSON(...).matrix``) and for people."""
        entries = [
            {
                "package": package.name,
                "directory": package.directory.relative_to(self.root).as_posix(),
                "version": package.version,
                "reason": self.reasons[package.key],
            }
            for package in self.packages
        ]
        return {
            "since": since,
            "packages": [package.name for package in self.packages],
            "matrix": {"include": entries},
        }


def affected_packages(workspace: Workspace, changed_paths: Iterable[str]) -> ChangeSet:
    """Packages whose files are among *changed_paths*, then every package requiring them.

    A change to a workspace-wide file (:data:`WORKSPACE_WIDE_FILES`) affects every package.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name, deps in [("a", ""), ("b", '"a>=1"'), ("c", "")]:
    ...     (root / "packages" / name).mkdir(parents=True)
    ...     toml = f'[project]\\nname = "{name}"\\nversion = "1"\\ndependencies = [{deps}]\\n'
    ...     _ = (root / "packages" / name / "pyproject.toml").write_text(toml)
    >>> change = affected_packages(Workspace.load(root), ["packages/a/src/a/x.py"])
    >>> [(p.name, change.reasons[p.key]) for p in change.packages]
    [('a', 'files changed'), ('b', 'depends on a')]
    """
    paths = list(changed_paths)
    reasons: dict[NormalizedName, str] = {}
    if WORKSPACE_WIDE_FILES & set(paths):
        wide = ", ".join(sorted(WORKSPACE_WIDE_FILES & set(paths)))
        reasons = {key: f"workspace file changed ({wide})" for key in workspace.packages}
    for path in paths:
        owner = workspace.owner_of(path)
        if owner is not None:
            reasons.setdefault(owner.key, "files changed")
    ordered = workspace.in_dependency_order()
    for package in ordered:  # dependencies come first, so dependants of dependants follow
        requires = sorted(set(package.sibling_requirements) & set(reasons))
        if requires:
            reasons.setdefault(package.key, "depends on " + ", ".join(requires))
    affected = tuple(package for package in ordered if package.key in reasons)
    return ChangeSet(workspace.root, affected, reasons)
