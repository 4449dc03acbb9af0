"""The release steps, each runnable alone, and ``ship``, which runs them all in order."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from maestro_factory._integrations import ReleaseAudit
from maestro_factory.building import (
    build_package,
    find_artefacts,
    smoke_test,
    twine_check,
    wheel_extras,
)
from maestro_factory.changes import ChangeSet, affected_packages
from maestro_factory.checks import CheckReport, check_packages
from maestro_factory.embedded import EmbeddedIndex
from maestro_factory.errors import StepFailedError, UsageError
from maestro_factory.gitrepo import Git
from maestro_factory.index import IndexConfig
from maestro_factory.publishing import PackageOutcome, PublishOptions, publish
from maestro_factory.venvs import (
    InstallSource,
    environment_without_secrets,
    install_and_import,
    run_checked,
)
from maestro_factory.workspace import Package, Workspace

__all__ = [
    "Context",
    "build_docs",
    "build_step",
    "changed_step",
    "check_step",
    "index_for",
    "publish_step",
    "test_step",
    "verify_install_step",
]


@dataclass(frozen=True)
class Context:
    """What every step needs: the workspace, its git repository, where to write, how to talk.

    Attributes:
        workspace: The packages.
        git: The repository, or ``None`` outside git.
        build_dir: The ignored build area (``build/``): embedded index, audit log.
        dist_dir: Where artefacts go (``dist/``, one folder per package).
        say: Prints one line for people (secrets already masked).
    """

    workspace: Workspace
    git: Git | None
    build_dir: Path
    dist_dir: Path
    say: Callable[[str], None]

    @classmethod
    def for_root(cls, root: Path, say: Callable[[str], None]) -> Context:
        """The context of the workspace at *root*, with the default build and dist folders."""
        workspace = Workspace.load(root)
        git = Git(workspace.root)
        return cls(
            workspace,
            git if git.is_repository() else None,
            workspace.root / "build",
            workspace.root / "dist",
            say,
        )

    def select(self, names: Sequence[str] | None, since: str | None) -> list[Package]:
        """The packages named, or changed since *since* (plus dependants), or all; dependency order."""
        if since is None:
            return self.workspace.select(names or None)
        chosen = {package.key for package in self.changes(since).packages}
        named = {package.key for package in self.workspace.select(names)} if names else chosen
        return [
            package
            for package in self.workspace.in_dependency_order()
            if package.key in chosen & named
        ]

    def changes(self, since: str) -> ChangeSet:
        """Packages affected by the changes since *since*."""
        if self.git is None:
            raise UsageError(
                f"--since {since} needs a git repository, and {self.workspace.root} is not in one"
            )
        return affected_packages(self.workspace, self.git.changed_paths(since))


def changed_step(context: Context, since: str) -> ChangeSet:
    """``factory changed``: the packages changed since *since* and their dependants."""
    return context.changes(since)


def check_step(context: Context, packages: Sequence[Package]) -> CheckReport:
    """``factory check``: versions, changelog entries, satisfiable sibling requirements."""
    report = check_packages(context.workspace, packages, context.git)
    for note in report.notes:
        context.say(f"note: {note}")
    for finding in report.findings:
        context.say(f"FAIL {finding}")
    if report.ok:
        context.say(f"check: {len(packages)} package(s) ready to release")
    return report


def test_step(context: Context, packages: Sequence[Package]) -> None:
    """Run each package's own test suite with the workspace environment's pytest.

    Raises:
        StepFailedError: A suite failed or collected no test.
    """
    for package in packages:
        context.say(f"test: {package.name}")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        # The output streams (long suites show progress); the suites never see the credentials.
        sys.stdout.flush()
        result = subprocess.run(
            command, cwd=package.directory, env=environment_without_secrets(), check=False
        )
        if result.returncode != 0:
            what = (
                "collected no test"
                if result.returncode == 5
                else f"failed (pytest exit {result.returncode})"
            )
            raise StepFailedError(f"the tests of {package.name} {what}; their output is above")


def build_step(context: Context, packages: Sequence[Package], *, smoke: bool = True) -> None:
    """Build sdist and wheel per package, ``twine check --strict`` them, smoke-test the wheels.

    The smoke test installs the workspace packages a wheel requires from their wheels in
    ``dist/``, never from an index: one that has no wheel of its current version there (it
    was not selected, as with ``--package`` or ``--since``) is built for it first.
    """
    built = []
    for package in packages:
        artefacts = build_package(package, context.dist_dir)
        twine_check(artefacts.files)
        context.say(
            f"build: {package.name} {package.version}: {', '.join(p.name for p in artefacts.files)} (twine check --strict ok)"
        )
        built.append(artefacts)
    if smoke:
        for sibling in _required_siblings(context.workspace, packages):
            if sibling not in packages and not find_artefacts(sibling, context.dist_dir).wheels:
                artefacts = build_package(sibling, context.dist_dir)
                context.say(
                    f"build: {sibling.name} {sibling.version}: {', '.join(p.name for p in artefacts.files)} "
                    "(needed to smoke-test the selected packages)"
                )
        siblings = [
            context.dist_dir / package.name for package in context.workspace.in_dependency_order()
        ]
        for artefacts in built:
            context.say(f"smoke test: {artefacts.package.name}")
            smoke_test(artefacts, [folder for folder in siblings if folder.is_dir()], context.say)


def _required_siblings(workspace: Workspace, packages: Sequence[Package]) -> list[Package]:
    """The workspace packages that *packages* require, directly or not, in dependency order."""
    needed: set[str] = set()
    for package in reversed(workspace.in_dependency_order()):  # dependants before dependencies
        if package in packages or package.key in needed:
            needed.update(package.sibling_requirements)
    return [package for package in workspace.in_dependency_order() if package.key in needed]


@contextlib.contextmanager
def index_for(context: Context, environ: dict[str, str] | None = None) -> Iterator[IndexConfig]:
    """The configured index (``NEXUS_URL`` ...) or, when none is, the embedded pypiserver."""
    config = IndexConfig.from_environment(os.environ if environ is None else environ)
    if config is not None:
        context.say(f"index: {config.describe()}")
        yield config
        return
    folder = context.build_dir / "index"
    with EmbeddedIndex(folder, log_file=context.build_dir / "index-server.log") as embedded:
        context.say(
            f"index: no NEXUS_URL set, so using the embedded pypiserver at {embedded.upload_url} "
            f"(packages kept in {folder})"
        )
        yield embedded


def publish_step(
    context: Context,
    packages: Sequence[Package],
    config: IndexConfig,
    *,
    audit_log: Path,
    options: PublishOptions,
) -> list[PackageOutcome]:
    """``factory publish``: upload what the index lacks, verify it, audit it, tag it."""
    if options.tag and context.git is None:
        context.say("note: not a git repository: the releases are published but not tagged")
    with ReleaseAudit(audit_log, key=os.environ.get("FACTORY_AUDIT_KEY") or None) as audit:
        outcomes = publish(
            context.workspace, packages, config,
            dist_dir=context.dist_dir, audit=audit, say=context.say, options=options, git=context.git,
        )  # fmt: skip
    uploaded = sum(len(outcome.uploaded) for outcome in outcomes)
    skipped = sum(len(outcome.skipped) for outcome in outcomes)
    context.say(
        f"publish: {uploaded} file(s) uploaded, {skipped} already on the index; audit log {audit_log}"
    )
    return outcomes


def verify_install_step(context: Context, packages: Sequence[Package], config: IndexConfig) -> None:
    """Install each package version, alone and with each extra, from the index into a fresh venv.

    With a group URL (``NEXUS_INDEX_URL``) that is the only index, as for consumers;
    otherwise the index is consulted first and PyPI (uv's default) serves the rest.
    Credentials reach uv through environment variables, never through arguments.
    """
    url = config.install_url
    if config.credentials is not None:
        parts = urllib.parse.urlsplit(url)
        user = urllib.parse.quote(config.credentials.username, safe="")
        secret = urllib.parse.quote(config.credentials.password, safe="")
        url = urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:{secret}@{parts.netloc}"))
    variable = "UV_DEFAULT_INDEX" if config.install_url_is_group else "UV_INDEX"
    names = tuple(package.name for package in context.workspace.in_dependency_order())
    source = InstallSource(environment={variable: url}, refresh=names)
    redact = config.redactor()
    for package in packages:
        wheels = find_artefacts(package, context.dist_dir).wheels
        extras = wheel_extras(wheels[0]) if wheels else list(package.extras)
        for extra in [None, *extras]:
            spec = (
                f"{package.name}[{extra}]=={package.version}"
                if extra
                else f"{package.name}=={package.version}"
            )
            modules = install_and_import(
                spec, package.name, package.version, source=source, redact=redact
            )
            context.say(
                f"verify install: {spec} from {config.install_url}: imported {', '.join(modules)}"
            )


def build_docs(context: Context) -> None:
    """Build the documentation site with ``mkdocs build --strict`` (the workspace's mkdocs).

    Raises:
        StepFailedError: There is no ``mkdocs.yml`` or the build reports a problem.
    """
    root = context.workspace.root
    if not (root / "mkdocs.yml").is_file():
        raise StepFailedError(
            f"docs: {root / 'mkdocs.yml'} does not exist, so the documentation site cannot be built. "
            "Add the docs site, or pass --skip-docs to ship without it"
        )
    run_checked(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        "docs: mkdocs build --strict",
        cwd=root,
    )
    context.say("docs: mkdocs build --strict ok")
