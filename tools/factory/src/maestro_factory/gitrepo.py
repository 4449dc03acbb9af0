"""The few git questions the factory asks: what changed since a ref, which release tags exist."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from maestro_factory.errors import FactoryError, UsageError

__all__ = ["Git"]


@dataclass(frozen=True)
class Git:
    """Runs git in one repository.

    >>> import tempfile
    >>> Git(Path(tempfile.mkdtemp())).is_repository()
    False
    """

    root: Path

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            result = subprocess.run(
                ["git", "-C", str(self.root), *args],
                capture_output=True,
                text=True,
                check=False,
            )
        except FileNotFoundError:
            raise UsageError("git is not installed or not on PATH") from None
        if check and result.returncode != 0:
            raise FactoryError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def is_repository(self) -> bool:
        """Whether :attr:`root` is inside a git work tree."""
        return self._run("rev-parse", "--is-inside-work-tree", check=False).returncode == 0

    def resolve(self, ref: str) -> str:
        """The commit *ref* names.

        Raises:
            UsageError: *ref* names no commit (a typo, or a shallow clone without it).
        """
        result = self._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if result.returncode != 0:
            raise UsageError(
                f"git ref {ref!r} does not name a commit here; fetch it first "
                "(CI: actions/checkout with fetch-depth: 0) or pass another --since"
            )
        return result.stdout.strip()

    def changed_paths(self, since: str) -> set[str]:
        """Paths (relative to the repository root) that differ from the merge base with *since*.

        Committed, staged, unstaged and untracked (not ignored) changes all count,
        so the answer is the same locally and in CI. The null commit (all zeros,
        GitHub's ``github.event.before`` on the first push of a branch) is before
        everything: every file counts as changed.
        """
        top = Path(self._run("rev-parse", "--show-toplevel").stdout.strip())
        if is_null_commit(since):  # nothing came before: every file is new
            listed = self._run(
                "ls-files", "--cached", "--others", "--exclude-standard", "--full-name"
            ).stdout
            paths = {line for line in listed.splitlines() if line}
        else:
            base = self._run("merge-base", self.resolve(since), "HEAD").stdout.strip()
            diffed = self._run("diff", "--name-only", "--no-renames", base).stdout.splitlines()
            untracked = self._run(
                "ls-files", "--others", "--exclude-standard", "--full-name"
            ).stdout
            paths = {line for line in diffed + untracked.splitlines() if line}
        return {
            _relative(top / path, self.root) for path in paths if _inside(top / path, self.root)
        }

    def release_versions(self, distribution: str) -> list[Version]:
        """Versions with a ``<distribution>-v<version>`` tag, lowest first."""
        prefix = f"{distribution}-v"
        versions = []
        for tag in self._run("tag", "--list", f"{prefix}*").stdout.split():
            try:
                versions.append(Version(tag.removeprefix(prefix)))
            except InvalidVersion:
                continue
        return sorted(versions)

    def paths_changed_since_tag(self, tag: str, directory: Path) -> list[str]:
        """Files under *directory* that differ between *tag* and the work tree.

        The paths are relative to :attr:`root`, also when it is a folder inside the repository.
        """
        relative = directory.resolve().relative_to(self.root.resolve())
        out = self._run(
            "diff", "--name-only", "--relative", tag, "--", str(relative)
        ).stdout.splitlines()
        untracked = self._run(
            "ls-files", "--others", "--exclude-standard", "--", str(relative)
        ).stdout
        return sorted({line for line in out + untracked.splitlines() if line})

    def tag_exists(self, tag: str) -> bool:
        """Whether the tag exists locally."""
        return (
            self._run(
                "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}", check=False
            ).returncode
            == 0
        )

    def create_tag(self, tag: str, message: str) -> bool:
        """Create an annotated tag on ``HEAD``; ``False`` when it already exists."""
        if self.tag_exists(tag):
            return False
        identity: tuple[str, ...] = ()
        if self._run("config", "user.email", check=False).returncode != 0:
            # A fresh CI checkout has no identity; annotated tags need one.
            identity = ("-c", "user.name=maestro-factory", "-c", "user.email=factory@localhost")
        self._run(*identity, "tag", "--annotate", "--message", message, tag)
        return True


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _relative(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def is_null_commit(ref: str) -> bool:
    """Whether *ref* is git's null object id (40 or, in SHA-256 repositories, 64 zeros).

    >>> is_null_commit("0" * 40), is_null_commit("HEAD")
    (True, False)
    """
    return len(ref) in (40, 64) and not ref.strip("0")
